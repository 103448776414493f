//! Tests that kill mutants `cargo mutants` found surviving in the executor (see
//! docs/mutation.md): each checks something that decides what is written to plex.tv, against
//! the simulated plex.tv over loopback HTTP and a real SQLite file.

use super::*;
use sharesync::sandbox::ShareRecord;

/// The blast-radius limits decide whether writing starts: a fresh plan over one is refused
/// before any write, with no run recorded and the lease let go; the same job allowed over the
/// limits writes every planned grant.
#[tokio::test]
async fn an_apply_over_a_limit_writes_nothing_unless_allowed() {
    let mut env = env(small_scenario(), ApiFamily::V2).await;
    env.limits.max_accounts_per_run = 3; // the plan updates 4 accounts
    let p = env.plan().await;
    assert_eq!(p.summary.users_to_update, 4);
    env.sandbox.clear_requests();
    let err = env.apply(&p).await.unwrap_err();
    let ApplyError::OverLimit(over) = &err else {
        panic!("over the limit must be refused: {err:?}")
    };
    assert_eq!(over.exceeded.len(), 1, "{over}");
    assert!(env.writes().is_empty(), "wrote over the limit");
    assert!(env.store.runs(10).unwrap().is_empty(), "no run recorded");
    assert!(
        env.store.leases().unwrap().is_empty(),
        "the lease is let go"
    );

    let mut job = env.job(&p);
    job.request.allow_over_limits = true;
    let report = apply(&env.client, &env.store, &job, |_| {})
        .await
        .expect("allowed over the limits");
    assert_eq!(report.count(AccountResult::Applied), 4, "{report:#?}");
    assert_eq!(env.writes().len(), 4);
    exactly_planned(&env, &p, &env.start, &env.sandbox.world());
    env.check_wire();
}

/// alice sees Movies and TV Shows on noodle and only Movies on doodoo: one grant (TV Shows).
fn one_grant_scenario() -> Scenario {
    let libs = [("Movies", "movie"), ("TV Shows", "show")];
    Scenario::builder()
        .server("noodle", &libs)
        .server("doodoo", &libs)
        .friend("alice")
        .share("noodle", "alice", ["Movies", "TV Shows"])
        .share("doodoo", "alice", ["Movies"])
        .build()
}

/// The owner edits `account`'s destination share by hand, in the simulated plex.tv.
fn edit_dest_share(env: &Env, account: &str, edit: impl FnOnce(&mut ShareRecord)) {
    let (mid, id) = (env.mid(&env.dest), env.account(account));
    env.sandbox.with_world(|w| {
        let share = w
            .shares
            .values_mut()
            .find(|s| s.machine_id == mid && s.account_id == Some(id))
            .expect("a destination share");
        edit(share);
    });
}

/// An env on [`one_grant_scenario`] with a client that does not retry reads itself: a read
/// fault reaches the executor.
async fn env_without_read_retries(family: ApiFamily) -> Env {
    let mut env = env(one_grant_scenario(), family).await;
    let mut opts = client_options(&env.sandbox, family);
    opts.read_retries = 0;
    env.client = PlexClient::new(opts).expect("client");
    env
}

/// Every write is computed from a fresh re-read of its share (max snapshot age 0), and read
/// faults reach the executor.
async fn rereading_env(family: ApiFamily) -> Env {
    let mut env = env_without_read_retries(family).await;
    env.limits.max_snapshot_age_seconds = 0.0;
    env
}

/// Apply `p` with `reads_failing` transient read faults (503) injected once the run started,
/// i.e. on the re-reads before the write and after it. Bounded: a run that retries a failing
/// read without end fails the test instead of hanging it.
async fn apply_with_failing_rereads(env: &Env, p: &Plan, reads_failing: usize) -> RunReport {
    let inject = |e: Progress| {
        if matches!(e, Progress::Started { .. }) {
            env.sandbox.inject(Fault::new(
                FaultTarget::Reads,
                FaultKind::ServerError(503),
                reads_failing,
            ));
        }
    };
    tokio::time::timeout(
        Duration::from_secs(30),
        apply(&env.client, &env.store, &env.job(p), inject),
    )
    .await
    .expect("the run ends: a failing re-read is retried a bounded number of times")
    .expect("apply")
}

