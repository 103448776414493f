//! The executor: apply an approved plan to plex.tv without ever removing access, and record
//! every grant.
//!
//! [`apply`]:
//! 1. **Stale check** — reads both servers fresh and plans again with the same options. If the
//!    new plan differs from the approved one, it returns [`ApplyError::Stale`] with the
//!    differences and the new plan: nothing is written and **no run is recorded** (there is
//!    nothing to record; the caller shows the new plan for approval). The writes then follow the
//!    fresh plan, which equals the approved one (a saved plan JSON carries titles, not ids).
//!    A fresh read far below the servers' last good reads is refused first
//!    ([`ApplyError::ReadLooksWrong`], nothing written, no run recorded).
//!    Then the blast-radius limits ([`crate::guard::blast`]): a fresh plan over one is refused
//!    ([`ApplyError::OverLimit`], nothing written, no run recorded) unless the job allows it.
//! 2. **Union writes** — per account, the destination share's freshly read libraries plus the
//!    planned ones (update by share id for existing and pending shares; create by account id
//!    for `new_share`, carrying the restrictions the plan showed: the source share's, or
//!    plex.tv's defaults with `copy_restrictions = false`). Never an empty list, never `All`
//!    turned into a list (an `All` share is skipped), an existing share's settings sent back as
//!    read (v2) or not at all (legacy, and v2 shares whose settings the read left out), global
//!    ids only. A create plex.tv refuses (a restriction it will not take) is not sent again
//!    once a re-read shows no share: the account fails and nothing is created. Each write is
//!    computed from a read of its share at most `limits.max_snapshot_age_seconds` old (an
//!    older one is read again on its own: one request, never the whole list per write), and a
//!    grant already present is not sent again.
//! 3. **Faults** — writes go through a [`WriteLimiter`]; failures are retried per
//!    [`RetryPolicy`] (`Retry-After` honoured, else exponential backoff with jitter), and before
//!    each retry the destination is re-read and the union computed again, because a write may
//!    have landed though its answer was lost. A rejected token stops the run
//!    ([`ApplyError::TokenRejected`]); any other failure stays with its account.
//! 4. **Verify** — one re-read after writing; per account `applied`, `partial`, `failed` (with
//!    plex.tv's own words) or `skipped` (with the reason).
//! 5. **Record** — the run, each account's line, and each grant: `intent` before its request,
//!    the outcome after, `verified`/`missing` after the read-back. A run dropped part way (its
//!    future cancelled, a panic) is marked interrupted on the spot; a killed process's run is
//!    marked interrupted when its destination lease is taken over (see `lock.rs`).
//!    The next apply on the same destination settles interrupted grants from its fresh read.
//!
//! Before all of it, the destination's [`DestLease`] is taken (by the front end, or here): one
//! writer per destination across processes, held until the run is recorded.
//!
//! [`undo::undo`] is the one path in sharesync that removes access: it removes exactly what one
//! run added and is still present.
//!
//! Layout: `drive.rs` (one account's write/retry loop), `grant.rs` (what an apply asks of an
//! account), `undo.rs`, `execute.rs` (batches and read-back), `view.rs` (the shared fresh read
//! of the destination), `limiter.rs`, `retry.rs`, `lock.rs` (the destination lease: one writer per destination).

mod drive;
mod execute;
mod grant;
mod limiter;
mod lock;
mod retry;
mod undo;
mod view;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use limiter::WriteLimiter;
pub use lock::{end_dead_leases, holder_is_dead, this_process, Busy, DestLease, LeaseSettings};
pub use retry::{Backoff, RetryPolicy};
pub use undo::{plan_undo, undo, UndoAccount, UndoAction, UndoJob, UndoPlan};

use crate::config::Limits;
use crate::guard::{blast::source_accounts, check_limits, OverLimit, ReadLooksWrong};
use crate::model::{AccountId, ServerRef, ServerSharing, ShareId};
use crate::plan::{plan, Plan, PlanError, PlanOptions};
use crate::plex::{PlexClient, PlexError};
use crate::store::{
    AccountRecord, AccountResult, GrantAction, GrantState, NewRun, RunId, RunKind, RunStatus,
    RunSummary, Store, StoreError, Trigger,
};
use drive::{Change, Ctx, Fatal};
use view::{DestView, Snapshot};

