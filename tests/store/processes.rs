//! Several processes on one database: shared handles, destination leases, a dead holder's
//! lease taken over, and a new database opened by two at once.

use super::*;

/// Two handles on one file (the bot and a CLI) can both write.
#[test]
fn two_handles_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let a = Store::open(&path).unwrap();
    let b = Store::open(&path).unwrap();
    let r1 = start(&a, &Trigger::cli("a"));
    let r2 = start(&b, &Trigger::cli("b"));
    intent(&a, r2, 1, &[(5, "Movies")]);
    assert_eq!(b.grants_of_run(r2).unwrap().len(), 1);
    assert_eq!(a.runs(10).unwrap().len(), 2);
    assert_ne!(r1, r2);
}

fn lease_settings() -> sharesync::apply::LeaseSettings {
    sharesync::apply::LeaseSettings::from_limits(&sharesync::config::Limits::default())
}

/// Two handles on one file (two processes): the second is refused while the first holds the
/// destination, told by whom, and gets it once the first lets go.
#[test]
fn a_lease_holds_its_destination_across_processes() {
    use sharesync::apply::{Busy, DestLease};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (bot, cli) = (Store::open(&path).unwrap(), Store::open(&path).unwrap());
    let (source, dest) = servers();
    let held = DestLease::acquire(&bot, &dest, &Trigger::discord(42), &lease_settings()).unwrap();
    let run = held
        .start_run(&apply_run(&source, &dest, &Trigger::discord(42)))
        .unwrap();
    let Err(busy @ Busy::Held(_)) =
        DestLease::acquire(&cli, &dest, &Trigger::cli("alice"), &lease_settings())
    else {
        panic!("a held destination must refuse a second writer")
    };
    let text = busy.to_string();
    assert!(
        text.starts_with(&format!(
            "another run is in progress on doodoo: run {run} (started "
        )) && text.ends_with(" by discord:42)"),
        "{text}"
    );
    drop(held);
    DestLease::acquire(&cli, &dest, &Trigger::cli("alice"), &lease_settings())
        .expect("released on drop");
}

/// A lease whose process is gone (this host, its pid dead) is taken over at once and its run
/// marked interrupted, with its open intents; a silent holder elsewhere after the timeout too.
#[test]
fn a_dead_holders_lease_is_taken_over_and_its_run_marked_interrupted() {
    use sharesync::apply::{holder_is_dead, this_process, DestLease};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let store = Store::open(&path).unwrap();
    let (source, dest) = servers();
    let new_run = |trigger| apply_run(&source, &dest, trigger);
    let killed = LeaseProcess {
        pid: u32::MAX - 7, // no such process on this host
        ..this_process().clone()
    };
    let who = Trigger::cli("alice");
    store
        .take_lease(&dest, "killed", &killed, &who, &|_| false)
        .unwrap();
    let run = store.start_leased_run(&new_run(&who), "killed").unwrap();
    intent(&store, run, 1, &[(5, "Movies")]);
    assert_eq!(store.run(run).unwrap().run.status, RunStatus::Running);

    let next = DestLease::acquire(&store, &dest, &Trigger::cli("bob"), &lease_settings())
        .expect("a dead holder's lease is taken over");
    let record = store.run(run).unwrap();
    assert_eq!(record.run.status, RunStatus::Interrupted);
    assert!(record.run.error.unwrap().contains("stopped"));
    assert_eq!(record.grants[0].state, GrantState::Interrupted);
    drop(next);

    // Another host's holder, silent past the timeout: dead; renewed: alive.
    let elsewhere = LeaseProcess {
        pid: 1,
        host: "other-host".into(),
        instance: "i".into(),
    };
    store
        .take_lease(&dest, "remote", &elsewhere, &who, &|_| false)
        .unwrap();
    let remote_run = store.start_leased_run(&new_run(&who), "remote").unwrap();
    let settings = lease_settings();
    let dead = |l: &LeaseRecord| holder_is_dead(l, &settings);
    assert!(
        store.end_dead_leases(&dead).unwrap().is_empty(),
        "just renewed"
    );
    raw(&path)
        .execute(
            "UPDATE dest_leases SET heartbeat_at = '2000-01-01T00:00:00.000Z'",
            [],
        )
        .unwrap();
    assert!(!store.renew_lease(&dest.machine_id, "someone else").unwrap());
    let ended = store.end_dead_leases(&dead).unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].run, Some(remote_run));
    assert_eq!(
        store.run(remote_run).unwrap().run.status,
        RunStatus::Interrupted
    );
    assert!(
        !store.renew_lease(&dest.machine_id, "remote").unwrap(),
        "a holder taken over learns it on its next beat"
    );
    assert!(store.leases().unwrap().is_empty());
}

/// Two processes opening a new data directory at the same moment (the bot and a CLI) migrate
/// it once between them; neither fails.
#[test]
fn two_processes_opening_a_new_database_at_once_both_succeed() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/sharesync.sqlite");
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Store::open(&path).map(|s| s.schema_version()))
            })
            .collect();
        for o in openers {
            assert_eq!(o.join().unwrap().unwrap().unwrap(), SCHEMA_VERSION);
        }
    }
}
