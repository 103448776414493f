//! Several processes on one data directory: one writer per destination, a killed run recorded
//! as interrupted, an undo refused while an apply holds the destination.

use super::*;

/// Enough accounts, and a slow enough plex.tv, that an apply takes a while.
fn slow_fake() -> Fake {
    let fake = fake_with(Scenario::generated(40, 6, 7));
    fake.sandbox.set_latency(Duration::from_millis(100));
    fake
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
    let fake = fake_with(Scenario::generated(40, 6, 7));
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