/// Accounts written between two heartbeats of the run's record.
pub const DEFAULT_BATCH_SIZE: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan changed since it was approved. Nothing was written; no run was recorded.
    #[error("the plan changed since it was approved ({} difference{}); nothing was written", .differences.len(), if .differences.len() == 1 { "" } else { "s" })]
    Stale {
        differences: Vec<String>,
        fresh_plan: Box<Plan>,
    },
    /// plex.tv answered 401: the run stopped (it is recorded as failed when it had started).
    #[error("token rejected: run `sharesync login`")]
    TokenRejected { run: Option<RunId> },
    /// Reading the servers before writing failed.
    #[error("could not read the servers from plex.tv: {0}")]
    Read(PlexError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The fresh plan is over a blast-radius limit and the job did not allow it. Nothing was
    /// written; no run was recorded.
    #[error("{0}; nothing was written")]
    OverLimit(#[from] OverLimit),
    /// The fresh read is far below the servers' last good reads ([`crate::guard::baseline`]):
    /// a plan approved earlier (a saved file, a Confirm pressed later) is not applied from it.
    /// Nothing was written; no run was recorded.
    #[error(transparent)]
    ReadLooksWrong(#[from] ReadLooksWrong),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("run {0} is an undo; only an apply run can be undone")]
    NotUndoable(RunId),
    #[error("run {0} is still running; wait for it to finish")]
    StillRunning(RunId),
    /// What undoing the run would remove changed since the preview the admin confirmed.
    /// Nothing was removed; `now` is the new preview.
    #[error("what undoing run {run} would remove changed since it was shown; nothing was removed")]
    UndoChanged { run: RunId, now: Box<UndoPlan> },
    /// Another run holds the destination's lease. Nothing was read or written.
    #[error(transparent)]
    Busy(Busy),
}

impl From<Busy> for ApplyError {
    fn from(b: Busy) -> Self {
        match b {
            Busy::Store(e) => ApplyError::Store(e),
            held => ApplyError::Busy(held),
        }
    }
}

fn read_error(e: PlexError) -> ApplyError {
    match e {
        PlexError::BadToken => ApplyError::TokenRejected { run: None },
        e => ApplyError::Read(e),
    }
}

/// What the executor tells a front end as it goes (progress bars, Discord edits).
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Reading both servers for the stale check (or the destination for an undo).
    Reading,
    /// The run is recorded and writing starts.
    Started {
        run: RunId,
        accounts: usize,
        libraries: usize,
    },
    /// A write failed and will be retried after `wait`.
    Retrying {
        account: String,
        attempt: u32,
        wait: Duration,
        reason: String,
    },
    /// One account's writes are over (`what`: written, already in place, skipped: …, failed: …).
    AccountDone {
        account: String,
        done: usize,
        total: usize,
        what: String,
    },
    /// Reading the destination back.
    Verifying,
    Finished {
        run: RunId,
    },
}

/// One account's result in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountReport {
    pub account_id: AccountId,
    pub name: String,
    /// The plan outcome (`grant`, `new_share`, `pending`) or `undo`.
    pub planned: String,
    pub result: AccountResult,
    pub reason: Option<String>,
    /// Libraries changed (added; for an undo, removed) and confirmed, by title.
    pub libraries: Vec<String>,
    /// Libraries the run meant to change that are not as intended after it.
    pub missing: Vec<String>,
    pub share_id: Option<ShareId>,
    pub created_share: bool,
    /// Write requests sent for this account (retries included).
    pub requests: u32,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run: RunId,
    pub kind: RunKind,
    pub status: RunStatus,
    /// Accounts the run had to change, sorted by name. Accounts the plan had nothing to write
    /// for (in sync, all libraries, no match, skipped by the plan) are not listed.
    pub accounts: Vec<AccountReport>,
    pub summary: RunSummary,
}

impl RunReport {
    pub fn count(&self, result: AccountResult) -> usize {
        self.accounts.iter().filter(|a| a.result == result).count()
    }
}

/// Everything [`apply`] needs besides the client and the store.
#[derive(Debug, Clone)]
pub struct ApplyJob<'a> {
    /// The configured pair's name (recorded with the run).
    pub pair: &'a str,
    pub source: &'a ServerRef,
    pub dest: &'a ServerRef,
    /// The plan an admin approved (or a saved plan JSON).
    pub approved: &'a Plan,
    /// The options it was planned with.
    pub options: &'a PlanOptions,
    pub limits: &'a Limits,
    pub trigger: &'a Trigger,
    pub retry: RetryPolicy,
    pub batch_size: usize,
    /// A limiter shared with other runs on the same client; `None`: one for this run.
    pub limiter: Option<&'a WriteLimiter>,
    /// Go over the blast-radius limits (`--allow-large`, a Discord Confirm that named the
    /// numbers). Off: a plan over a limit is refused with [`ApplyError::OverLimit`].
    pub allow_over_limits: bool,
    /// The destination's lease, taken by the front end before it answered the admin; `None`:
    /// [`apply`] takes it first thing (and answers [`ApplyError::Busy`] when it is held).
    pub lease: Option<&'a DestLease>,
}

impl<'a> ApplyJob<'a> {
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
            pair,
            source,
            dest,
            approved,
            options,
            limits,
            trigger,
            retry: RetryPolicy::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            limiter: None,
            allow_over_limits: false,
            lease: None,
        }
    }
}

