//! The guards of a scheduled run: blast-radius limits, a read that lost most shares, the
//! baseline, and empty catalogues; each refusal is announced once.

use super::*;

/// A scheduled apply over each blast-radius limit is reported instead (with the limit and the
/// numbers) and writes nothing; within the limits it applies.
#[tokio::test]
async fn a_scheduled_apply_over_each_limit_is_reported_and_writes_nothing() {
    use sharesync::guard::Limit;
    // demo: 5 accounts to update, 2 of them new shares, of 9 with access. generated(40): more
    // than ten accounts to update, so the fraction counts.
    for (scenario, limit, set) in [
        (Scenario::demo(), Limit::AccountsPerRun, (4, 0, 0.0)),
        (Scenario::demo(), Limit::NewSharesPerRun, (0, 1, 0.0)),
        (Scenario::generated(40, 4, 3), Limit::Fraction, (0, 0, 0.1)),
    ] {
        let mut e = env_with(scenario, "cron = \"0 3 * * *\"\nmode = \"apply\"").await;
        (
            e.config.limits.max_accounts_per_run,
            e.config.limits.max_new_shares_per_run,
            e.config.limits.max_fraction,
        ) = set;
        let s = e.scheduler(at("2026-01-10T02:00:00Z"));
        s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
        let run = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
        let Outcome::OverLimit { plan, over } = &run.outcome else {
            panic!("{limit:?}: over the limit is a report: {:?}", run.outcome)
        };
        assert_eq!(e.writes(), 0, "{limit:?}: nothing written");
        assert!(e.store.runs(1).unwrap().is_empty(), "{limit:?}: no run");
        assert_eq!(over.exceeded.len(), 1, "{over}");
        let hit = over.exceeded[0];
        assert_eq!(hit.limit, limit);
        assert!(hit.planned > hit.allowed, "{over}");
        assert_eq!(over.radius.accounts, plan.to_update().count());
        assert!(run.worth_announcing());
        assert!(run.summary().contains(limit.key()), "{}", run.summary());

        // Raised out of the way, the next occurrence applies.
        e.config.limits = sharesync::config::Limits::no_blast_limits();
        let s = e.scheduler(at("2026-01-10T02:00:00Z"));
        let run = one(s.run_due(at("2026-01-11T03:00:05Z")).await.unwrap());
        assert!(
            matches!(run.outcome, Outcome::Applied { .. }),
            "{limit:?}: {:?}",
            run.outcome
        );
        assert!(e.writes() > 0);
    }
}

/// A destination read that suddenly lost most of its shares is read once more, then refused
/// before any write; the refusal is announced once, not every occurrence; an accepted change
/// becomes the baseline and the next run plans from it.
#[tokio::test]
async fn a_read_that_lost_most_shares_stops_the_run_once_until_accepted() {
    use sharesync::guard::baseline::accept_server;
    let e = env("cron = \"0 * * * *\"\nmode = \"apply\"").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    let first = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    assert!(
        matches!(first.outcome, Outcome::Applied { .. }),
        "{:?}",
        first.outcome
    );
    let dest = e.dest();
    let good = e.baseline_size();
    assert!(good.shares >= 6, "{good:?}");

    let lost = e.sandbox.with_world(|w| w.take_shares("doodoo", 1));
    e.sandbox.clear_requests();
    let run = one(s.run_due(at("2026-01-10T04:00:05Z")).await.unwrap());
    let Outcome::ReadLooksWrong { wrong, first } = &run.outcome else {
        panic!(
            "a read that lost most shares must stop the run: {:?}",
            run.outcome
        )
    };
    assert!(*first && run.worth_announcing());
    s.announced(&run).unwrap();
    assert_eq!(e.writes(), 0, "nothing written");
    let text = wrong.to_string();
    assert!(
        text.contains(&format!(
            "doodoo: {} shares at the last good read, 1 now",
            good.shares
        )) && text.contains("sharesync doctor"),
        "{text}"
    );
    let share_reads = e
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("shared_servers"))
        .count();
    let reads_per_plan = 2; // one shares list per server (v2)
    assert_eq!(
        share_reads,
        2 * reads_per_plan,
        "read once more, then refused"
    );
    assert_eq!(
        e.baseline_size(),
        good,
        "a suspect read never becomes the baseline"
    );

    // The next occurrence is refused again, quietly.
    let again = one(s.run_due(at("2026-01-10T05:00:05Z")).await.unwrap());
    assert!(matches!(
        again.outcome,
        Outcome::ReadLooksWrong { first: false, .. }
    ));
    assert!(!again.worth_announcing(), "posted once, not every run");
    assert_eq!(e.writes(), 0);

    // An admin accepts the change: it is the baseline, and the next run plans from it.
    let session = sharesync::session::Session::connect(&e.config, None)
        .await
        .unwrap();
    let accepted = accept_server(&session.client, &e.store, &dest, None)
        .await
        .unwrap();
    assert_eq!(accepted.shares, 1);
    assert_eq!(e.baseline_size(), accepted);
    let after = one(s.run_due(at("2026-01-10T06:00:05Z")).await.unwrap());
    let Outcome::Applied { report, .. } = &after.outcome else {
        panic!("planned from the accepted read: {:?}", after.outcome)
    };
    assert!(report.summary.accounts_updated > 0);
    drop(lost);
}

