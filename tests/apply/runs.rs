//! A run end to end: every outcome written and recorded, the stale check, one account's
//! failure, a rejected token, a run stopped part way, no token in the database, the limiter.

use super::*;

/// alice: grant (Movies, TV Shows) over Music; bob: new share of everything; carol: pending
/// share gains Music; dave: dest All, untouched; Kiddo (managed): new share of Kids.
#[tokio::test]
async fn applies_every_outcome_as_union_writes_and_records_it() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let (p, report) = env.plan_and_apply().await;
        assert_eq!(p.summary.users_to_update, 4, "{family}");
        assert_eq!(report.status, RunStatus::Finished);
        assert_eq!(report.count(AccountResult::Applied), 4, "{report:#?}");
        assert!(report.summary.verified);
        assert_eq!(report.summary.libraries_changed, 2 + 4 + 1 + 1);
        assert_eq!(report.summary.write_requests, 4);
        assert_eq!(
            env.titles(&env.dest, "alice"),
            ["Movies", "Music", "TV Shows"],
            "{family}: the union keeps Music"
        );
        assert_eq!(env.titles(&env.dest, "carol"), ["Kids", "Music"]);
        assert!(
            env.sandbox
                .world()
                .share_for(&env.mid(&env.dest), env.account("carol"))
                .unwrap()
                .pending
        );
        assert_eq!(env.titles(&env.dest, "Kiddo"), ["Kids"]);
        let dave = env.sandbox.world();
        assert!(
            dave.share_for(&env.mid(&env.dest), env.account("dave"))
                .unwrap()
                .all_libraries
        );
        let bob = env.sandbox.world();
        let bob_share = bob
            .share_for(&env.mid(&env.dest), env.account("bob"))
            .unwrap();
        assert!(
            !bob_share.all_libraries,
            "{family}: a new share lists its libraries"
        );
        assert_eq!(bob_share.section_ids.len(), 4);

        // The record: one finished run, every grant verified, trigger kept.
        let detail = env.store.run(report.run).unwrap();
        assert_eq!(detail.run.status, RunStatus::Finished);
        assert_eq!(detail.run.trigger, "cli:tester");
        assert_eq!(detail.run.dest, env.dest);
        assert_eq!(detail.accounts.len(), 4);
        assert_eq!(detail.grants.len(), 8);
        assert!(detail
            .grants
            .iter()
            .all(|g| g.state == GrantState::Verified && g.action == GrantAction::Add));
        let bob_grants: Vec<_> = detail
            .grants
            .iter()
            .filter(|g| g.account_name == "bob")
            .collect();
        assert!(bob_grants
            .iter()
            .all(|g| g.created_share && g.share_id.is_some()));

        exactly_planned(&env, &p, &env.start, &env.sandbox.world());
        env.check_wire();
        second_apply_writes_nothing(&env).await;
        env.check_wire();
    }
}

/// Stale-safe: another admin edits between plan and apply → Stale, nothing written, no run.
#[tokio::test]
async fn a_concurrent_edit_makes_the_plan_stale_and_nothing_is_written() {
    for family in FAMILIES {
        for edit in ["add on dest", "remove on source"] {
            let env = env(small_scenario(), family).await;
            let approved = env.plan().await;
            let (dest_mid, source_mid) = (env.mid(&env.dest), env.mid(&env.source));
            let alice = env.account("alice");
            let tv = env.section("doodoo", "TV Shows");
            env.sandbox.with_world(|w| {
                let (mid, remove) = match edit {
                    "add on dest" => (dest_mid.clone(), false),
                    _ => (source_mid.clone(), true),
                };
                let share = w
                    .shares
                    .values_mut()
                    .find(|s| s.machine_id == mid && s.account_id == Some(alice))
                    .unwrap();
                if remove {
                    share.section_ids.pop_first();
                } else {
                    share.section_ids.insert(tv);
                }
            });
            let before = env.sandbox.world();
            env.sandbox.clear_requests();
            let err = env.apply(&approved).await.unwrap_err();
            let ApplyError::Stale {
                differences,
                fresh_plan,
            } = err
            else {
                panic!("{family} {edit}: expected Stale, got {err}");
            };
            assert_eq!(differences.len(), 1, "{differences:?}");
            assert!(differences[0].starts_with("alice:"), "{differences:?}");
            assert!(fresh_plan.differences(&approved).len() == 1);
            assert!(
                env.writes().is_empty(),
                "{family} {edit}: wrote while stale"
            );
            assert_eq!(env.sandbox.world(), before);
            assert!(
                env.store.runs(10).unwrap().is_empty(),
                "a stale apply records no run"
            );
            check_wire(&env.sandbox, &before, &env.sandbox.world(), family);
        }
    }
}

/// One account that plex.tv keeps refusing fails with plex.tv's own words; the others are
/// applied and the run finishes.
#[tokio::test]
async fn one_accounts_failure_never_stops_the_others() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let p = env.plan().await;
        let alice_share = env.dest_share("alice").unwrap().id;
        env.sandbox.inject(Fault::new(
            FaultTarget::WritesTo(format!("shared_servers/{alice_share}")),
            FaultKind::ServerError(500),
            100,
        ));
        let report = env.apply(&p).await.expect("apply");
        assert_eq!(report.status, RunStatus::Finished);
        let alice = report.accounts.iter().find(|a| a.name == "alice").unwrap();
        assert_eq!(alice.result, AccountResult::Failed, "{alice:?}");
        assert!(
            alice.reason.as_deref().unwrap().contains("500"),
            "{alice:?}"
        );
        assert_eq!(alice.requests, 1 + RetryPolicy::fast().retries);
        assert_eq!(report.count(AccountResult::Applied), 3);
        assert_eq!(report.summary.accounts_failed, 1);
        let detail = env.store.run(report.run).unwrap();
        assert!(detail
            .grants
            .iter()
            .filter(|g| g.account_name == "alice")
            .all(|g| g.state == GrantState::Missing));
        env.check_wire();
    }
}

