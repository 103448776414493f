//! Scheduled syncs (src/schedule): `run_due` driven at fixed instants against the simulated
//! plex.tv over loopback, with the schedule state in a real SQLite file.

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use sharesync::apply::{DestLease, LeaseSettings, WriteLimiter};
use sharesync::config::Config;
use sharesync::cron::{CronExpr, TimeZone};
use sharesync::model::{MachineId, ServerRef};
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::schedule::{Outcome, ScheduledRun, Scheduler};
use sharesync::session::SharedSession;
use sharesync::store::Store;

#[path = "schedule/runner.rs"]
mod runner;

struct Env {
    sandbox: Sandbox,
    config: Config,
    store: Store,
    _dir: tempfile::TempDir,
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn env(schedule: &str) -> Env {
    env_with(Scenario::demo(), schedule).await
}

async fn env_with(scenario: Scenario, schedule: &str) -> Env {
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(&sandbox, &dir, &sandbox.owner_token(), schedule);
    let store = Store::open(config.database_file()).unwrap();
    Env {
        sandbox,
        config,
        store,
        _dir: dir,
    }
}

fn config_for(sandbox: &Sandbox, dir: &tempfile::TempDir, token: &str, schedule: &str) -> Config {
    Config::from_toml_str(&format!(
        r#"
data_dir = "{dir}"
[plex]
token = "{token}"
url = "{url}"
[limits]
writes_per_second = 0
[[pair]]
name = "main"
source = "noodle"
dest = "doodoo"
aliases = {{ "Movies 4K" = "4K Movies" }}
[[schedule]]
name = "nightly"
pair = "main"
{schedule}
"#,
        dir = dir.path().display(),
        url = sandbox.url(),
    ))
    .unwrap()
}

impl Env {
    /// A scheduler as a process started at `started_at` would make it.
    fn scheduler(&self, started_at: DateTime<Utc>) -> Scheduler {
        Scheduler::new(
            self.config.clone(),
            self.store.clone(),
            Arc::new(SharedSession::new(self.config.clone())),
            Arc::new(WriteLimiter::new(&self.config.limits)),
            started_at,
        )
    }

    fn writes(&self) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains("shared_servers"))
            .count()
    }

    /// The destination's stored baseline (its last good read's size).
    fn baseline_size(&self) -> sharesync::guard::ReadSize {
        self.store
            .read_baseline(&self.dest().machine_id)
            .unwrap()
            .expect("a baseline")
            .size
    }

    fn dest(&self) -> ServerRef {
        let world = self.sandbox.world();
        let s = world.servers.iter().find(|s| s.name == "doodoo").unwrap();
        ServerRef {
            name: s.name.clone(),
            machine_id: MachineId(s.machine_id.clone()),
        }
    }
}

fn one(runs: Vec<ScheduledRun>) -> ScheduledRun {
    assert_eq!(runs.len(), 1, "expected exactly one run: {runs:?}");
    runs.into_iter().next().unwrap()
}