/// A refusal is posted once per what is wrong, not per number: a bad answer that varies (2
/// shares, then 1) stays quiet once posted, also for a scheduler started again on the same
/// store; a post that failed (never marked announced) is tried again at the next occurrence.
#[tokio::test]
async fn a_refusal_is_posted_once_whatever_its_numbers_and_again_when_the_post_failed() {
    let e = env("cron = \"0 * * * *\"\nmode = \"apply\"").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    let first = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    assert!(matches!(first.outcome, Outcome::Applied { .. }));
    assert!(e.baseline_size().shares >= 6);

    e.sandbox.with_world(|w| w.take_shares("doodoo", 2));
    e.sandbox.clear_requests();
    let refused = one(s.run_due(at("2026-01-10T04:00:05Z")).await.unwrap());
    assert!(refused.worth_announcing(), "{:?}", refused.outcome);
    // The post failed: nothing marked, so the next occurrence posts it again.
    let retried = one(s.run_due(at("2026-01-10T05:00:05Z")).await.unwrap());
    assert!(retried.worth_announcing(), "{:?}", retried.outcome);
    s.announced(&retried).unwrap();

    e.sandbox.with_world(|w| w.take_shares("doodoo", 1));
    let varied = one(s.run_due(at("2026-01-10T06:00:05Z")).await.unwrap());
    let Outcome::ReadLooksWrong { wrong, .. } = &varied.outcome else {
        panic!("{:?}", varied.outcome)
    };
    assert!(wrong.to_string().contains("1 now"), "{wrong}");
    assert!(!varied.worth_announcing(), "other numbers, same refusal");

    // A restart: a new scheduler on the same store stays quiet too.
    let restarted = e.scheduler(at("2026-01-10T06:30:00Z"));
    let after = one(restarted.run_due(at("2026-01-10T07:00:05Z")).await.unwrap());
    assert!(
        matches!(after.outcome, Outcome::ReadLooksWrong { first: false, .. }),
        "{:?}",
        after.outcome
    );
    assert!(!after.worth_announcing());
    assert_eq!(e.writes(), 0, "nothing written while refused");
}

/// Reads that pass never lower the baseline (a slow decline must not walk it down); an apply
/// does, from the read it acts on.
#[tokio::test]
async fn only_an_apply_lowers_the_baseline_and_a_passing_read_raises_it() {
    let e = env("cron = \"0 * * * *\"\nmode = \"apply\"").await;
    let session = sharesync::session::Session::connect(&e.config, None)
        .await
        .unwrap();
    let pair = &e.config.pairs[0];
    let plan_checked =
        || session.plan_pair_checked(pair, vec![], &e.store, sharesync::guard::Baselines::Check);
    plan_checked().await.unwrap();
    let good = e.baseline_size();
    assert!(good.shares >= 6, "{good:?}");

    // Each dry run loses one share: within a third each time, never recorded.
    for lost in 1..=2 {
        e.sandbox
            .with_world(|w| w.take_shares("doodoo", good.shares - lost));
        plan_checked().await.unwrap();
        assert_eq!(e.baseline_size(), good, "a passing read does not lower it");
    }

    // A scheduled apply acts on the smaller read: that is the baseline now.
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    let run = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    assert!(
        matches!(run.outcome, Outcome::Applied { .. }),
        "{:?}",
        run.outcome
    );
    assert_eq!(e.baseline_size().shares, good.shares - 2);

    // The apply created shares: the next passing read raises the baseline.
    plan_checked().await.unwrap();
    assert!(e.baseline_size().shares > good.shares - 2);
}

