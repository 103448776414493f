//! The one way a front end runs an apply or an undo (the CLI, the bot's Confirm, a schedule).
//!
//! A [`Runner`] owns everything a run is besides its input and its display: the destination's
//! lease taken before the stale-check read (or one the front end took earlier, to answer "busy"
//! at once), the "nothing to apply" short-cut, the stale check, the blast-radius limits, the
//! writes, the read-back, the record, and one stream of [`Progress`] events for both kinds of
//! run. A front end gathers the input, renders the events and words the result or the
//! [`ApplyError`] for its people.

use super::error::ApplyError;
use super::job::{apply, ApplyJob, ApplyRequest};
use super::limiter::WriteLimiter;
use super::lock::{holder_is_dead, Busy, DestLease, LeaseSettings};
use super::report::{Progress, RunReport, UndoPlan};
use super::retry::RetryPolicy;
use super::run::DEFAULT_BATCH_SIZE;
use super::undo::{plan_undo, undo, UndoJob};
use crate::config::Limits;
use crate::model::ServerRef;
use crate::plex::PlexClient;
use crate::store::{RunId, Store, Trigger};

/// Runs applies and undos against one record, under one set of limits.
#[derive(Debug, Clone)]
pub struct Runner<'a> {
    store: &'a Store,
    limits: &'a Limits,
    limiter: Option<&'a WriteLimiter>,
    retry: RetryPolicy,
    batch_size: usize,
}

/// What an apply came to, when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The approved plan grants nothing: no lease was taken, nothing was read or recorded.
    NothingToApply,
    /// The run's report (some accounts may have failed: see its summary).
    Ran(RunReport),
}

/// An undo previewed under its destination's lease, waiting for the admin's confirmation.
/// The lease is held until the undo has run or this is dropped.
#[derive(Debug)]
pub struct PendingUndo {
    plan: UndoPlan,
    lease: DestLease,
    trigger: Trigger,
}

impl PendingUndo {
    /// What the undo would remove, as read under the lease.
    pub fn plan(&self) -> &UndoPlan {
        &self.plan
    }
}

impl<'a> Runner<'a> {
    /// A runner on `store`'s record, under `limits`, with its own write limiter per run.
    pub fn new(store: &'a Store, limits: &'a Limits) -> Self {
        Runner {
            store,
            limits,
            limiter: None,
            retry: RetryPolicy::default(),
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Share `limiter` with other runs on the same client (the bot's and its schedules').
    pub fn with_limiter(mut self, limiter: &'a WriteLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Retry failed writes by `retry` instead of the default policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn lease_settings(&self) -> LeaseSettings {
        LeaseSettings::from_limits(self.limits)
    }

    /// Take `dest`'s lease now, for a front end that answers "busy" before it starts the run
    /// (pass it to [`Runner::apply`]); [`Busy::Held`] names who holds it.
    pub fn lease(&self, dest: &ServerRef, who: &Trigger) -> Result<DestLease, Busy> {
        DestLease::acquire(self.store, dest, who, &self.lease_settings())
    }

    /// Whether a live holder has the destination a config names (`dest`: its name or machine
    /// id), from the record alone: nothing is read from plex.tv and nothing is taken.
    pub fn check_free(&self, dest: &str) -> Result<(), Busy> {
        let settings = self.lease_settings();
        let dest = dest.trim();
        let held = self.store.leases()?.into_iter().find(|l| {
            (l.dest.machine_id.0.eq_ignore_ascii_case(dest)
                || l.dest.name.trim().to_lowercase() == dest.to_lowercase())
                && !holder_is_dead(l, &settings)
        });
        match held {
            Some(held) => Err(Busy::Held(Box::new(held))),
            None => Ok(()),
        }
    }

    /// Apply `request.approved`: under `lease` (or the destination's lease taken first, before
    /// any read), the stale check, the limits, the writes, the read-back and the record.
    /// `progress` hears every step.
    pub async fn apply(
        &self,
        client: &PlexClient,
        request: &ApplyRequest<'_>,
        lease: Option<&DestLease>,
        progress: impl Fn(Progress) + Send + Sync,
    ) -> Result<Applied, ApplyError> {
        if request.approved.to_update().next().is_none() {
            return Ok(Applied::NothingToApply);
        }
        let job = ApplyJob {
            request: *request,
            limits: self.limits,
            retry: self.retry.clone(),
            batch_size: self.batch_size,
            limiter: self.limiter,
            lease,
        };
        apply(client, self.store, &job, progress)
            .await
            .map(Applied::Ran)
    }

    /// Take the destination's lease of apply run `run`, then read the destination and say what
    /// undoing the run would remove. Nothing is written to plex.tv; the lease stays with the
    /// preview until [`Runner::undo`] has run it.
    pub async fn preview_undo(
        &self,
        client: &PlexClient,
        run: RunId,
        who: &Trigger,
    ) -> Result<PendingUndo, ApplyError> {
        let dest = self.store.run(run)?.run.dest;
        let lease = self.lease(&dest, who)?;
        let plan = plan_undo(client, self.store, run).await?;
        Ok(PendingUndo {
            plan,
            lease,
            trigger: who.clone(),
        })
    }

    /// Undo the previewed run: removes exactly what the confirmed preview showed, or nothing
    /// when a fresh read says otherwise ([`ApplyError::UndoChanged`]). `progress` hears the
    /// same events as an apply's.
    pub async fn undo(
        &self,
        client: &PlexClient,
        pending: PendingUndo,
        progress: impl Fn(Progress) + Send + Sync,
    ) -> Result<RunReport, ApplyError> {
        let job = UndoJob {
            run: pending.plan.run.id,
            limits: self.limits,
            trigger: &pending.trigger,
            retry: self.retry.clone(),
            batch_size: self.batch_size,
            limiter: self.limiter,
            lease: Some(&pending.lease),
            confirmed: Some(&pending.plan),
        };
        undo(client, self.store, &job, progress).await
    }
}
