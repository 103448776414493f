//! `apply FILE`, `sync --apply` and `undo` run through the engine's `Runner`: the destination's
//! lease before the stale check reads (busy: exit 75, nothing read), the runner's events shown
//! as the same progress lines for an apply and an undo, the run recorded with the CLI's trigger,
//! and nothing leased, read or recorded for a plan with nothing to apply.

use sharesync::apply::Runner;
use sharesync::config::Limits;
use sharesync::model::{MachineId, ServerRef};
use sharesync::store::{Store, Trigger};

use super::{fake, run, runs_json, sharesync};

/// The progress lines of run `run` (over `accounts` accounts), in the runner's event order.
fn check_progress(err: &str, run: u64, accounts: u64) {
    let lines: Vec<&str> = err.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{err}"))
    };
    let order = [
        at("Reading both servers again to check the plan..."),
        at(&format!("Run {run}: writing {accounts} account(s)")),
        at(&format!("[1/{accounts}] ")),
        at(&format!("[{accounts}/{accounts}] ")),
        at("Reading the destination back to verify..."),
    ];
    assert!(order.is_sorted(), "{order:?}:\n{err}");
}

/// The run with id `id` in `runs --json`.
fn recorded(runs: &[serde_json::Value], id: u64) -> &serde_json::Value {
    runs.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no run {id}: {runs:?}"))
}

#[test]
fn the_cli_applies_and_undoes_through_the_runner() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");

    // Another process holds the destination: busy before the stale check reads anything.
    let store = Store::open(dir.path().join("data").join("sharesync.sqlite")).unwrap();
    let limits = Limits::default();
    let world = fake.sandbox.world();
    let doodoo = world.server_by_name("doodoo").unwrap();
    let dest = ServerRef {
        name: doodoo.name.clone(),
        machine_id: MachineId(doodoo.machine_id.clone()),
    };
    let held = Runner::new(&store, &limits)
        .lease(&dest, &Trigger::cli("alice"))
        .unwrap();
    fake.sandbox.clear_requests();
    let out = sharesync(&fake, &dir)
        .args(["apply", "plan.json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(
        err.contains("another run is in progress on doodoo") && err.contains(" by cli:alice)"),
        "{err}"
    );
    assert!(
        !fake
            .sandbox
            .requests()
            .iter()
            .any(|r| r.path.contains("shared_servers")),
        "nothing read for a stale check"
    );
    drop(held);

    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(ok, "{out}\n{err}");
    let runs = runs_json(&fake, &dir);
    let applied = recorded(&runs, 1);
    assert_eq!(applied["trigger"], "cli:tester");
    check_progress(
        &err,
        1,
        applied["summary"]["accounts_planned"].as_u64().unwrap(),
    );

    // In sync now: the runner answers at once, with no event and no run.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("Nothing to apply: every account is in sync."),
        "{out}"
    );
    assert!(!err.contains("Reading both servers again"), "{err}");
    assert_eq!(runs_json(&fake, &dir).len(), 1);

    // The undo sends the same events, shown the same way.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["undo", "1", "--yes"]));
    assert!(ok, "{out}\n{err}");
    let runs = runs_json(&fake, &dir);
    let undone = recorded(&runs, 2);
    assert_eq!(
        (&undone["kind"], &undone["undo_of"], &undone["trigger"]),
        (&"undo".into(), &1.into(), &"cli:tester".into())
    );
    check_progress(
        &err,
        2,
        undone["summary"]["accounts_planned"].as_u64().unwrap(),
    );
}
