//! Applying an approved plan (see the module docs of `apply` for the steps): the stale check
//! under the destination's lease, then the run.

use tokio::time::Instant;

use super::error::{read_error, ApplyError};
use super::grant;
use super::limiter::WriteLimiter;
use super::lock::DestLease;
use super::report::{Progress, RunReport};
use super::retry::RetryPolicy;
use super::run::{lease_for, run_changes, settle_interrupted, RunSettings, DEFAULT_BATCH_SIZE};
use super::view::Snapshot;
use crate::config::Limits;
use crate::guard::{blast::source_accounts, check_limits, ReadLooksWrong};
use crate::model::ServerRef;
use crate::plan::{plan, Plan, PlanOptions};
use crate::plex::PlexClient;
use crate::store::{NewRun, RunKind, Store, Trigger};

/// An approved plan to apply, and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    /// The configured pair's name (recorded with the run).
    pub pair: &'a str,
    /// The source server.
    pub source: &'a ServerRef,
    /// The destination server (the one written to).
    pub dest: &'a ServerRef,
    /// The plan an admin approved (or a saved plan JSON).
    pub approved: &'a Plan,
    /// The options it was planned with.
    pub options: &'a PlanOptions,
    /// Who started the run (recorded with it).
    pub trigger: &'a Trigger,
    /// Go over the blast-radius limits (the admin saw the numbers and chose to). Off: a plan
    /// over a limit is refused with [`ApplyError::OverLimit`].
    pub allow_over_limits: bool,
}

/// Everything [`apply`] needs: the request, and how the run writes (a front end fills in an
/// [`ApplyRequest`] for the `Runner` instead).
#[derive(Debug, Clone)]
pub struct ApplyJob<'a> {
    /// What to apply, from where to where, for whom.
    pub request: ApplyRequest<'a>,
    /// Blast-radius limits, write rate and lease timing.
    pub limits: &'a Limits,
    /// How failed writes are retried.
    pub retry: RetryPolicy,
    /// Accounts written between two heartbeats of the run's record.
    pub batch_size: usize,
    /// A limiter shared with other runs on the same client; `None`: one for this run.
    pub limiter: Option<&'a WriteLimiter>,
    /// The destination's lease, taken by the front end before it answered the admin; `None`:
    /// [`apply`] takes it first thing (and answers [`ApplyError::Busy`] when it is held).
    pub lease: Option<&'a DestLease>,
}

impl<'a> ApplyJob<'a> {
    /// A job with the default retry policy and batch size, its own limiter and lease, and the
    /// limits on.
    pub fn new(
        pair: &'a str,
        source: &'a ServerRef,
        dest: &'a ServerRef,
        approved: &'a Plan,
        options: &'a PlanOptions,
        limits: &'a Limits,
        trigger: &'a Trigger,
    ) -> Self {
        ApplyJob {
            request: ApplyRequest {
                pair,
                source,
                dest,
                approved,
                options,
                trigger,
                allow_over_limits: false,
            },
            limits,
            retry: RetryPolicy::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            limiter: None,
            lease: None,
        }
    }
}

/// Apply `job.approved` (see the module docs). Returns the run's report, or an error that
/// means nothing more can be done (stale plan, token rejected, store or read failure).
/// Front ends go through `Runner::apply`, which adds the "nothing to apply" short-cut.
pub async fn apply(
    client: &PlexClient,
    store: &Store,
    job: &ApplyJob<'_>,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunReport, ApplyError> {
    let progress: &(dyn Fn(Progress) + Send + Sync) = &progress;
    let mut own_lease = None;
    let lease = lease_for(
        job.lease,
        &mut own_lease,
        store,
        job.request.dest,
        job.request.trigger,
        job.limits,
    )?;
    let requests_before = client.request_count();
    progress(Progress::Reading);
    let read_started = Instant::now();
    let fresh = client
        .read_sharing(job.request.source, job.request.dest)
        .await
        .map_err(read_error)?;
    // An unattended apply (a saved plan from cron, a Confirm pressed hours later) is held to
    // the baselines too, from the read it already has.
    if let Some(wrong) = ReadLooksWrong::against(store, &fresh)? {
        return Err(wrong.into());
    }
    let fresh_plan = plan(&fresh, job.request.options)?;
    let differences = fresh_plan.differences(job.request.approved);
    if !differences.is_empty() {
        return Err(ApplyError::Stale {
            differences,
            fresh_plan: Box::new(fresh_plan),
        });
    }
    if !job.request.allow_over_limits {
        check_limits(&fresh_plan, source_accounts(&fresh), job.limits)?;
    }
    settle_interrupted(store, &fresh.dest)?;
    // The read this run acts on passed: it is the servers' last good read, lower or not.
    crate::guard::baseline::record(store, &fresh, None)?;

    let targets = grant::targets(&fresh_plan, &fresh);
    let run = lease.start_run(&NewRun {
        kind: RunKind::Apply,
        undo_of: None,
        pair: job.request.pair,
        source: job.request.source,
        dest: job.request.dest,
        trigger: job.request.trigger,
    })?;
    let first = Snapshot {
        sharing: fresh.dest,
        started: read_started,
    };
    let settings = RunSettings {
        run,
        kind: RunKind::Apply,
        dest: job.request.dest,
        limits: job.limits,
        retry: &job.retry,
        batch_size: job.batch_size,
        limiter: job.limiter,
        lease,
        requests_before,
    };
    run_changes(client, store, &settings, &targets, first, progress)
        .await
        .map(|(report, _)| report)
}
