//! The built `sharesync` binary's apply path against one simulated plex.tv that outlives the
//! processes: `sync --save-plan`, `apply FILE` (stale-checked), `sync --apply`, `runs`,
//! `runs RUN`, and `undo RUN` (refused without confirmation off a terminal, done with --yes).
//! Several processes on one data directory: one writer per destination (the lease), a killed
//! run recorded as interrupted, an undo refused while an apply holds the destination.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::store::Store;

#[path = "cli_runs/runner.rs"]
mod runner;

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
        .env("SHARESYNC_DATA_DIR", dir.path().join("data"))
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

#[test]
fn over_a_limit_the_cli_refuses_and_allow_large_applies() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    // The demo plan updates 5 accounts.
    let (ok, out, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_ACCOUNTS_PER_RUN", "4")
        .args(["sync", "--apply"]));
    assert!(!ok, "over the limit must fail: {out}");
    assert_eq!(writes(&fake), 0, "nothing written over the limit");
    for words in [
        "5 accounts to update, limits.max_accounts_per_run is 4",
        "Nothing was written",
        "--allow-large",
    ] {
        assert!(err.contains(words), "{words:?} not in {err}");
    }
    assert!(
        out.contains("Will share doodoo with user 'erin'"),
        "the plan is shown: {out}"
    );

    // A saved plan is held to the same limit.
    let (ok, _, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_NEW_SHARES_PER_RUN", "1")
        .args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    let (ok, _, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_NEW_SHARES_PER_RUN", "1")
        .args(["apply", "plan.json"]));
    assert!(!ok);
    assert!(
        err.contains("2 new shares to create, limits.max_new_shares_per_run is 1"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);

    let (ok, out, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_ACCOUNTS_PER_RUN", "4")
        .args(["sync", "--apply", "--allow-large"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Failures: 0"), "{out}");
    assert!(writes(&fake) > 0);
}

#[test]
fn over_the_fraction_limit_the_cli_refuses() {
    // More than ten accounts to update, so the fraction counts.
    let fake = fake_of(Scenario::generated(40, 4, 3));
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_FRACTION", "0.1")
        .args(["sync", "--apply"]));
    assert!(!ok, "over the limit must fail: {out}");
    assert_eq!(writes(&fake), 0, "nothing written over the limit");
    for words in [
        "accounts to update, limits.max_fraction is 0.1 (at most 10 per run)",
        "Nothing was written",
        "--allow-large",
    ] {
        assert!(err.contains(words), "{words:?} not in {err}");
    }
}

#[test]
fn a_read_that_lost_most_shares_is_refused_until_accepted() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(ok, "the first read is the baseline: {err}");
    let taken = fake.sandbox.with_world(|w| w.take_shares("doodoo", 0));
    // Invites to an address without an account are not shares of an account.
    let before = taken.iter().filter(|s| s.account_id.is_some()).count();
    assert!(before >= 6);
    fake.sandbox.clear_requests();

    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(!ok, "{out}");
    assert_eq!(writes(&fake), 0, "nothing written");
    assert!(out.is_empty(), "nothing planned: {out}");
    for words in [
        format!("doodoo: {before} shares at the last good read, 0 now"),
        "plex.tv may be answering wrongly".into(),
        "sharesync doctor --deep".into(),
        "Nothing was planned or written.".into(),
        "sharesync sync --accept-change".into(),
    ] {
        assert!(err.contains(&words), "{words:?} not in {err}");
    }

    // The change is real: accepted, it is the baseline and later runs plan from it.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--accept-change"]));
    assert!(ok, "{err}");
    assert!(
        err.contains("Accepted as doodoo's new baseline: 0 shares"),
        "{err}"
    );
    assert!(out.contains("Will share doodoo with user 'alice'"), "{out}");
    let (ok, _, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(ok, "{err}");
    assert_eq!(writes(&fake), 0);

    // Who accepted is kept with the baseline and named when a later read falls below it.
    let store = sharesync::store::Store::open(dir.path().join("data/sharesync.sqlite")).unwrap();
    let noodle = fake
        .sandbox
        .world()
        .server_by_name("noodle")
        .unwrap()
        .machine_id
        .clone();
    let baseline = store
        .read_baseline(&sharesync::model::MachineId(noodle))
        .unwrap()
        .unwrap();
    assert_eq!(baseline.accepted_by.as_deref(), Some("cli:tester"));
    fake.sandbox.with_world(|w| w.take_shares("noodle", 0));
    let (ok, _, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(!ok);
    assert!(
        err.contains("noodle: ") && err.contains(", accepted by cli:tester)"),
        "{err}"
    );
}

#[test]
fn a_saved_plan_is_not_applied_from_a_read_that_lost_most_shares() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    fake.sandbox.with_world(|w| w.take_shares("doodoo", 0));
    fake.sandbox.clear_requests();

    // `apply FILE` from cron: its own fresh read is held to the baselines.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(!ok, "{out}");
    assert_eq!(writes(&fake), 0, "nothing written");
    for words in [
        "doodoo: ",
        "plex.tv may be answering wrongly",
        "sharesync sync --accept-change",
    ] {
        assert!(err.contains(words), "{words:?} not in {err}");
    }
    assert!(
        !err.contains("plan changed"),
        "refused as a bad read: {err}"
    );
    let (_, runs, _) = run(sharesync(&fake, &dir).arg("runs"));
    assert!(!runs.contains("apply"), "no run recorded: {runs}");
}

#[test]
fn accept_change_is_refused_with_apply() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) =
        run(sharesync(&fake, &dir).args(["sync", "--apply", "--allow-large", "--accept-change"]));
    assert!(!ok, "{out}");
    assert!(err.contains("--accept-change"), "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(
        fake.sandbox.requests().is_empty(),
        "nothing read or written"
    );
}

#[test]
fn a_dry_run_plans_when_the_store_cannot_be_opened() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be: the store cannot be opened. (File modes
    // would not do: tests may run as root, who writes anyway.)
    std::fs::create_dir_all(dir.path().join("data/sharesync.sqlite")).unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(ok, "{err}");
    assert!(out.contains("Will share doodoo with user 'erin'"), "{out}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(err.contains("last good reads"), "{err}");
    assert_eq!(writes(&fake), 0);

    // Applying needs the store (the run is recorded): refused, nothing written.
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(!ok);
    assert!(err.contains("sharesync.sqlite"), "{err}");
    assert_eq!(writes(&fake), 0);
}

#[test]
fn doctor_deep_names_every_disagreement_between_the_api_families() {
    use sharesync::sandbox::LegacyDrift;
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["doctor", "--deep"]));
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("ok    deep check   noodle: v2 and legacy agree"),
        "{out}"
    );
    assert!(
        out.contains("ok    deep check   doodoo: v2 and legacy agree"),
        "{out}"
    );

    // The switch: legacy misreports four of doodoo's shares, each in another way.
    let world = fake.sandbox.world();
    let doodoo = world.server_by_name("doodoo").unwrap().clone();
    let share_of = |name: &str| {
        let id = world.account_by_name(name).unwrap().id;
        world.share_for(&doodoo.machine_id, id).unwrap().clone()
    };
    let (alice, bob, carol, dave) = (
        share_of("alice"),
        share_of("bob"),
        share_of("carol"),
        share_of("dave"),
    );
    assert!(carol.all_libraries && dave.pending && !bob.all_libraries);
    let music = doodoo.section_by_title("Music").unwrap().id;
    fake.sandbox.with_world(|w| {
        w.legacy_drift.insert(alice.id, LegacyDrift::Hidden);
        w.legacy_drift
            .insert(bob.id, LegacyDrift::Libraries([music].into()));
        w.legacy_drift
            .insert(carol.id, LegacyDrift::Libraries([music].into()));
        w.legacy_drift.insert(dave.id, LegacyDrift::Pending(false));
    });
    fake.sandbox.clear_requests();
    let (ok, out, _) = run(sharesync(&fake, &dir).args(["doctor", "--deep"]));
    assert!(!ok, "disagreements fail the doctor: {out}");
    for words in [
        "FAIL  deep check   doodoo: alice has a share through v2 only (legacy does not list it)",
        "FAIL  deep check   doodoo: bob sees [",
        "] through v2 but [Music] through legacy",
        "FAIL  deep check   doodoo: carol has all libraries through v2 but a list through legacy: [Music]",
        "FAIL  deep check   doodoo: dave's share is pending through v2 but accepted through legacy",
        "ok    deep check   noodle: v2 and legacy agree",
        "plex.api = \"v2\"",
    ] {
        assert!(out.contains(words), "{words:?} not in {out}");
    }
    assert_eq!(out.matches("FAIL  deep check").count(), 4, "{out}");
    assert_eq!(writes(&fake), 0, "a check never writes");
    let families: std::collections::BTreeSet<bool> = fake
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.contains("shared_servers") || r.path.ends_with("/api/users"))
        .map(|r| r.path.starts_with("/api/v2/"))
        .collect();
    assert_eq!(families.len(), 2, "read through both families");
}

