//! The record (src/store): real SQLite files in a temporary directory.

use std::time::Duration;

use sharesync::model::{AccountId, LibraryId, MachineId, ServerRef, ShareId};
use sharesync::store::*;

#[path = "store/processes.rs"]
mod processes;

fn servers() -> (ServerRef, ServerRef) {
    (
        ServerRef {
            name: "noodle".into(),
            machine_id: MachineId("a".repeat(40)),
        },
        ServerRef {
            name: "doodoo".into(),
            machine_id: MachineId("b".repeat(40)),
        },
    )
}

/// An apply run of pair "main" from `source` to `dest`.
fn apply_run<'a>(source: &'a ServerRef, dest: &'a ServerRef, trigger: &'a Trigger) -> NewRun<'a> {
    NewRun {
        kind: RunKind::Apply,
        undo_of: None,
        pair: "main",
        source,
        dest,
        trigger,
    }
}

fn start(store: &Store, trigger: &Trigger) -> RunId {
    let (source, dest) = servers();
    store
        .start_run(&apply_run(&source, &dest, trigger))
        .unwrap()
}

fn intent(store: &Store, run: RunId, account: u64, libs: &[(u64, &str)]) -> Vec<GrantId> {
    let (_, dest) = servers();
    let libraries: Vec<(LibraryId, String)> = libs
        .iter()
        .map(|(id, t)| (LibraryId(*id), t.to_string()))
        .collect();
    store
        .record_intent(&GrantIntent {
            run,
            account_id: AccountId(account),
            account_name: "alice",
            server: &dest,
            share_id: Some(ShareId(7)),
            libraries: &libraries,
            action: GrantAction::Add,
            created_share: false,
        })
        .unwrap()
}

fn raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The file is created with its directory, in WAL mode, at the current schema version, and
/// reopening it migrates nothing and keeps what was written.
#[test]
fn opens_a_wal_file_at_the_current_schema_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/nested/sharesync.sqlite");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let run = start(&store, &Trigger::cli("alice"));
    drop(store);

    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);

    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let runs = store.runs(10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, run);
    assert_eq!(runs[0].trigger, "cli:alice");
    assert_eq!(runs[0].status, RunStatus::Running);
}

/// A database from a newer sharesync is refused with words, not misread.
#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    drop(Store::open(&path).unwrap());
    raw(&path)
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("newer sharesync"));
}

/// intent → applied → verified, per-account lines, the summary and finish time round-trip.
#[test]
fn a_run_records_intents_outcomes_accounts_and_summary() {
    let store = Store::open_in_memory().unwrap();
    let run = start(&store, &Trigger::discord(1234));
    store
        .record_accounts(
            run,
            &[AccountRecord {
                account_id: AccountId(42),
                account_name: "alice".into(),
                planned: "grant".into(),
                result: None,
                reason: None,
                share_id: None,
                created_share: false,
            }],
        )
        .unwrap();
    let ids = intent(
        &store,
        run,
        42,
        &[(118181361, "Movies"), (118251661, "TV Shows")],
    );
    let grants = store.grants_of_run(run).unwrap();
    assert_eq!(grants.len(), 2);
    assert!(grants
        .iter()
        .all(|g| g.state == GrantState::Intent && g.attempts == 1));
    assert_eq!(grants[0].library_id, LibraryId(118181361));
    assert_eq!(grants[0].server.name, "doodoo");

    store.record_attempt(&ids, Some(ShareId(7)), false).unwrap();
    store
        .record_outcome(&ids[..1], GrantState::Applied, None, Some(ShareId(7)))
        .unwrap();
    store
        .record_outcome(
            &ids[1..],
            GrantState::Failed,
            Some("plex.tv refused the request (400): no"),
            None,
        )
        .unwrap();
    store
        .record_outcome(&ids[..1], GrantState::Verified, None, None)
        .unwrap();
    store
        .record_accounts(
            run,
            &[AccountRecord {
                account_id: AccountId(42),
                account_name: "alice".into(),
                planned: "grant".into(),
                result: Some(AccountResult::Partial),
                reason: Some("not in place: TV Shows".into()),
                share_id: Some(ShareId(7)),
                created_share: false,
            }],
        )
        .unwrap();
    let summary = RunSummary {
        accounts_planned: 1,
        accounts_partial: 1,
        libraries_changed: 1,
        write_requests: 2,
        requests: 6,
        verified: true,
        ..RunSummary::default()
    };
    store
        .finish_run(run, RunStatus::Finished, &summary, None)
        .unwrap();

    let detail = store.run(run).unwrap();
    assert_eq!(detail.run.status, RunStatus::Finished);
    assert_eq!(detail.run.trigger, "discord:1234");
    assert!(detail.run.finished_at.is_some());
    assert_eq!(detail.run.summary.as_ref(), Some(&summary));
    assert_eq!(detail.accounts.len(), 1);
    assert_eq!(detail.accounts[0].result, Some(AccountResult::Partial));
    assert_eq!(detail.accounts[0].share_id, Some(ShareId(7)));
    let states: Vec<_> = detail
        .grants
        .iter()
        .map(|g| (g.state, g.attempts))
        .collect();
    assert_eq!(
        states,
        vec![(GrantState::Verified, 2), (GrantState::Failed, 2)]
    );
    assert!(detail.grants[1]
        .reason
        .as_deref()
        .unwrap()
        .contains("refused"));
}