/// The re-read before a write fails once (the share's own read, then the whole destination's):
/// it is a passing fault, so the executor waits, reads again and the write goes out.
#[tokio::test]
async fn a_reread_that_fails_once_is_retried_and_the_write_goes_out() {
    for family in FAMILIES {
        let env = rereading_env(family).await;
        let p = env.plan().await;
        env.sandbox.clear_requests();
        let report = apply_with_failing_rereads(&env, &p, 2).await;
        let alice = &report.accounts[0];
        assert_eq!(alice.result, AccountResult::Applied, "{family}: {alice:?}");
        assert_eq!(env.writes().len(), 1, "{family}");
        assert_eq!(env.titles(&env.dest, "alice"), ["Movies", "TV Shows"]);
        env.check_wire();
    }
}

/// The re-read before a write keeps failing: after the retry policy's retries the account is
/// given up with the reason, and nothing is written from the old read.
#[tokio::test]
async fn a_reread_that_keeps_failing_gives_the_account_up_unwritten() {
    for family in FAMILIES {
        let env = rereading_env(family).await;
        let p = env.plan().await;
        env.sandbox.clear_requests();
        let report = apply_with_failing_rereads(&env, &p, 10_000).await;
        let alice = &report.accounts[0];
        assert_eq!(alice.result, AccountResult::Failed, "{family}: {alice:?}");
        let reason = alice.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("could not re-read doodoo"), "{reason}");
        assert!(env.writes().is_empty(), "{family}: wrote from an old read");
        assert!(!report.summary.verified);
        assert_eq!(env.titles(&env.dest, "alice"), ["Movies"]);
    }
}

/// An undo cut short leaves removals whose answer never came (`interrupted`); the next read of
/// the destination settles each from what it shows: `applied` when the library is gone,
/// `missing` when it is still there. The first removal lands at once but is answered only
/// after the cut, so at least one is open.
#[tokio::test]
async fn an_undo_cut_short_is_settled_from_the_next_read() {
    let env = env(small_scenario(), ApiFamily::V2).await;
    let (_, applied) = env.plan_and_apply().await;
    env.sandbox.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::Delay(Duration::from_secs(8)),
        1,
    ));
    let mut job = UndoJob::new(applied.run, &env.limits, &env.trigger);
    job.retry = RetryPolicy::fast();
    let cut = tokio::time::timeout(
        Duration::from_secs(3),
        undo(&env.client, &env.store, &job, |_| {}),
    )
    .await;
    assert!(cut.is_err(), "the undo should have been cut short");
    let undo_run = env.store.runs(1).unwrap()[0].id;
    let open: Vec<_> = env
        .store
        .grants_of_run(undo_run)
        .unwrap()
        .into_iter()
        .filter(|g| g.state == GrantState::Interrupted)
        .collect();
    assert!(!open.is_empty(), "a removal was in flight at the cut");
    assert!(open.iter().all(|g| g.action == GrantAction::Remove));

    plan_undo(&env.client, &env.store, applied.run)
        .await
        .expect("the preview reads the destination");
    let dest = env.mid(&env.dest);
    let world = env.sandbox.world();
    let settled = env.store.grants_of_run(undo_run).unwrap();
    for g in open {
        let now = settled.iter().find(|s| s.id == g.id).unwrap();
        let still_there = world
            .visible_section_ids(&dest, g.account_id.0)
            .unwrap_or_default()
            .contains(&g.library_id.0);
        let want = if still_there {
            GrantState::Missing
        } else {
            GrantState::Applied
        };
        assert_eq!(now.state, want, "{now:?}");
    }
}

