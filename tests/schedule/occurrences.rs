//! When a schedule runs: once per occurrence at its cron time, across daylight saving changes,
//! after downtime, around a manual apply, and with two schedulers on one database.

use super::*;

#[tokio::test]
async fn fires_once_per_occurrence_at_the_cron_time() {
    let e = env(r#"cron = "0 3 * * *""#).await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    nothing_due(&s, "2026-01-10T02:00:00Z").await;
    nothing_due(&s, "2026-01-10T02:59:59Z").await;
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
    nothing_due(&s, "2026-01-10T03:00:40Z").await;
    nothing_due(&s, "2026-01-11T02:59:00Z").await;
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
    nothing_due(&first, "2026-01-10T01:00:00Z").await;
    // Back three days later: three occurrences were missed; one run, for the latest.
    let back = e.scheduler(at("2026-01-13T12:00:00Z"));
    let run = one(back.run_due(at("2026-01-13T12:00:00Z")).await.unwrap());
    assert!(run.caught_up);
    assert_eq!(run.due, at("2026-01-13T03:00:00Z"));
    nothing_due(&back, "2026-01-13T12:00:15Z").await;
}

#[tokio::test]
async fn catch_up_off_skips_missed_runs_but_keeps_the_next() {
    let e = env("cron = \"0 3 * * *\"\ncatch_up = false").await;
    let first = e.scheduler(at("2026-01-10T01:00:00Z"));
    nothing_due(&first, "2026-01-10T01:00:00Z").await;
    let back = e.scheduler(at("2026-01-13T12:00:00Z"));
    nothing_due(&back, "2026-01-13T12:00:00Z").await;
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