/// Runs list newest first and honour the limit; an unknown run is a typed error.
#[test]
fn runs_are_listed_newest_first() {
    let store = Store::open_in_memory().unwrap();
    let ids: Vec<RunId> = (0..5)
        .map(|i| start(&store, &Trigger::schedule(&format!("s{i}"))))
        .collect();
    let listed: Vec<RunId> = store.runs(3).unwrap().iter().map(|r| r.id).collect();
    assert_eq!(listed, vec![ids[4], ids[3], ids[2]]);
    assert!(matches!(
        store.run(RunId(999)),
        Err(StoreError::RunNotFound(RunId(999)))
    ));
    assert_eq!("#12".parse::<RunId>().unwrap(), RunId(12));
}

/// Stopping a run part way marks it interrupted and turns its open intents into
/// `interrupted` (the request may or may not have landed); finished grants keep their state.
#[test]
fn interrupting_a_run_closes_its_open_intents() {
    let store = Store::open_in_memory().unwrap();
    let run = start(&store, &Trigger::cli("bob"));
    let done = intent(&store, run, 1, &[(100, "Movies")]);
    store
        .record_outcome(&done, GrantState::Applied, None, None)
        .unwrap();
    intent(&store, run, 2, &[(100, "Movies"), (101, "Kids")]);
    store.interrupt_run(run, "cancelled").unwrap();
    let detail = store.run(run).unwrap();
    assert_eq!(detail.run.status, RunStatus::Interrupted);
    assert_eq!(detail.run.error.as_deref(), Some("cancelled"));
    let states: Vec<GrantState> = detail.grants.iter().map(|g| g.state).collect();
    assert_eq!(
        states,
        vec![
            GrantState::Applied,
            GrantState::Interrupted,
            GrantState::Interrupted
        ]
    );
    let (_, dest) = servers();
    assert_eq!(store.interrupted_grants(&dest.machine_id).unwrap().len(), 2);
    // A second interrupt (or a late finish) does not rewrite history.
    store.interrupt_run(run, "again").unwrap();
    assert_eq!(
        store.run(run).unwrap().run.error.as_deref(),
        Some("cancelled")
    );
}

/// A run whose process died (no heartbeat for ABANDONED_AFTER) is marked interrupted when the
/// database is next opened; a live run is left alone.
#[test]
fn abandoned_runs_are_marked_interrupted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = Store::open(&path).unwrap();
    let dead = start(&store, &Trigger::cli("a"));
    intent(&store, dead, 1, &[(5, "Movies")]);
    let alive = start(&store, &Trigger::cli("b"));
    drop(store);
    raw(&path)
        .execute(
            "UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1",
            [dead.0],
        )
        .unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.run(dead).unwrap().run.status, RunStatus::Interrupted);
    assert_eq!(
        store.grants_of_run(dead).unwrap()[0].state,
        GrantState::Interrupted
    );
    assert_eq!(store.run(alive).unwrap().run.status, RunStatus::Running);
    assert_eq!(
        store.recover_abandoned(Duration::from_secs(3600)).unwrap(),
        0
    );
}