/// The owner deletes alice's destination share after the stale check: the update answers 404,
/// the executor reads again, finds no share and skips her with the reason (the account is not
/// "failed", and nothing is created in its place).
#[tokio::test]
async fn a_share_deleted_before_its_write_is_skipped_with_the_reason() {
    for family in FAMILIES {
        let env = env(one_grant_scenario(), family).await;
        let p = env.plan().await;
        let (mid, alice) = (env.mid(&env.dest), env.account("alice"));
        let owner_deletes = |e: Progress| {
            if matches!(e, Progress::Started { .. }) {
                env.sandbox.with_world(|w| {
                    w.shares
                        .retain(|_, s| !(s.machine_id == mid && s.account_id == Some(alice)))
                });
            }
        };
        env.sandbox.clear_requests();
        let report = apply(&env.client, &env.store, &env.job(&p), owner_deletes)
            .await
            .expect("apply");
        let alice = &report.accounts[0];
        assert_eq!(alice.result, AccountResult::Skipped, "{family}: {alice:?}");
        let reason = alice.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("disappeared"), "{family}: {reason}");
        assert_eq!(alice.requests, 1, "{family}");
        assert_eq!(
            env.writes().len(),
            1,
            "{family}: nothing sent after the 404"
        );
        assert!(
            env.dest_share("alice").is_none(),
            "{family}: nothing created"
        );
        check_requests(&env.sandbox, &env.start, &env.sandbox.world(), family);
    }
}

/// The read-back after the writes fails: the run is recorded unverified, an account whose write
/// plex.tv accepted is `applied` on plex.tv's word (and says it was not verified), and its grant
/// rows stay `applied`, never `verified` without a read.
#[tokio::test]
async fn a_failed_read_back_trusts_plex_tvs_answers_and_says_so() {
    for family in FAMILIES {
        let env = env_without_read_retries(family).await;
        let p = env.plan().await;
        let fail_read_back = |e: Progress| {
            if matches!(e, Progress::Verifying) {
                env.sandbox.inject(Fault::new(
                    FaultTarget::Reads,
                    FaultKind::ServerError(503),
                    10_000,
                ));
            }
        };
        let report = apply(&env.client, &env.store, &env.job(&p), fail_read_back)
            .await
            .expect("apply");
        assert!(!report.summary.verified, "{family}");
        let alice = &report.accounts[0];
        assert_eq!(alice.result, AccountResult::Applied, "{family}: {alice:?}");
        assert_eq!(alice.planned, "grant", "{family}");
        assert_eq!(alice.libraries, ["TV Shows"], "{family}");
        let reason = alice.reason.as_deref().unwrap_or_default();
        assert!(
            reason.starts_with("not verified: could not read doodoo back"),
            "{family}: {reason}"
        );
        let grants = env.store.grants_of_run(report.run).unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].state, GrantState::Applied, "{family}");
        assert_eq!(env.titles(&env.dest, "alice"), ["Movies", "TV Shows"]);
    }
}

/// Two libraries granted in one write, one of them revoked by the owner before the read-back:
/// the account is `partial`, names what is not in place, and the record agrees (the account's
/// line says `grant` and `partial`; one grant row verified, one missing).
#[tokio::test]
async fn a_grant_half_in_place_after_the_run_is_partial() {
    let libs = [
        ("Movies", "movie"),
        ("TV Shows", "show"),
        ("Music", "artist"),
    ];
    let scenario = Scenario::builder()
        .server("noodle", &libs)
        .server("doodoo", &libs)
        .friend("alice")
        .share("noodle", "alice", ["Movies", "TV Shows", "Music"])
        .share("doodoo", "alice", ["Movies"])
        .build();
    for family in FAMILIES {
        let env = env(scenario.clone(), family).await;
        let p = env.plan().await;
        let music = env.section("doodoo", "Music");
        let owner_revokes = |e: Progress| {
            if matches!(e, Progress::Verifying) {
                edit_dest_share(&env, "alice", |share| {
                    share.section_ids.remove(&music);
                });
            }
        };
        let report = apply(&env.client, &env.store, &env.job(&p), owner_revokes)
            .await
            .expect("apply");
        let line = &report.accounts[0];
        assert_eq!(line.result, AccountResult::Partial, "{family}: {line:?}");
        assert_eq!(line.libraries, ["TV Shows"], "{family}");
        assert_eq!(line.missing, ["Music"], "{family}");
        assert_eq!(line.reason.as_deref(), Some("not in place: Music"));
        let detail = env.store.run(report.run).unwrap();
        assert_eq!(detail.accounts[0].planned, "grant");
        assert_eq!(detail.accounts[0].result, Some(AccountResult::Partial));
        let state = |title: &str| {
            detail
                .grants
                .iter()
                .find(|g| g.library_title == title)
                .map(|g| g.state)
        };
        assert_eq!(state("TV Shows"), Some(GrantState::Verified), "{family}");
        assert_eq!(state("Music"), Some(GrantState::Missing), "{family}");
    }
}