/// A plan saved before plans showed restrictions loads but never applies (its approval did not
/// see them); one whose restrictions object lacks a filter does not load at all.
#[test]
fn a_plan_without_restrictions_is_refused() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    let new_share = plan["users"]
        .as_array()
        .unwrap()
        .iter()
        .position(|u| u["outcome"] == "new_share")
        .expect("the demo plans a new share");
    assert!(plan["users"][new_share]["restrictions"].is_object());

    // An old plan: no `restrictions` on its new shares.
    let mut old = plan.clone();
    for u in old["users"].as_array_mut().unwrap() {
        u.as_object_mut().unwrap().remove("restrictions");
    }
    std::fs::write(dir.path().join("old.json"), old.to_string()).unwrap();
    fake.sandbox.clear_requests();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "old.json"]));
    assert!(!ok, "{out}");
    assert!(
        err.contains("restrictions not shown in the approved plan")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);

    // An incomplete restrictions object.
    let mut partial = plan.clone();
    partial["users"][new_share]["restrictions"]
        .as_object_mut()
        .unwrap()
        .remove("filter_movies");
    std::fs::write(dir.path().join("partial.json"), partial.to_string()).unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "partial.json"]));
    assert!(!ok, "{out}");
    assert!(
        err.contains("not a complete sharesync plan") && err.contains("filter_movies"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);
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
            .args(["sync", "--apply", "--allow-large"])
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
        .args(["sync", "--apply", "--allow-large"])
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
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply", "--allow-large"]));
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
    let (ok, out, err) = run(sharesync(&fake, &dir).args([
        "sync",
        "--apply",
        "--allow-large",
        "--only-user",
        &first,
    ]));
    assert!(ok, "{out}\n{err}");

    fake.sandbox.set_latency(Duration::from_millis(100));
    let mut apply = process(&fake, &dir)
        .args(["sync", "--apply", "--allow-large"])
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
