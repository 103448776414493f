//! The destination lease decides whether writing starts and goes on: tests that kill mutants
//! `cargo mutants` found surviving in `src/apply/lock.rs` (see docs/mutation.md).

use super::*;
use sharesync::apply::{end_dead_leases, this_process, Busy, DestLease, LeaseSettings};
use sharesync::store::{LeaseProcess, NewRun, RunKind, StoreError};

fn lease_settings() -> LeaseSettings {
    LeaseSettings::from_limits(&Limits::default())
}

/// Another process takes the destination over while a run writes (it judged this one dead):
/// the run's heartbeat notices, it sends no further write, and it ends interrupted with the
/// reason, its grant rows all settled.
#[tokio::test]
async fn a_run_whose_lease_is_taken_over_stops_writing() {
    let mut env = env(Scenario::generated(80, 6, 7), ApiFamily::V2).await;
    env.limits = Limits {
        writes_per_second: 0.0,
        concurrency: 1,
        lease_timeout_seconds: 3, // renewed every second
        ..Limits::no_blast_limits()
    };
    let p = env.plan().await;
    let planned = p.summary.users_to_update;
    assert!(planned > 30, "{planned}");
    env.sandbox.set_latency(Duration::from_millis(60));
    env.sandbox.clear_requests();
    let other = Store::open(&env.db).unwrap();
    let intruder = LeaseProcess {
        pid: 1,
        host: "another-host".into(),
        instance: "intruder".into(),
    };
    let take_over = |e: Progress| {
        if matches!(e, Progress::Started { .. }) {
            other
                .take_lease(
                    &env.dest,
                    "intruder",
                    &intruder,
                    &Trigger::cli("x"),
                    &|_| true,
                )
                .expect("taken over");
        }
    };
    let err = apply(&env.client, &env.store, &env.job(&p), take_over)
        .await
        .expect_err("a run that lost its lease stops");
    assert!(
        matches!(&err, ApplyError::Store(StoreError::LeaseLost(d)) if d == "doodoo"),
        "{err:?}"
    );
    let writes = env.writes().len();
    assert!(writes < planned, "{writes} of {planned} writes: it went on");
    let run = env.store.runs(1).unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Interrupted);
    let grants = env.store.grants_of_run(run.id).unwrap();
    assert!(grants.iter().all(|g| g.state != GrantState::Intent));
    never_lost(&env.start, &env.sandbox.world());
}

/// A lease held by a live process on this host (a child we started) is not taken over: a
/// second writer is refused. Once that process has exited, its lease is taken over at once.
#[cfg(unix)]
#[test]
fn a_live_process_on_this_host_keeps_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db.sqlite")).unwrap();
    let dest = ServerRef {
        name: "doodoo".into(),
        machine_id: sharesync::model::MachineId("doodoo-id".into()),
    };
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("sleep");
    let holder = LeaseProcess {
        pid: child.id(),
        instance: "another start".into(),
        ..this_process().clone()
    };
    store
        .take_lease(&dest, "child", &holder, &Trigger::cli("a"), &|_| false)
        .unwrap();
    let second = DestLease::acquire(&store, &dest, &Trigger::cli("b"), &lease_settings());
    let alive = matches!(second, Err(Busy::Held(_)));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(alive, "a live holder's lease was taken: {second:?}");
    DestLease::acquire(&store, &dest, &Trigger::cli("b"), &lease_settings())
        .expect("an exited holder's lease is taken over");
}

/// `end_dead_leases` (run before runs are listed) ends a dead holder's lease and marks its run
/// interrupted, so no dead run is shown `running`; a live holder's lease stays.
#[test]
fn ending_dead_leases_marks_their_runs_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db.sqlite")).unwrap();
    let server = |name: &str| ServerRef {
        name: name.into(),
        machine_id: sharesync::model::MachineId(format!("{name}-id")),
    };
    let (source, dest, live) = (server("noodle"), server("doodoo"), server("other"));
    let gone = LeaseProcess {
        pid: u32::MAX - 7, // no such process on this host
        ..this_process().clone()
    };
    let who = Trigger::cli("alice");
    store
        .take_lease(&dest, "gone", &gone, &who, &|_| false)
        .unwrap();
    let run = store
        .start_leased_run(
            &NewRun {
                kind: RunKind::Apply,
                undo_of: None,
                pair: "main",
                source: &source,
                dest: &dest,
                trigger: &who,
            },
            "gone",
        )
        .unwrap();
    let _held = DestLease::acquire(&store, &live, &who, &lease_settings()).unwrap();

    let ended = end_dead_leases(&store, &Limits::default()).unwrap();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].run, Some(run));
    assert_eq!(store.run(run).unwrap().run.status, RunStatus::Interrupted);
    let left: Vec<_> = store
        .leases()
        .unwrap()
        .into_iter()
        .map(|l| l.dest)
        .collect();
    assert_eq!(left, [live], "the live lease stays");
}

/// A lease records where its pid means something, starting with this host's name (what
/// `hostname` prints), so an admin can tell which machine holds a destination.
#[cfg(target_os = "linux")]
#[test]
fn a_lease_records_this_hosts_name() {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = &this_process().host;
    assert!(
        host.starts_with(&format!("{} (pid ns ", name.trim())),
        "{host}"
    );
}