/// A new destination nobody is shared on yet: the client cannot tell an empty catalogue from a
/// real one there (no share names a library), the baseline can. Twice empty stops the run before
/// any write; once (a blip), the re-read is planned from.
#[tokio::test]
async fn an_empty_catalogue_stops_the_run_and_a_single_blip_is_read_again() {
    use sharesync::sandbox::{Fault, FaultKind, FaultTarget};
    let libraries = [
        ("Movies", "movie"),
        ("TV Shows", "show"),
        ("Music", "artist"),
    ];
    let scenario = Scenario::builder()
        .server("noodle", &libraries)
        .server("doodoo", &libraries)
        .friend("alice")
        .friend("bob")
        .share("noodle", "alice", ["Movies", "TV Shows"])
        .share("noodle", "bob", ["Music"])
        .build();
    let e = env_with(scenario, "cron = \"0 * * * *\"\nmode = \"apply\"").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    let dest = e.dest();
    let empty = |times| {
        Fault::new(
            FaultTarget::PathContains(dest.machine_id.0.clone()),
            FaultKind::EmptyCatalogue,
            times,
        )
    };

    // The first run has no baseline to compare with; it applies (two new shares) and records one.
    let first = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    assert!(
        matches!(first.outcome, Outcome::Applied { .. }),
        "{:?}",
        first.outcome
    );
    e.sandbox.with_world(|w| w.take_shares("doodoo", 0)); // a fresh destination again

    e.sandbox.inject(empty(2));
    e.sandbox.clear_requests();
    let run = one(s.run_due(at("2026-01-10T04:00:05Z")).await.unwrap());
    let Outcome::ReadLooksWrong { wrong, first: true } = &run.outcome else {
        panic!("an empty catalogue must stop the run: {:?}", run.outcome)
    };
    assert!(
        wrong
            .to_string()
            .contains("doodoo: 3 libraries at the last good read, 0 now"),
        "{wrong}"
    );
    assert_eq!(e.writes(), 0);
    assert!(e.sandbox.pending_faults().is_empty(), "read twice");

    e.sandbox.inject(empty(1));
    let blip = one(s.run_due(at("2026-01-10T05:00:05Z")).await.unwrap());
    assert!(
        matches!(blip.outcome, Outcome::Applied { .. }),
        "{:?}",
        blip.outcome
    );
    assert!(e.sandbox.pending_faults().is_empty());
    assert!(e.writes() > 0, "planned from the good re-read");
}

/// On a server with shares the client itself finds an empty catalogue incomplete and reads
/// again; when every read comes back empty the run stops before any write, and only its first
/// occurrence is announced.
#[tokio::test]
async fn an_empty_catalogue_on_a_shared_server_stops_the_run_and_is_announced_once() {
    use sharesync::sandbox::{Fault, FaultKind, FaultTarget};
    let e = env("cron = \"0 * * * *\"\nmode = \"apply\"").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    e.sandbox.inject(Fault::new(
        FaultTarget::PathContains(e.dest().machine_id.0),
        FaultKind::EmptyCatalogue,
        1000,
    ));
    let run = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    let Outcome::ReadLooksWrong { wrong, first: true } = &run.outcome else {
        panic!("an empty catalogue must stop the run: {:?}", run.outcome)
    };
    assert!(
        wrong.to_string().contains("no libraries for doodoo")
            && !wrong.acceptable()
            && run.worth_announcing(),
        "{wrong}"
    );
    s.announced(&run).unwrap();
    assert_eq!(e.writes(), 0);
    let again = one(s.run_due(at("2026-01-10T04:00:05Z")).await.unwrap());
    assert!(
        matches!(again.outcome, Outcome::ReadLooksWrong { first: false, .. }),
        "{:?}",
        again.outcome
    );
    assert!(!again.worth_announcing(), "announced once, not every run");
    assert_eq!(e.writes(), 0);

    e.sandbox.clear_faults();
    let back = one(s.run_due(at("2026-01-10T05:00:05Z")).await.unwrap());
    assert!(
        matches!(back.outcome, Outcome::Applied { .. }),
        "{:?}",
        back.outcome
    );
}
