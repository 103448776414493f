//! A started run of either kind: write its changes, verify them, record and report them
//! ([`run_changes`]); and what every run does before it starts: take the destination's lease
//! ([`lease_for`]) and settle what interrupted runs left open ([`settle_interrupted`]).

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use super::change::{Change, Fatal};
use super::drive::Ctx;
use super::error::ApplyError;
use super::execute;
use super::limiter::WriteLimiter;
use super::lock::{DestLease, LeaseSettings};
use super::report::{AccountReport, Progress, RunReport};
use super::retry::RetryPolicy;
use super::view::{DestView, Snapshot};
use crate::config::Limits;
use crate::model::{ServerRef, ServerSharing};
use crate::plex::{PlexClient, PlexError};
use crate::store::{
    AccountRecord, AccountResult, GrantAction, GrantState, RunId, RunKind, RunStatus, RunSummary,
    Store, StoreError, Trigger,
};

/// Accounts written between two heartbeats of the run's record.
pub const DEFAULT_BATCH_SIZE: usize = 50;

/// `given`, or the destination's lease taken now (before any read) into `own`.
pub(super) fn lease_for<'l>(
    given: Option<&'l DestLease>,
    own: &'l mut Option<DestLease>,
    store: &Store,
    dest: &ServerRef,
    started_by: &Trigger,
    limits: &Limits,
) -> Result<&'l DestLease, ApplyError> {
    match given {
        Some(lease) if lease.dest().machine_id != dest.machine_id => {
            Err(ApplyError::LeaseForAnotherServer {
                held: lease.dest().name.clone(),
                dest: dest.name.clone(),
            })
        }
        Some(lease) => Ok(lease),
        None => Ok(own.insert(DestLease::acquire(
            store,
            dest,
            started_by,
            &LeaseSettings::from_limits(limits),
        )?)),
    }
}

/// What [`run_changes`] needs to know about the run.
pub(super) struct RunSettings<'a> {
    pub run: RunId,
    pub kind: RunKind,
    pub dest: &'a ServerRef,
    pub limits: &'a Limits,
    pub retry: &'a RetryPolicy,
    pub batch_size: usize,
    pub limiter: Option<&'a WriteLimiter>,
    pub lease: &'a DestLease,
    pub requests_before: u64,
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
pub(super) async fn run_changes<T: Change>(
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
pub(super) fn settle_interrupted(store: &Store, dest: &ServerSharing) -> Result<(), StoreError> {
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