/// Another admin grants alice's planned library after the stale check: her share, read again
/// before the write, already has it, so nothing is sent and she is skipped with that reason.
#[tokio::test]
async fn a_grant_already_in_place_at_write_time_sends_nothing() {
    for family in FAMILIES {
        let env = rereading_env(family).await;
        let tv = env.section("doodoo", "TV Shows");
        let report = edited_before_its_write(
            &env,
            |share| {
                share.section_ids.insert(tv);
            },
            "already has every planned library on doodoo (nothing sent)",
        )
        .await;
        assert!(env.store.grants_of_run(report.run).unwrap().is_empty());
    }
}

/// The owner gives alice all libraries after the stale check: her share, read again before the
/// write, is `All`, and an `All` share is never turned into a list: nothing is sent and she is
/// skipped with that reason.
#[tokio::test]
async fn a_share_turned_all_before_its_write_is_left_alone() {
    for family in FAMILIES {
        let env = rereading_env(family).await;
        edited_before_its_write(
            &env,
            |share| share.all_libraries = true,
            "already has all libraries on doodoo (nothing sent)",
        )
        .await;
        assert!(env.dest_share("alice").unwrap().all_libraries);
    }
}

/// Apply the plan while alice's destination share is edited (by `edit`) as the run starts,
/// after the stale check: she is skipped with `reason` and nothing is sent.
async fn edited_before_its_write(
    env: &Env,
    edit: impl Fn(&mut ShareRecord) + Send + Sync,
    reason: &str,
) -> RunReport {
    let p = env.plan().await;
    let someone_edits = |e: Progress| {
        if matches!(e, Progress::Started { .. }) {
            edit_dest_share(env, "alice", &edit);
        }
    };
    env.sandbox.clear_requests();
    let report = apply(&env.client, &env.store, &env.job(&p), someone_edits)
        .await
        .expect("apply");
    let line = &report.accounts[0];
    assert_eq!(
        line.result,
        AccountResult::Skipped,
        "{}: {line:?}",
        env.family
    );
    assert_eq!(line.reason.as_deref(), Some(reason));
    assert!(env.writes().is_empty(), "{}", env.family);
    report
}

/// Undo removes only what the run added and has not undone yet. alice's write fails, and the
/// owner then grants her those libraries by hand: the run did not add them, so its undo leaves
/// them. In a second run that did add them, once undone and granted again by hand, undoing the
/// same run again leaves them too.
#[tokio::test]
async fn undo_leaves_what_the_run_failed_to_add_or_already_undid() {
    for family in FAMILIES {
        for write_fails in [true, false] {
            let env = env(small_scenario(), family).await;
            let alice_share = env
                .sandbox
                .world()
                .share_for(&env.mid(&env.dest), env.account("alice"))
                .unwrap()
                .id;
            if write_fails {
                env.sandbox.inject(Fault::new(
                    FaultTarget::PathContains(format!("shared_servers/{alice_share}")),
                    FaultKind::ServerError(400),
                    1000,
                ));
            }
            let (_, report) = env.plan_and_apply().await;
            env.sandbox.clear_faults();
            let alices: BTreeSet<u64> = env
                .store
                .grants_of_run(report.run)
                .unwrap()
                .iter()
                .filter(|g| g.account_name == "alice")
                .map(|g| g.library_id.0)
                .collect();
            assert!(!alices.is_empty(), "{family}");
            if !write_fails {
                let mut job = UndoJob::new(report.run, &env.limits, &env.trigger);
                job.retry = RetryPolicy::fast();
                undo(&env.client, &env.store, &job, |_| {}).await.unwrap();
            }
            edit_dest_share(&env, "alice", |share| share.section_ids.extend(&alices));
            let preview = plan_undo(&env.client, &env.store, report.run)
                .await
                .unwrap();
            assert!(
                preview.accounts.iter().all(|a| a.name != "alice"),
                "{family}, write fails {write_fails}: the run's undo leaves alice's libraries: {preview:?}"
            );
        }
    }
}