/// A 401 stops the run: "plex.tv rejected the token", the run recorded as failed.
#[tokio::test]
async fn a_rejected_token_stops_the_run() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let p = env.plan().await;
        let sandbox = &env.sandbox;
        let revoke = |e: Progress| {
            if matches!(e, Progress::Started { .. }) {
                sandbox.with_world(|w| w.tokens.clear());
            }
        };
        let err = apply(&env.client, &env.store, &env.job(&p), revoke)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "plex.tv rejected the token");
        let ApplyError::TokenRejected { run: Some(run) } = err else {
            panic!("{err:?}")
        };
        let detail = env.store.run(run).unwrap();
        assert_eq!(detail.run.status, RunStatus::Failed);
        assert!(detail.grants.iter().all(|g| g.state != GrantState::Intent));
        env.check_wire();
        // Before any run starts, a bad token is reported the same way, with no run.
        let err = env.apply(&p).await.unwrap_err();
        assert!(
            matches!(err, ApplyError::TokenRejected { run: None }),
            "{err:?}"
        );
    }
}

/// Dropping the apply future part way leaves an accurate record (the run interrupted, its
/// unanswered intents interrupted); the rerun settles them and converges.
#[tokio::test]
async fn a_run_stopped_part_way_is_recorded_and_the_rerun_converges() {
    for family in FAMILIES {
        let mut env = env(Scenario::generated(80, 6, 7), family).await;
        env.limits = Limits {
            writes_per_second: 0.0,
            concurrency: 2,
            ..Limits::no_blast_limits()
        };
        let p = env.plan().await;
        assert!(p.summary.users_to_update > 10);
        env.sandbox.set_latency(Duration::from_millis(40));
        let cut = tokio::time::timeout(Duration::from_millis(600), env.apply(&p)).await;
        assert!(cut.is_err(), "the run should have been cut short");
        env.sandbox.set_latency(Duration::ZERO);

        let runs = env.store.runs(10).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, RunStatus::Interrupted);
        let first = env.store.run(runs[0].id).unwrap();
        assert!(first.grants.iter().all(|g| g.state != GrantState::Intent));
        let settled: Vec<_> = first
            .grants
            .iter()
            .filter(|g| g.state == GrantState::Applied)
            .collect();
        assert!(
            !settled.is_empty(),
            "{family}: some writes went through before the cut"
        );
        assert!(
            first.grants.len() < p.summary.grants_to_add,
            "{family}: the cut came too late"
        );
        never_lost(&env.start, &env.sandbox.world());

        let (p2, report) = env.plan_and_apply().await;
        assert!(p2.summary.users_to_update < p.summary.users_to_update);
        assert_eq!(
            report.count(AccountResult::Applied),
            p2.summary.users_to_update
        );
        // The rerun settled the first run's unanswered grants from its fresh read.
        let first = env.store.run(runs[0].id).unwrap();
        assert!(first
            .grants
            .iter()
            .all(|g| matches!(g.state, GrantState::Applied | GrantState::Missing)));
        exactly_planned(&env, &p, &env.start, &env.sandbox.world());
        env.check_wire();
        second_apply_writes_nothing(&env).await;
    }
}

/// The apply and undo futures can be spawned (the bot runs them on tasks).
#[test]
fn the_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let env = env(small_scenario(), ApiFamily::V2).await;
        let p = env.plan().await;
        let job = env.job(&p);
        let fut = apply(&env.client, &env.store, &job, |_| {});
        assert_send(&fut);
        let undo_job = UndoJob::new(sharesync::store::RunId(1), &env.limits, &env.trigger);
        let fut2 = undo(&env.client, &env.store, &undo_job, |_| {});
        assert_send(&fut2);
    });
}

/// No token reaches the database: secrets are never stored.
#[tokio::test]
async fn no_token_reaches_the_database() {
    let env = env(small_scenario(), ApiFamily::V2).await;
    env.plan_and_apply().await;
    let mut bytes = std::fs::read(&env.db).unwrap();
    if let Ok(wal) = std::fs::read(env.db.with_extension("sqlite-wal")) {
        bytes.extend(wal);
    }
    let world = env.sandbox.world();
    let mut secrets: Vec<String> = world.tokens.keys().cloned().collect();
    secrets.extend(world.shares.values().map(|s| s.access_token.clone()));
    secrets.extend(world.servers.iter().map(|s| s.access_token.clone()));
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "a token is in the database");
    }
}

/// The limiter: with 2 writes/s, 4 writes take at least 1.5 s.
#[tokio::test]
async fn the_limiter_spaces_writes() {
    let mut env = env(small_scenario(), ApiFamily::V2).await;
    env.limits = Limits::default();
    let p = env.plan().await;
    let started = std::time::Instant::now();
    let report = env.apply(&p).await.unwrap();
    all_applied(&report);
    assert!(started.elapsed() >= Duration::from_millis(1450));
}
