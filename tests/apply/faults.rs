//! plex.tv's faults during a run (rate limits, bad gateways, timeouts, malformed answers,
//! dropped connections) are retried and the run converges.

use super::*;

/// One account's fault schedule, and the per-account result it must end with.
async fn fault_case(
    family: ApiFamily,
    fault: Fault,
    timeout: Duration,
) -> (Env, RunReport, std::time::Duration) {
    let env = env_with(small_scenario(), family, timeout).await;
    let p = env.plan().await;
    env.sandbox.clear_requests();
    env.sandbox.inject(fault);
    let started = std::time::Instant::now();
    let report = env.apply(&p).await.expect("apply");
    let took = started.elapsed();
    exactly_planned(&env, &p, &env.start, &env.sandbox.world());
    env.check_wire();
    second_apply_writes_nothing(&env).await;
    (env, report, took)
}

#[tokio::test]
async fn rate_limited_with_retry_after_waits_that_long_and_converges() {
    for family in FAMILIES {
        let fault = Fault::new(
            FaultTarget::Writes,
            FaultKind::RateLimit {
                retry_after_secs: Some(1),
            },
            1,
        );
        let (_env, report, took) = fault_case(family, fault, Duration::from_secs(10)).await;
        all_applied(&report);
        assert_eq!(report.summary.write_requests, 5, "one retry");
        assert!(
            took >= Duration::from_millis(950),
            "Retry-After not honoured: {took:?}"
        );
    }
}

#[tokio::test]
async fn rate_limited_without_retry_after_backs_off_and_converges() {
    for family in FAMILIES {
        let fault = Fault::new(
            FaultTarget::Writes,
            FaultKind::RateLimit {
                retry_after_secs: None,
            },
            3,
        );
        let (_env, report, _) = fault_case(family, fault, Duration::from_secs(10)).await;
        all_applied(&report);
        assert_eq!(report.summary.write_requests, 4 + 3);
    }
}

#[tokio::test]
async fn bad_gateway_on_writes_is_retried_and_converges() {
    for family in FAMILIES {
        let fault = Fault::new(FaultTarget::Writes, FaultKind::ServerError(502), 4);
        let (_env, report, _) = fault_case(family, fault, Duration::from_secs(10)).await;
        all_applied(&report);
        assert_eq!(report.summary.write_requests, 4 + 4);
    }
}

/// The write lands but its answer comes after the client gave up: the re-read before the retry
/// finds it in place, so it is not sent again.
#[tokio::test]
async fn a_timed_out_write_that_landed_is_not_sent_again() {
    for family in FAMILIES {
        let fault = Fault::new(
            FaultTarget::Writes,
            FaultKind::Delay(Duration::from_millis(1500)),
            1,
        );
        let (env, report, _) = fault_case(family, fault, Duration::from_millis(400)).await;
        all_applied(&report);
        assert_eq!(
            report.summary.write_requests, 4,
            "{family}: landed write was re-sent"
        );
        let detail = env.store.run(report.run).unwrap();
        assert!(
            detail.grants.iter().any(|g| g
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("landed although"))),
            "{family}: the record says how it landed: {:#?}",
            detail.grants
        );
    }
}

/// A malformed answer to a write that landed (a create must parse its answer for the share id):
/// re-read, found, not sent again.
#[tokio::test]
async fn a_malformed_answer_to_a_landed_write_converges() {
    for family in FAMILIES {
        let fault = Fault::new(FaultTarget::Writes, FaultKind::MalformedBody, 4);
        let (_env, report, _) = fault_case(family, fault, Duration::from_secs(10)).await;
        all_applied(&report);
        assert_eq!(report.summary.write_requests, 4, "{family}");
    }
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_converges() {
    for family in FAMILIES {
        let fault = Fault::new(FaultTarget::Writes, FaultKind::DropConnection, 2);
        let (_env, report, _) = fault_case(family, fault, Duration::from_secs(10)).await;
        all_applied(&report);
        assert_eq!(report.summary.write_requests, 4 + 2);
    }
}

/// Faults on the reads (the stale check, the re-reads, the read-back) are survived too.
#[tokio::test]
async fn faults_on_reads_are_survived() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let p = env.plan().await;
        env.sandbox.inject(Fault::new(
            FaultTarget::Reads,
            FaultKind::ServerError(503),
            2,
        ));
        env.sandbox
            .inject(Fault::new(FaultTarget::Reads, FaultKind::TruncatedBody, 1));
        env.sandbox
            .inject(Fault::new(FaultTarget::Reads, FaultKind::EmptyCatalogue, 1));
        let report = env.apply(&p).await.expect("apply");
        all_applied(&report);
        env.check_wire();
        second_apply_writes_nothing(&env).await;
    }
}

/// A run waiting out a `Retry-After` longer than the lease timeout keeps its destination: the
/// lease's heartbeat goes on in the background, so a second writer is refused (it does not take
/// over a live run), and the run is still `running`, not declared dead.
#[tokio::test]
async fn a_run_waiting_out_retry_after_keeps_its_lease_alive() {
    use sharesync::apply::{Busy, DestLease, LeaseSettings};
    let mut env = env(Scenario::demo(), ApiFamily::V2).await;
    env.limits.lease_timeout_seconds = 3;
    let p = env.plan().await;
    env.sandbox.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::RateLimit {
            retry_after_secs: Some(5),
        },
        1,
    ));
    let env = std::sync::Arc::new(env);
    let running = {
        let env = env.clone();
        tokio::spawn(async move { env.apply(&p).await })
    };
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let other = Store::open(&env.db).unwrap();
    let second = DestLease::acquire(
        &other,
        &env.dest,
        &Trigger::cli("bob"),
        &LeaseSettings::from_limits(&env.limits),
    );
    let Err(Busy::Held(held)) = second else {
        panic!("a live run waiting out Retry-After must keep its destination")
    };
    let run = held.run.expect("the run had started");
    assert_eq!(other.run(run).unwrap().run.status, RunStatus::Running);
    // Seen from another host this is what counts: a heartbeat within the renewal period.
    let silent = chrono::Utc::now() - held.heartbeat_at;
    // Without renewal the last beat would be the acquisition, 4.5 s ago; within the timeout
    // (3 s) it was renewed, with room for a loaded machine.
    assert!(
        silent < chrono::Duration::milliseconds(3000),
        "renewed during the wait: last beat {silent} ago"
    );
    let report = running.await.unwrap().expect("apply");
    assert_eq!(report.status, RunStatus::Finished);
    assert!(
        report.summary.write_requests > 1,
        "the rate-limited write was retried"
    );
    assert!(other.leases().unwrap().is_empty(), "released after the run");
}
