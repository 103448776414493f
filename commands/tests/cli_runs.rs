//! The built `sharesync` binary's apply path against one simulated plex.tv that outlives the
//! processes: `sync --save-plan`, `apply FILE` (stale-checked), `sync --apply`, `runs`,
//! `runs RUN`, and `undo RUN` (refused without confirmation off a terminal, done with --yes).
//! Several processes on one data directory: one writer per destination (the lease), a killed
//! run recorded as interrupted, an undo refused while an apply holds the destination.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::store::Store;

struct Fake {
    sandbox: Sandbox,
    _runtime: tokio::runtime::Runtime,
}

fn fake() -> Fake {
    fake_of(Scenario::demo())
}

fn fake_of(scenario: Scenario) -> Fake {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime.block_on(Sandbox::start(scenario)).unwrap();
    Fake {
        sandbox,
        _runtime: runtime,
    }
}

/// The binary in `dir` (its data directory is `dir/data`) against the fake, no real config.
fn sharesync(fake: &Fake, dir: &tempfile::TempDir) -> Command {
    Command::from_std(process(fake, dir))
}

/// [`sharesync`] as a process to start and leave running.
fn process(fake: &Fake, dir: &tempfile::TempDir) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharesync"));
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USER", "tester")
        .env("PLEX_TV_URL", fake.sandbox.url())
        .env("PLEX_ACCOUNT_TOKEN", fake.sandbox.owner_token())
        .env("PLEX_SERVER_SOURCE", "noodle")
        .env("PLEX_SERVER_DEST", "doodoo")
        .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0");
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn writes(fake: &Fake) -> usize {
    fake.sandbox
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

#[test]
fn save_apply_list_show_and_undo() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();

    // A reviewed plan, then a change on plex.tv: the saved plan is stale, nothing is written.
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode();
        // Plans and the record hold e-mail addresses.
        assert_eq!(mode(dir.path().join("plan.json")) & 0o777, 0o600);
    }
    let before = fake.sandbox.world();
    let mid = before.server_by_name("doodoo").unwrap().machine_id.clone();
    let alice = before.account_by_name("alice").unwrap().id;
    let extra = before
        .server_by_name("doodoo")
        .unwrap()
        .libraries
        .iter()
        .map(|l| l.id)
        .find(|id| {
            !before
                .visible_section_ids(&mid, alice)
                .unwrap_or_default()
                .contains(id)
        })
        .unwrap();
    let original = fake.sandbox.with_world(|w| {
        let share = w
            .shares
            .values_mut()
            .find(|s| s.machine_id == mid && s.account_id == Some(alice))
            .unwrap();
        let original = share.section_ids.clone();
        share.section_ids.insert(extra);
        original
    });
    fake.sandbox.clear_requests();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(!ok, "a stale plan must not apply: {out}");
    assert!(
        err.contains("nothing was written") && err.contains("alice"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);

    // Put it back: the saved plan is current again and applies.
    fake.sandbox.with_world(|w| {
        let share = w
            .shares
            .values_mut()
            .find(|s| s.machine_id == mid && s.account_id == Some(alice))
            .unwrap();
        share.section_ids = original;
    });
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Summary (run 1):"), "{out}");
    assert!(out.contains("Failures: 0"), "{out}");
    assert!(
        err.contains("alice: written"),
        "plain progress lines off a terminal: {err}"
    );
    let applied_writes = writes(&fake);
    assert!(applied_writes > 0);

    // Converged: `sync --apply` has nothing to do and writes nothing.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(ok, "{err}");
    assert!(out.contains("Nothing to apply"), "{out}");
    assert_eq!(writes(&fake), applied_writes);

    // The record.
    let (ok, out, _) = run(sharesync(&fake, &dir).arg("runs"));
    assert!(ok);
    assert!(
        out.contains("#1") && out.contains("finished") && out.contains("cli:tester"),
        "{out}"
    );
    let (ok, out, _) = run(sharesync(&fake, &dir).args(["runs", "1"]));
    assert!(ok);
    assert!(out.contains("alice (grant): applied"), "{out}");
    assert!(out.contains("[verified]"), "{out}");
    let (ok, out, _) = run(sharesync(&fake, &dir).args(["runs", "1", "--json"]));
    assert!(ok);
    let detail: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(detail["run"]["status"], "finished");

    // Undo asks first; off a terminal without --yes it refuses and changes nothing.
    let world = fake.sandbox.world();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["undo", "1"]));
    assert!(!ok);
    assert!(out.contains("REMOVES access"), "{out}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(fake.sandbox.world(), world);

    let (ok, out, err) = run(sharesync(&fake, &dir).args(["undo", "1", "--yes"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Library grants removed:"), "{out}");
    let after = fake.sandbox.world();
    for (id, share) in &before.shares {
        // Back to the start: every share the run touched holds what it held before.
        if share.machine_id == mid {
            let now = after
                .shares
                .get(id)
                .expect("pre-existing shares are never deleted");
            assert_eq!(now.section_ids, share.section_ids, "share {id}");
            assert_eq!(now.all_libraries, share.all_libraries);
        }
    }
    assert_eq!(
        after.shares_on(&mid).count(),
        before.shares_on(&mid).count(),
        "shares the run created are deleted"
    );
    let (_, out, _) = run(sharesync(&fake, &dir).arg("runs"));
    assert!(out.contains("undo of run 1"), "{out}");
}

/// Enough accounts, and a slow enough plex.tv, that an apply takes a while.
fn slow_fake() -> Fake {
    let fake = fake_of(Scenario::generated(40, 6, 7));
    fake.sandbox.set_latency(Duration::from_millis(100));
    fake
}

fn runs_json(fake: &Fake, dir: &tempfile::TempDir) -> Vec<serde_json::Value> {
    let (ok, out, err) = run(sharesync(fake, dir).args(["runs", "--json"]));
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two `sync --apply` started together on one data directory: exactly one writes; the other
/// stops before its stale check, names the run in progress, and exits with the busy code.
#[test]
fn two_applies_at_once_one_writes_and_the_other_exits_busy() {
    let fake = slow_fake();
    let dir = tempfile::tempdir().unwrap();
    // One write at a time: the winner holds the destination for seconds (36 writes x 100 ms),
    // far longer than the two processes' start-up can differ on a loaded machine.
    let spawn = || {
        process(&fake, &dir)
            .args(["sync", "--apply"])
            .env("SHARESYNC_LIMITS__CONCURRENCY", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    let busy: Vec<&std::process::Output> = outputs
        .iter()
        .filter(|o| o.status.code() == Some(75))
        .collect();
    let said: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).to_string())
        .collect();
    assert_eq!(busy.len(), 1, "exactly one is refused: {codes:?} {said:?}");
    assert!(codes.contains(&Some(0)), "the other applies: {codes:?}");
    let err = String::from_utf8_lossy(&busy[0].stderr);
    assert!(
        err.contains("another run is in progress on doodoo: ")
            && err.contains(" by cli:tester)")
            && err.contains("nothing was written"),
        "{err}"
    );
    let runs = runs_json(&fake, &dir);
    assert_eq!(runs.len(), 1, "one run recorded: {runs:?}");
    assert_eq!(runs[0]["status"], "finished");
    assert_eq!(
        runs[0]["summary"]["write_requests"].as_u64().unwrap() as usize,
        writes(&fake),
        "every write plex.tv saw is the one run's"
    );
    assert!(writes(&fake) > 10);
}

/// An apply killed with SIGKILL part way: `runs` shows it interrupted at once (its pid is
/// gone), and the next apply takes the destination over and converges, nothing lost.
#[test]
fn a_killed_apply_is_interrupted_and_the_rerun_converges() {
    let fake = slow_fake();
    let dir = tempfile::tempdir().unwrap();
    let before = fake.sandbox.world();
    let mut child = process(&fake, &dir)
        .args(["sync", "--apply"])
        .env("SHARESYNC_LIMITS__CONCURRENCY", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the first write", || writes(&fake) > 0);
    child.kill().unwrap(); // SIGKILL: no chance to record anything
    child.wait().unwrap();
    let written_before_kill = writes(&fake);

    let runs = runs_json(&fake, &dir);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "interrupted", "{:?}", runs[0]);

    fake.sandbox.set_latency(Duration::ZERO);
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(ok, "{out}\n{err}");
    assert!(writes(&fake) > written_before_kill);
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--json"]));
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["summary"]["users_to_update"], 0, "converged: {out}");
    let after = fake.sandbox.world();
    for server in &before.servers {
        for account in before.accounts.keys() {
            let had = before
                .visible_section_ids(&server.machine_id, *account)
                .unwrap_or_default();
            let has = after
                .visible_section_ids(&server.machine_id, *account)
                .unwrap_or_default();
            assert!(has.is_superset(&had), "account {account} lost access");
        }
    }
    let runs = runs_json(&fake, &dir);
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["finished", "interrupted"]);
}

/// `undo` while an apply holds the destination is refused before it reads or writes.
#[test]
fn undo_during_an_apply_is_refused() {
    let fake = fake_of(Scenario::generated(40, 6, 7));
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--json"]));
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = plan["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["outcome"] == "grant")
        .unwrap()["account_id"]
        .to_string();
    let (ok, out, err) =
        run(sharesync(&fake, &dir).args(["sync", "--apply", "--only-user", &first]));
    assert!(ok, "{out}\n{err}");

    fake.sandbox.set_latency(Duration::from_millis(100));
    let mut apply = process(&fake, &dir)
        .args(["sync", "--apply"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("data").join("sharesync.sqlite");
    wait_until("the apply holds the destination", || {
        Store::open(&db).is_ok_and(|s| !s.leases().unwrap_or_default().is_empty())
    });
    let out = sharesync(&fake, &dir)
        .args(["undo", "1", "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(
        err.contains("another run is in progress on doodoo"),
        "{err}"
    );
    assert!(apply.wait().unwrap().success());
    let runs = runs_json(&fake, &dir);
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["kind"] == "apply"), "{runs:?}");
}

/// `apply FILE` with a plan made for other servers than the pair's (here: the pair reversed)
/// is refused before anything is read for a stale check or written.
#[test]
fn apply_refuses_a_plan_for_other_servers_than_the_pairs() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    let (ok, out, err) = run(sharesync(&fake, &dir)
        .env("PLEX_SERVER_SOURCE", "doodoo")
        .env("PLEX_SERVER_DEST", "noodle")
        .args(["apply", "plan.json"]));
    assert!(!ok, "{out}");
    assert!(
        err.contains("is a plan from noodle to doodoo") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);
    assert!(runs_json(&fake, &dir).is_empty());
}