#[tokio::test]
async fn fires_once_per_occurrence_at_the_cron_time() {
    let e = env(r#"cron = "0 3 * * *""#).await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    assert!(s
        .run_due(at("2026-01-10T02:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .run_due(at("2026-01-10T02:59:59Z"))
        .await
        .unwrap()
        .is_empty());
    let run = one(s.run_due(at("2026-01-10T03:00:10Z")).await.unwrap());
    assert_eq!(run.due, at("2026-01-10T03:00:00Z"));
    assert!(!run.caught_up);
    assert_eq!(run.next, Some(at("2026-01-11T03:00:00Z")));
    let Outcome::ToApprove { plan } = &run.outcome else {
        panic!("report mode with grants to make: {:?}", run.outcome)
    };
    assert!(plan.to_update().count() > 0);
    assert!(run.worth_announcing());
    assert_eq!(e.writes(), 0, "report mode never writes");
    // The same occurrence is not run again, the next one is.
    assert!(s
        .run_due(at("2026-01-10T03:00:40Z"))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .run_due(at("2026-01-11T02:59:00Z"))
        .await
        .unwrap()
        .is_empty());
    one(s.run_due(at("2026-01-11T03:00:05Z")).await.unwrap());
    let state = e.store.schedule_state("nightly").unwrap().expect("armed");
    assert_eq!(state.last_due, Some(at("2026-01-11T03:00:00Z")));
    assert!(state.last_result.unwrap().starts_with("reported"));
}

#[test]
fn daylight_saving_changes_fire_once_at_the_crontab_time() {
    let cron: CronExpr = "30 2 * * *".parse().unwrap();
    let berlin: TimeZone = "Europe/Berlin".parse().unwrap();
    // Spring forward (2026-03-29, 02:00 → 03:00 local): 02:30 does not exist; fires at 03:00
    // CEST (01:00 UTC), then back to 02:30 CEST.
    let spring = cron.upcoming(berlin, at("2026-03-28T12:00:00Z"), 2);
    assert_eq!(
        spring,
        [at("2026-03-29T01:00:00Z"), at("2026-03-30T00:30:00Z")]
    );
    // Fall back (2026-10-25, 03:00 → 02:00 local): 02:30 happens twice; fires once, at the first.
    let autumn = cron.upcoming(berlin, at("2026-10-24T12:00:00Z"), 2);
    assert_eq!(
        autumn,
        [at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z")]
    );
    // Asked from inside the repeated hour, the answer is still in the future.
    assert_eq!(
        cron.next_after(berlin, at("2026-10-25T01:15:00Z")),
        Some(at("2026-10-26T01:30:00Z"))
    );
}

#[tokio::test]
async fn a_fall_back_night_driven_every_fifteen_minutes_runs_once() {
    let e = env("cron = \"30 2 * * *\"\ntimezone = \"Europe/Berlin\"").await;
    let start = at("2026-10-24T20:00:00Z");
    let s = e.scheduler(start);
    let mut runs = Vec::new();
    let mut now = start;
    while now < at("2026-10-25T06:00:00Z") {
        runs.extend(s.run_due(now).await.unwrap());
        now += chrono::Duration::minutes(15);
    }
    let run = one(runs);
    assert_eq!(run.due, at("2026-10-25T00:30:00Z"));
}

#[tokio::test]
async fn a_run_missed_during_downtime_runs_once_when_back() {
    let e = env(r#"cron = "0 3 * * *""#).await;
    // First process: arms the schedule, then stops before 03:00.
    let first = e.scheduler(at("2026-01-10T01:00:00Z"));
    assert!(first
        .run_due(at("2026-01-10T01:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    // Back three days later: three occurrences were missed; one run, for the latest.
    let back = e.scheduler(at("2026-01-13T12:00:00Z"));
    let run = one(back.run_due(at("2026-01-13T12:00:00Z")).await.unwrap());
    assert!(run.caught_up);
    assert_eq!(run.due, at("2026-01-13T03:00:00Z"));
    assert!(back
        .run_due(at("2026-01-13T12:00:15Z"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn catch_up_off_skips_missed_runs_but_keeps_the_next() {
    let e = env("cron = \"0 3 * * *\"\ncatch_up = false").await;
    let first = e.scheduler(at("2026-01-10T01:00:00Z"));
    assert!(first
        .run_due(at("2026-01-10T01:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    let back = e.scheduler(at("2026-01-13T12:00:00Z"));
    assert!(back
        .run_due(at("2026-01-13T12:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    let next = one(back.run_due(at("2026-01-14T03:00:05Z")).await.unwrap());
    assert!(!next.caught_up);
    assert_eq!(e.writes(), 0);
}

#[tokio::test]
async fn an_apply_run_waits_for_a_manual_apply_on_the_same_destination() {
    let e = env("cron = \"0 3 * * *\"\nmode = \"apply\"").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    // A manual apply holds the destination.
    let manual = DestLease::acquire(
        &e.store,
        &e.dest(),
        &sharesync::store::Trigger::cli("alice"),
        &LeaseSettings::from_limits(&e.config.limits),
    )
    .unwrap();
    e.sandbox.clear_requests();
    for tick in ["2026-01-10T03:00:05Z", "2026-01-10T03:00:10Z"] {
        assert!(s.run_due(at(tick)).await.unwrap().is_empty());
    }
    assert!(
        e.sandbox.requests().is_empty(),
        "a deferred run neither signs in nor reads plex.tv each tick"
    );
    drop(manual);
    // Deferred, not lost: the next tick runs it.
    let run = one(s.run_due(at("2026-01-10T03:00:20Z")).await.unwrap());
    assert_eq!(run.due, at("2026-01-10T03:00:00Z"));
    let Outcome::Applied { plan, report } = &run.outcome else {
        panic!("apply mode: {:?}", run.outcome)
    };
    assert_eq!(report.summary.accounts_updated, plan.to_update().count());
    assert!(report.summary.libraries_changed > 0);
    assert!(e.writes() > 0);
    assert_eq!(e.store.runs(1).unwrap()[0].trigger, "schedule:nightly");
    // The next night everything is in step: reported as in sync, and quiet by default.
    let next = one(s.run_due(at("2026-01-11T03:00:05Z")).await.unwrap());
    assert!(matches!(next.outcome, Outcome::InSync { .. }));
    assert!(!next.worth_announcing());
}

#[tokio::test]
async fn in_sync_is_announced_when_quiet_is_off() {
    let e = env("cron = \"0 3 * * *\"\nmode = \"apply\"\nquiet_when_in_sync = false").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    let next = one(s.run_due(at("2026-01-11T03:00:05Z")).await.unwrap());
    assert!(matches!(next.outcome, Outcome::InSync { .. }));
    assert!(next.worth_announcing());
}

#[tokio::test]
async fn a_rejected_token_fails_once_with_the_fix_and_writes_nothing() {
    let sandbox = Sandbox::start(Scenario::demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(
        &sandbox,
        &dir,
        "revoked-token",
        "cron = \"0 3 * * *\"\nmode = \"apply\"",
    );
    let store = Store::open(config.database_file()).unwrap();
    let s = Scheduler::new(
        config.clone(),
        store,
        Arc::new(SharedSession::new(config.clone())),
        Arc::new(WriteLimiter::new(&config.limits)),
        at("2026-01-10T02:00:00Z"),
    );
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    let run = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    let Outcome::Failed { reason } = &run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert!(reason.contains("rejected the Plex token"), "{reason}");
    assert!(reason.contains("PLEX_ACCOUNT_TOKEN"), "{reason}");
    assert!(
        !reason.contains("revoked-token"),
        "the token is never shown"
    );
    assert!(run.worth_announcing());
    // Not retried every tick: the next attempt is the next occurrence.
    assert!(s
        .run_due(at("2026-01-10T03:00:20Z"))
        .await
        .unwrap()
        .is_empty());
    assert!(!sandbox
        .requests()
        .iter()
        .any(|r| r.method != "GET" && r.path.contains("shared_servers")));
    // The next occurrence reports it again, from memory: the rejected token is not sent again.
    let asked = sandbox.requests().len();
    let next = one(s.run_due(at("2026-01-11T03:00:05Z")).await.unwrap());
    assert!(matches!(next.outcome, Outcome::Failed { .. }));
    assert_eq!(
        sandbox.requests().len(),
        asked,
        "no request with a rejected token"
    );
}

#[test]
fn bad_cron_and_time_zones_fail_at_start_with_the_key() {
    let base = "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n[[schedule]]\nname = \"n\"\npair = \"main\"\n";
    for (entry, key, words) in [
        ("cron = \"0 3 * *\"", "schedule[0].cron", "4 fields"),
        (
            "cron = \"0 25 * * *\"",
            "schedule[0].cron",
            "not a cron expression",
        ),
        ("cron = \"0 3 * * * *\"", "schedule[0].cron", "6 fields"),
        (
            "cron = \"0 3 * * *\"\ntimezone = \"Mars/Olympus\"",
            "schedule[0].timezone",
            "IANA",
        ),
        (
            "cron = \"0 3 * * *\"\nmode = \"sometimes\"",
            "schedule[0].mode",
            "report",
        ),
    ] {
        let err = Config::from_toml_str(&format!("{base}{entry}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains(words), "{entry}: {err}");
    }
    let ok = Config::from_toml_str(&format!("{base}cron = \"@daily\"\n")).unwrap();
    let s = &ok.schedules[0];
    assert_eq!(
        s.cron.next_after(s.timezone, at("2026-01-10T12:00:00Z")),
        Some(Utc.with_ymd_and_hms(2026, 1, 11, 0, 0, 0).unwrap())
    );
}

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

/// Two bot processes on one database (two handles on the same SQLite file, two schedulers):
/// each occurrence is claimed by exactly one, so there is one run, for both modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_on_one_database_run_an_occurrence_once() {
    for mode in ["report", "apply"] {
        let e = env(&format!("cron = \"0 3 * * *\"\nmode = \"{mode}\"")).await;
        let other_process = Scheduler::new(
            e.config.clone(),
            Store::open(e.config.database_file()).unwrap(),
            Arc::new(SharedSession::new(e.config.clone())),
            Arc::new(WriteLimiter::new(&e.config.limits)),
            at("2026-01-10T02:00:00Z"),
        );
        let s = e.scheduler(at("2026-01-10T02:00:00Z"));
        s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
        other_process
            .run_due(at("2026-01-10T02:00:00Z"))
            .await
            .unwrap();
        let due = at("2026-01-10T03:00:05Z");
        let (a, b) = tokio::join!(s.run_due(due), other_process.run_due(due));
        let ran = a.unwrap().len() + b.unwrap().len();
        assert_eq!(ran, 1, "{mode}: one run of the occurrence");
        // Neither runs it later (the loser of a busy destination deferred, then finds it taken).
        let later = at("2026-01-10T03:00:20Z");
        let (a, b) = tokio::join!(s.run_due(later), other_process.run_due(later));
        assert_eq!(a.unwrap().len() + b.unwrap().len(), 0, "{mode}");
        let runs = e.store.runs(10).unwrap();
        match mode {
            "apply" => {
                assert_eq!(runs.len(), 1, "one apply run recorded");
                assert_eq!(
                    runs[0].summary.as_ref().unwrap().write_requests as usize,
                    e.writes()
                );
            }
            _ => assert_eq!(e.writes(), 0),
        }
    }
}

/// A password session whose token check fails for a passing reason (plex.tv answered 503 just
/// after the sign-in) keeps the token it signed in for: the next call checks that token again
/// and never signs in a second time (plex.tv locks out addresses that sign in again and again,
/// and a two-factor code works once).
#[tokio::test]
async fn a_failed_token_check_after_the_sign_in_does_not_sign_in_again() {
    use sharesync::sandbox::{Fault, FaultKind, FaultTarget};
    let sandbox = Sandbox::start(Scenario::demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml_str(&format!(
        "data_dir = \"{dir}\"\n[plex]\nusername = \"sandbox-owner\"\npassword = \"sandbox-password\"\nurl = \"{url}\"\n",
        dir = dir.path().display(),
        url = sandbox.url(),
    ))
    .unwrap();
    let session = SharedSession::new(config);
    // The first check and every retry it makes.
    sandbox.inject(Fault::new(
        FaultTarget::Reads,
        FaultKind::ServerError(503),
        4,
    ));
    assert!(session.get().await.is_err(), "the token check met a 503");
    let owner = session
        .get()
        .await
        .expect("the next call checks the token again");
    assert_eq!(owner.owner.username, "sandbox-owner");
    let sign_ins = sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/users/signin"))
        .count();
    assert_eq!(sign_ins, 1, "one sign-in for the process");
}
