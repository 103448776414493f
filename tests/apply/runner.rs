//! The `Runner`, the one way every front end runs an apply or an undo: the destination's lease
//! held from before the first read until the run is recorded, the same events for both kinds
//! of run, the "nothing to apply" short-cut, and "busy" before anything is read.

use std::sync::Mutex;

use sharesync::apply::{
    Applied, ApplyError, ApplyRequest, Busy, DestLease, Progress, RetryPolicy, Runner,
};
use sharesync::plan::Plan;
use sharesync::store::{RunId, RunKind, Trigger};

use super::{env, small_scenario, Env, FAMILIES};

fn runner(env: &Env) -> Runner<'_> {
    Runner::new(&env.store, &env.limits).with_retry(RetryPolicy::fast())
}

fn request<'a>(env: &'a Env, approved: &'a Plan) -> ApplyRequest<'a> {
    ApplyRequest {
        pair: "main",
        source: &env.source,
        dest: &env.dest,
        approved,
        options: &env.options,
        trigger: &env.trigger,
        allow_over_limits: false,
    }
}

/// Someone else's attempt at the destination's lease: refused while the runner holds it.
fn someone_else(env: &Env) -> Result<DestLease, Busy> {
    runner(env).lease(&env.dest, &Trigger::cli("someone-else"))
}

/// Reads of who sees what (the stale check's and the read-back's) plex.tv has answered.
fn sharing_reads(env: &Env) -> usize {
    env.sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("shared_servers"))
        .count()
}

/// The events one run sent, each checked as it came: the destination was leased at every one.
#[derive(Default)]
struct Events(Mutex<Vec<Progress>>);

impl Events {
    fn hear<'a>(&'a self, env: &'a Env) -> impl Fn(Progress) + Send + Sync + 'a {
        move |event| {
            assert!(
                matches!(someone_else(env), Err(Busy::Held(_))),
                "the destination is leased at {event:?}"
            );
            self.0.lock().unwrap().push(event);
        }
    }

    /// `Reading`, `Started`, one `AccountDone` per account, `Verifying`, `Finished`, for `run`
    /// (retries aside).
    fn check_sequence(&self, run: RunId, accounts: usize) {
        let events: Vec<Progress> = self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| !matches!(e, Progress::Retrying { .. }))
            .cloned()
            .collect();
        assert_eq!(events.len(), accounts + 4, "{events:?}");
        assert_eq!(events[0], Progress::Reading);
        let Progress::Started {
            run: started,
            accounts: writing,
            ..
        } = events[1]
        else {
            panic!("{events:?}")
        };
        assert_eq!((started, writing), (run, accounts));
        for (i, e) in events[2..2 + accounts].iter().enumerate() {
            let Progress::AccountDone { done, total, .. } = e else {
                panic!("{e:?}")
            };
            assert_eq!((*done, *total), (i + 1, accounts));
        }
        assert_eq!(events[accounts + 2], Progress::Verifying);
        assert_eq!(events[accounts + 3], Progress::Finished { run });
    }
}

/// An apply and its undo through the runner: the lease is held at every event, from the first
/// read to the record; both send the same sequence; each run is recorded with its trigger; the
/// undo's preview keeps the lease until the undo has run; afterwards the destination is free.
#[tokio::test]
async fn apply_and_undo_hold_the_lease_throughout_and_send_the_same_events() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let approved = env.plan().await;
        let runner = runner(&env);

        let events = Events::default();
        let applied = runner
            .apply(
                &env.client,
                &request(&env, &approved),
                None,
                events.hear(&env),
            )
            .await
            .expect("apply");
        let Applied::Ran(report) = applied else {
            panic!("the plan grants something: {applied:?}")
        };
        assert!(!report.accounts.is_empty());
        events.check_sequence(report.run, report.accounts.len());
        let record = env.store.run(report.run).unwrap().run;
        assert_eq!(
            (record.kind, record.trigger.as_str()),
            (RunKind::Apply, "cli:tester")
        );
        drop(someone_else(&env).expect("the lease is released after the run"));

        let pending = runner
            .preview_undo(&env.client, report.run, &Trigger::cli("undoer"))
            .await
            .expect("preview");
        assert!(pending.plan().removals() > 0);
        assert!(
            matches!(someone_else(&env), Err(Busy::Held(_))),
            "the preview keeps the destination until the undo has run"
        );
        let events = Events::default();
        let undone = runner
            .undo(&env.client, pending, events.hear(&env))
            .await
            .expect("undo");
        events.check_sequence(undone.run, undone.accounts.len());
        let record = env.store.run(undone.run).unwrap().run;
        assert_eq!(
            (record.kind, record.undo_of, record.trigger.as_str()),
            (RunKind::Undo, Some(report.run), "cli:undoer")
        );
        drop(someone_else(&env).expect("the lease is released after the undo"));
        env.check_wire();
    }
}

