//! A scheduled apply runs through the same `Runner` as a manual one: while it reads and writes,
//! anyone else asking for the destination (the CLI, the bot's Confirm) is told that this
//! schedule's run holds it; once the run is recorded, the destination is free.

use std::time::Duration;

use sharesync::apply::{Busy, Runner};
use sharesync::sandbox::Scenario;
use sharesync::schedule::Outcome;
use sharesync::store::Trigger;

use super::{at, env_with, one};

#[tokio::test]
async fn a_scheduled_apply_holds_the_destination_like_a_manual_one_until_recorded() {
    let e = env_with(Scenario::demo(), "cron = \"0 3 * * *\"\nmode = \"apply\"").await;
    let s = e.scheduler(at("2026-01-10T02:00:00Z"));
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    e.sandbox.set_latency(Duration::from_millis(100));
    let manual = Runner::new(&e.store, &e.config.limits);
    let someone = Trigger::cli("alice");

    // The schedule's run, and a manual apply asking for the destination while it goes.
    let (runs, held) = tokio::join!(s.run_due(at("2026-01-10T03:00:05Z")), async {
        loop {
            match manual.lease(&e.dest(), &someone) {
                Err(Busy::Held(lease)) if lease.run.is_some() => return lease,
                Err(Busy::Held(_)) => {}
                Err(other) => panic!("{other}"),
                // Not started yet: give the destination back at once.
                Ok(lease) => drop(lease),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let run = one(runs.unwrap());
    let Outcome::Applied { report, .. } = &run.outcome else {
        panic!("apply mode: {:?}", run.outcome)
    };
    assert_eq!(held.started_by, "schedule:nightly");
    assert_eq!(
        held.run,
        Some(report.run),
        "the lease names the schedule's run"
    );
    assert_eq!(
        e.store.run(report.run).unwrap().run.trigger,
        "schedule:nightly"
    );
    drop(
        manual
            .lease(&e.dest(), &someone)
            .expect("free once the run is recorded"),
    );
}