/// `given`, or the destination's lease taken now (before any read) into `own`.
fn lease_for<'l>(
    given: Option<&'l DestLease>,
    own: &'l mut Option<DestLease>,
    store: &Store,
    dest: &ServerRef,
    started_by: &Trigger,
    limits: &Limits,
) -> Result<&'l DestLease, ApplyError> {
    match given {
        Some(lease) => {
            debug_assert_eq!(lease.dest().machine_id, dest.machine_id);
            Ok(lease)
        }
        None => Ok(own.insert(DestLease::acquire(
            store,
            dest,
            started_by,
            &LeaseSettings::from_limits(limits),
        )?)),
    }
}

/// Apply `job.approved` (see the module docs). Returns the run's report, or an error that
/// means nothing more can be done (stale plan, token rejected, store or read failure).
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
        job.dest,
        job.trigger,
        job.limits,
    )?;
    let requests_before = client.request_count();
    progress(Progress::Reading);
    let read_started = Instant::now();
    let fresh = client
        .read_sharing(job.source, job.dest)
        .await
        .map_err(read_error)?;
    // An unattended apply (a saved plan from cron, a Confirm pressed hours later) is held to
    // the baselines too, from the read it already has.
    if let Some(wrong) = ReadLooksWrong::against(store, &fresh)? {
        return Err(wrong.into());
    }
    let fresh_plan = plan(&fresh, job.options)?;
    let differences = fresh_plan.differences(job.approved);
    if !differences.is_empty() {
        return Err(ApplyError::Stale {
            differences,
            fresh_plan: Box::new(fresh_plan),
        });
    }
    if !job.allow_over_limits {
        check_limits(&fresh_plan, source_accounts(&fresh), job.limits)?;
    }
    settle_interrupted(store, &fresh.dest)?;
    // The read this run acts on passed: it is the servers' last good read, lower or not.
    crate::guard::baseline::record(store, &fresh, None)?;

    let targets = grant::targets(&fresh_plan, &fresh);
    let run = lease.start_run(&NewRun {
        kind: RunKind::Apply,
        undo_of: None,
        pair: job.pair,
        source: job.source,
        dest: job.dest,
        trigger: job.trigger,
    })?;
    let first = Snapshot {
        sharing: fresh.dest,
        started: read_started,
    };
    let settings = RunSettings {
        run,
        kind: RunKind::Apply,
        dest: job.dest,
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

/// What [`run_changes`] needs to know about the run.
struct RunSettings<'a> {
    run: RunId,
    kind: RunKind,
    dest: &'a ServerRef,
    limits: &'a Limits,
    retry: &'a RetryPolicy,
    batch_size: usize,
    limiter: Option<&'a WriteLimiter>,
    lease: &'a DestLease,
    requests_before: u64,
}

/// Marks the run interrupted if it is dropped before it finishes (cancelled future, panic).
struct RunGuard<'a> {
    store: &'a Store,
    run: RunId,
    armed: bool,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.store.interrupt_run(
                self.run,
                "stopped part way (cancelled or crashed) before it finished",
            );
        }
    }
}