/// A held destination: the apply and the undo preview answer busy before reading anything or
/// telling anything; a plan that grants nothing is answered at once (no lease, no read, no
/// run); `check_free` sees the holder by the destination's name or id, from the record alone.
#[tokio::test]
async fn busy_before_any_read_and_nothing_to_apply_reads_nothing() {
    let env = env(small_scenario(), FAMILIES[0]).await;
    let approved = env.plan().await;
    let runner = runner(&env);
    let Applied::Ran(first) = runner
        .apply(&env.client, &request(&env, &approved), None, |_| {})
        .await
        .unwrap()
    else {
        panic!("the plan grants something")
    };
    let in_sync = env.plan().await;
    assert_eq!(in_sync.to_update().count(), 0);

    let held = someone_else(&env).unwrap();
    env.sandbox.clear_requests();
    let events = Events::default();
    let busy = runner
        .apply(&env.client, &request(&env, &approved), None, |e| {
            events.0.lock().unwrap().push(e)
        })
        .await
        .unwrap_err();
    assert!(matches!(busy, ApplyError::Busy(Busy::Held(_))), "{busy:?}");
    let busy = runner
        .preview_undo(&env.client, first.run, &env.trigger)
        .await
        .unwrap_err();
    assert!(matches!(busy, ApplyError::Busy(Busy::Held(_))), "{busy:?}");
    for dest in [env.dest.name.to_uppercase(), env.dest.machine_id.0.clone()] {
        assert!(
            matches!(runner.check_free(&dest), Err(Busy::Held(_))),
            "{dest}"
        );
    }
    // Held by someone else, yet a plan with nothing to grant needs no lease.
    let nothing = runner
        .apply(&env.client, &request(&env, &in_sync), None, |e| {
            events.0.lock().unwrap().push(e)
        })
        .await
        .unwrap();
    assert_eq!(nothing, Applied::NothingToApply);
    assert!(env.sandbox.requests().is_empty(), "nothing read");
    assert!(events.0.lock().unwrap().is_empty(), "nothing told");
    assert_eq!(env.store.runs(10).unwrap().len(), 1, "no run recorded");

    drop(held);
    runner.check_free(&env.dest.name).expect("free again");
    let nothing = runner
        .apply(&env.client, &request(&env, &in_sync), None, |_| {})
        .await
        .unwrap();
    assert_eq!(nothing, Applied::NothingToApply);
    assert_eq!(sharing_reads(&env), 0, "the short-cut reads nothing");
    assert_eq!(env.store.runs(10).unwrap().len(), 1);
    env.check_wire();
}

/// A lease handed to the runner for another server (the config changed between a Discord press
/// and its run) is refused in every build, before anything is read or written.
#[tokio::test]
async fn a_lease_for_another_server_is_refused_before_any_read() {
    let env = env(small_scenario(), FAMILIES[0]).await;
    let approved = env.plan().await;
    let runner = runner(&env);
    let other = runner.lease(&env.source, &env.trigger).unwrap();
    env.sandbox.clear_requests();
    let refused = runner
        .apply(&env.client, &request(&env, &approved), Some(&other), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ApplyError::LeaseForAnotherServer { .. }),
        "{refused:?}"
    );
    assert!(env.sandbox.requests().is_empty(), "nothing read or written");
    assert!(env.store.runs(10).unwrap().is_empty(), "no run recorded");
}