/// `added_later` finds a later run's standing grant of the same library (undo keeps it).
#[test]
fn a_later_grant_of_the_same_library_is_found() {
    let store = Store::open_in_memory().unwrap();
    let first = start(&store, &Trigger::cli("a"));
    let ids = intent(&store, first, 1, &[(5, "Movies")]);
    store
        .record_outcome(&ids, GrantState::Verified, None, None)
        .unwrap();
    let g = store.grants_of_run(first).unwrap().remove(0);
    assert_eq!(store.added_later(&g).unwrap(), None);
    let second = start(&store, &Trigger::cli("a"));
    let later = intent(&store, second, 1, &[(5, "Movies")]);
    assert_eq!(
        store.added_later(&g).unwrap(),
        None,
        "an intent is not a grant"
    );
    store
        .record_outcome(&later, GrantState::Applied, None, None)
        .unwrap();
    assert_eq!(store.added_later(&g).unwrap(), Some(second));
}

fn empty_plan() -> sharesync::plan::Plan {
    use sharesync::plan::{Plan, PlanSummary, ServerSummary, PLAN_SCHEMA};
    let (source, dest) = servers();
    Plan {
        schema: PLAN_SCHEMA,
        source: ServerSummary {
            name: source.name,
            machine_identifier: source.machine_id.0,
        },
        dest: ServerSummary {
            name: dest.name,
            machine_identifier: dest.machine_id.0,
        },
        users: vec![],
        warnings: vec![],
        summary: PlanSummary::default(),
    }
}

#[test]
fn a_stored_plan_survives_reopening_and_confirms_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let now = chrono::Utc::now();
    let plan = empty_plan();
    let id = {
        let store = Store::open(&path).unwrap();
        store
            .insert_plan(
                &NewPlan {
                    pair: "main",
                    only_accounts: &["bob".into()],
                    created_by: &Trigger::discord(42),
                    lifetime: chrono::Duration::minutes(30),
                    plan: &plan,
                },
                now,
            )
            .unwrap()
            .id
    };
    let store = Store::open(&path).unwrap();
    let back = store.stored_plan(&id).unwrap().unwrap();
    assert_eq!(back.plan, plan);
    assert_eq!(back.only_accounts, ["bob"]);
    assert_eq!(back.created_by, Trigger::discord(42));
    assert!(!back.expired(now) && back.expired(now + chrono::Duration::minutes(31)));
    assert_eq!(store.open_plans(now, 5).unwrap().len(), 1);
    assert!(store
        .open_plans(now + chrono::Duration::hours(1), 5)
        .unwrap()
        .is_empty());

    // A double press: only the first open → applying transition wins.
    assert!(store
        .transition_plan(&id, PlanStatus::Open, PlanStatus::Applying)
        .unwrap());
    assert!(!store
        .transition_plan(&id, PlanStatus::Open, PlanStatus::Applying)
        .unwrap());
    let (_, dest) = servers();
    assert!(store.plan_applying_on(&dest.machine_id).unwrap());
    // A restart after a crash mid-run frees the destination.
    assert_eq!(store.fail_interrupted_plans().unwrap(), 1);
    assert!(!store.plan_applying_on(&dest.machine_id).unwrap());
    assert!(store.stored_plan("nope").unwrap().is_none());
}

#[test]
fn links_replace_and_unlink() {
    let store = Store::open_in_memory().unwrap();
    let now = chrono::Utc::now();
    let by = Trigger::discord(1);
    let link = Link {
        member_id: 7,
        plex_account_id: 100,
        plex_name: "alice".into(),
    };
    store.link(&link, &by, now).unwrap();
    let relinked = Link {
        plex_account_id: 101,
        ..link
    };
    store.link(&relinked, &by, now).unwrap();
    assert_eq!(store.linked(7).unwrap(), Some(relinked));
    assert!(store.unlink(7).unwrap());
    assert!(!store.unlink(7).unwrap());
    assert!(store.linked(7).unwrap().is_none());
}

/// The database holds e-mail addresses: the file and the -wal and -shm files SQLite makes
/// beside it are readable by their owner only, whatever the umask; a file an older build left
/// open to others is narrowed on open.
#[cfg(unix)]
#[test]
fn the_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/sharesync.sqlite");
    let mode = |suffix: &str| {
        std::fs::metadata(format!("{}{suffix}", path.display()))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    let store = Store::open(&path).unwrap();
    start(&store, &Trigger::cli("a"));
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(suffix), 0o600, "sharesync.sqlite{suffix}");
    }
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&path).unwrap();
    assert_eq!(mode(""), 0o600);
}