/// Write, verify, record and report a started run's changes. Also returns, per change, the
/// libraries in place after the run (undo uses it to mark what it removed).
async fn run_changes<T: Change>(
    client: &PlexClient,
    store: &Store,
    s: &RunSettings<'_>,
    changes: &[T],
    first: Snapshot,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(RunReport, Vec<execute::Checked>), ApplyError> {
    let mut guard = RunGuard {
        store,
        run: s.run,
        armed: true,
    };
    let lines: Vec<AccountRecord> = changes
        .iter()
        .map(|c| AccountRecord {
            account_id: c.account_id(),
            account_name: c.name().to_string(),
            planned: c.planned().to_string(),
            result: None,
            reason: None,
            share_id: None,
            created_share: false,
        })
        .collect();
    store.record_accounts(s.run, &lines)?;
    progress(Progress::Started {
        run: s.run,
        accounts: changes.len(),
        libraries: changes.iter().map(|c| c.scope().len()).sum(),
    });

    let own_limiter;
    let limiter = match s.limiter {
        Some(l) => l,
        None => {
            own_limiter = WriteLimiter::new(s.limits);
            &own_limiter
        }
    };
    let view = DestView::new(client, s.dest, first);
    let writes = AtomicU64::new(0);
    let ctx = Ctx {
        client,
        store,
        run: s.run,
        dest: s.dest,
        view: &view,
        limiter,
        lease: s.lease,
        max_snapshot_age: s.limits.max_snapshot_age(),
        retry: s.retry,
        writes: &writes,
        progress,
    };
    // Twice as many accounts as writes in flight: while `concurrency` accounts write (the
    // limiter bounds them), as many others read their share again, so those reads overlap the
    // writes instead of adding a round trip to each.
    let accounts_in_flight = s.limits.concurrency.max(1) * 2;
    let executed = execute::execute(&ctx, changes, accounts_in_flight, s.batch_size).await;

    let (after, unverified, fatal) = match executed.fatal {
        Some(f) => (None, Some("the run stopped".to_string()), Some(f)),
        None => {
            progress(Progress::Verifying);
            match view.fresh_since(Instant::now()).await {
                Ok(snapshot) => (Some(snapshot), None, None),
                Err(PlexError::BadToken) => (None, None, Some(Fatal::TokenRejected)),
                Err(e) => (
                    None,
                    Some(format!("could not read {} back: {e}", s.dest.name)),
                    None,
                ),
            }
        }
    };
    let checked = execute::check(
        &ctx,
        changes,
        &executed.driven,
        after.as_deref(),
        unverified.as_deref(),
    )
    .map_err(|f| match f {
        Fatal::Store(e) => ApplyError::Store(e),
        Fatal::TokenRejected => ApplyError::TokenRejected { run: Some(s.run) },
        Fatal::LeaseLost => ApplyError::Store(StoreError::LeaseLost(s.dest.name.clone())),
    })?;

    let mut accounts: Vec<AccountReport> = checked.iter().map(|c| c.report.clone()).collect();
    let lines: Vec<AccountRecord> = accounts
        .iter()
        .map(|a| AccountRecord {
            account_id: a.account_id,
            account_name: a.name.clone(),
            planned: a.planned.clone(),
            result: Some(a.result),
            reason: a.reason.clone(),
            share_id: a.share_id,
            created_share: a.created_share,
        })
        .collect();
    store.record_accounts(s.run, &lines)?;
    accounts.sort_by(|a, b| (&a.name, a.account_id).cmp(&(&b.name, b.account_id)));

    let count = |r: AccountResult| accounts.iter().filter(|a| a.result == r).count();
    let summary = RunSummary {
        accounts_planned: changes.len(),
        accounts_updated: count(AccountResult::Applied),
        accounts_partial: count(AccountResult::Partial),
        accounts_failed: count(AccountResult::Failed),
        accounts_skipped: count(AccountResult::Skipped),
        libraries_changed: accounts.iter().map(|a| a.libraries.len()).sum(),
        write_requests: writes.load(Ordering::Relaxed),
        requests: client.request_count().saturating_sub(s.requests_before),
        verified: after.is_some(),
    };
    let (status, error) = match &fatal {
        Some(Fatal::TokenRejected) => (RunStatus::Failed, Some("token rejected".to_string())),
        Some(Fatal::LeaseLost) => (
            RunStatus::Interrupted,
            Some("another process took the destination over; writes stopped".to_string()),
        ),
        Some(Fatal::Store(e)) => (RunStatus::Failed, Some(e.to_string())),
        None => (RunStatus::Finished, None),
    };
    store.finish_run(s.run, status, &summary, error.as_deref())?;
    guard.armed = false;
    progress(Progress::Finished { run: s.run });
    match fatal {
        Some(Fatal::TokenRejected) => Err(ApplyError::TokenRejected { run: Some(s.run) }),
        Some(Fatal::Store(e)) => Err(ApplyError::Store(e)),
        Some(Fatal::LeaseLost) => Err(ApplyError::Store(StoreError::LeaseLost(
            s.dest.name.clone(),
        ))),
        None => Ok((
            RunReport {
                run: s.run,
                kind: s.kind,
                status,
                accounts,
                summary,
            },
            checked,
        )),
    }
}

/// Settle grants that earlier, interrupted runs left without an outcome, from a fresh read of
/// their server: `applied` when the change is in place, `missing` when it is not. No requests.
fn settle_interrupted(store: &Store, dest: &ServerSharing) -> Result<(), StoreError> {
    let open = store.interrupted_grants(&dest.server.machine_id)?;
    let mut landed = Vec::new();
    let mut not_landed = Vec::new();
    for g in open {
        let present = dest
            .shares
            .get(&g.account_id)
            .is_some_and(|s| s.access.contains(g.library_id));
        let in_place = match g.action {
            GrantAction::Add => present,
            GrantAction::Remove => !present,
        };
        if in_place {
            landed.push(g.id);
        } else {
            not_landed.push(g.id);
        }
    }
    store.record_outcome(
        &landed,
        GrantState::Applied,
        Some("the run was interrupted; a later read shows this change in place"),
        None,
    )?;
    store.mark_unconfirmed(&landed)?;
    store.record_outcome(
        &not_landed,
        GrantState::Missing,
        Some("the run was interrupted; a later read shows this change did not happen"),
        None,
    )?;
    Ok(())
}
