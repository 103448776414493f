//! Undo: THE ONLY PATH IN SHARESYNC THAT REMOVES ACCESS.
//!
//! It removes exactly the grants one apply run added (recorded `applied` or `verified`, not
//! already undone, not granted again by a later run) and that are still present, keeping
//! everything else on the share: libraries added by hand, by other runs, or before. The write is
//! the share's freshly read libraries minus the run's, never an empty list; when nothing would
//! be left and the run itself created the share, the share is deleted; when nothing would be
//! left and the share predates the run, nothing is sent (an empty list could mean "all").
//! `All` shares are not touched.

use std::collections::{BTreeMap, BTreeSet};

use tokio::time::Instant;

use super::change::{Change, Step, WriteOp};
use super::error::{read_error, ApplyError};
use super::limiter::WriteLimiter;
use super::lock::DestLease;
use super::report::{Progress, RunReport, UndoAccount, UndoAction, UndoPlan};
use super::retry::RetryPolicy;
use super::run::{lease_for, run_changes, settle_interrupted, RunSettings, DEFAULT_BATCH_SIZE};
use super::view::Snapshot;
use crate::config::Limits;
use crate::model::{Access, AccountId, LibraryId, Server, Share, ShareId};
use crate::plex::PlexClient;
use crate::store::{
    GrantAction, GrantId, GrantState, NewRun, RunId, RunKind, RunRecord, RunStatus, Store, Trigger,
};

/// Everything [`undo`] needs besides the client and the store (front ends go through
/// `Runner::preview_undo` and `Runner::undo`, which hold the lease from preview to removal).
#[derive(Debug, Clone)]
pub struct UndoJob<'a> {
    /// The apply run to undo.
    pub run: RunId,
    /// Write rate and lease timing.
    pub limits: &'a Limits,
    /// Who started the undo (recorded with it).
    pub trigger: &'a Trigger,
    /// How failed writes are retried.
    pub retry: RetryPolicy,
    /// Accounts written between two heartbeats of the run's record.
    pub batch_size: usize,
    /// A limiter shared with other runs on the same client; `None`: one for this run.
    pub limiter: Option<&'a WriteLimiter>,
    /// The destination's lease, taken before the preview; `None`: [`undo`] takes it first.
    pub lease: Option<&'a DestLease>,
    /// The preview the admin confirmed: when the fresh read says otherwise, nothing is removed
    /// ([`ApplyError::UndoChanged`]), as with an apply's stale check.
    pub confirmed: Option<&'a UndoPlan>,
}

impl<'a> UndoJob<'a> {
    /// A job with the default retry policy and batch size, its own limiter and lease, and no
    /// confirmed preview.
    pub fn new(run: RunId, limits: &'a Limits, trigger: &'a Trigger) -> Self {
        UndoJob {
            run,
            limits,
            trigger,
            retry: RetryPolicy::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            limiter: None,
            lease: None,
            confirmed: None,
        }
    }
}

#[derive(Debug, Clone)]
struct UndoTarget {
    account_id: AccountId,
    name: String,
    dest_name: String,
    run: RunId,
    /// The run's grants still on record as added: id → title.
    remove: BTreeMap<LibraryId, String>,
    /// Their grant rows (marked undone once removal is confirmed).
    originals: BTreeMap<LibraryId, Vec<GrantId>>,
    /// The share the run created for this account, if it did.
    created_share: Option<ShareId>,
}

impl Change for UndoTarget {
    fn account_id(&self) -> AccountId {
        self.account_id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn action(&self) -> GrantAction {
        GrantAction::Remove
    }

    fn planned(&self) -> &str {
        "undo"
    }

    fn scope(&self) -> &BTreeMap<LibraryId, String> {
        &self.remove
    }

    fn already_done_text(&self) -> String {
        format!(
            "run {}'s libraries are no longer on the share (nothing sent)",
            self.run
        )
    }

    fn decide(
        &self,
        _server: &Server,
        share: Option<&Share>,
        limit: Option<&BTreeSet<LibraryId>>,
    ) -> Step {
        let Some(share) = share else {
            return Step::Done; // no share: nothing of the run's is left
        };
        let current = match &share.access {
            Access::All => {
                return Step::Skip(format!(
                    "the share on {} now has all libraries; not touching it",
                    self.dest_name
                ))
            }
            Access::Libraries(ids) => ids,
        };
        let removing: BTreeMap<LibraryId, String> = self
            .remove
            .iter()
            .filter(|(id, _)| limit.is_none_or(|l| l.contains(id)))
            .filter(|(id, _)| current.contains(id))
            .map(|(id, t)| (*id, t.clone()))
            .collect();
        if removing.is_empty() {
            return Step::Done;
        }
        let keep: BTreeSet<LibraryId> = current
            .iter()
            .copied()
            .filter(|id| !removing.contains_key(id))
            .collect();
        if !keep.is_empty() {
            Step::Send {
                op: Box::new(WriteOp::Update {
                    share: share.clone(),
                    libraries: keep,
                }),
                changing: removing,
            }
        } else if self.created_share == Some(share.id) {
            Step::Send {
                op: Box::new(WriteOp::Delete { share: share.id }),
                changing: removing,
            }
        } else {
            Step::Skip(format!(
                "removing would leave the share on {} empty and run {} did not create it; nothing sent (an empty list can mean all libraries)",
                self.dest_name, self.run
            ))
        }
    }
}

fn undoable_run(store: &Store, run: RunId) -> Result<RunRecord, ApplyError> {
    let record = store.run(run)?.run;
    if record.kind != RunKind::Apply {
        return Err(ApplyError::NotUndoable(run));
    }
    if record.status == RunStatus::Running {
        return Err(ApplyError::StillRunning(run));
    }
    Ok(record)
}

/// The run's grants still on record as added, per account.
fn targets(
    store: &Store,
    record: &RunRecord,
) -> Result<(Vec<UndoTarget>, Vec<String>), ApplyError> {
    let mut by_account: BTreeMap<AccountId, UndoTarget> = BTreeMap::new();
    let mut notes = Vec::new();
    for g in store.grants_of_run(record.id)? {
        if g.action != GrantAction::Add
            || !matches!(g.state, GrantState::Applied | GrantState::Verified)
            || g.undone_by.is_some()
        {
            continue;
        }
        if g.unconfirmed {
            notes.push(format!(
                "{}: '{}' was found in place after a request plex.tv did not confirm (failed or cut off); it may have been granted some other way, so it is kept",
                g.account_name, g.library_title
            ));
            continue;
        }
        if let Some(later) = store.added_later(&g)? {
            notes.push(format!(
                "{}: '{}' was granted again by run {later}; keeping it",
                g.account_name, g.library_title
            ));
            continue;
        }
        let t = by_account
            .entry(g.account_id)
            .or_insert_with(|| UndoTarget {
                account_id: g.account_id,
                name: g.account_name.clone(),
                dest_name: record.dest.name.clone(),
                run: record.id,
                remove: BTreeMap::new(),
                originals: BTreeMap::new(),
                created_share: None,
            });
        t.remove.insert(g.library_id, g.library_title.clone());
        t.originals.entry(g.library_id).or_default().push(g.id);
        if g.created_share {
            t.created_share = t.created_share.or(g.share_id);
        }
    }
    Ok((by_account.into_values().collect(), notes))
}

async fn read_dest(
    client: &PlexClient,
    store: &Store,
    record: &RunRecord,
) -> Result<Snapshot, ApplyError> {
    let started = Instant::now();
    let (_accounts, sharing) = client
        .read_server_sharing(&record.dest)
        .await
        .map_err(read_error)?;
    settle_interrupted(store, &sharing)?;
    Ok(Snapshot { sharing, started })
}

/// What each target's undo would do, judged from `snapshot`.
fn preview(targets: &[UndoTarget], snapshot: &Snapshot) -> Vec<UndoAccount> {
    targets
        .iter()
        .map(|t| {
            let share = snapshot.sharing.shares.get(&t.account_id);
            let action = match t.decide(&snapshot.sharing.server, share, None) {
                Step::Done => UndoAction::AlreadyGone,
                Step::Skip(reason) => UndoAction::Skip(reason),
                Step::Send { op, changing } => {
                    let remove = changing.into_values().collect();
                    match *op {
                        WriteOp::Delete { .. } => UndoAction::DeleteShare { remove },
                        WriteOp::Update { libraries, .. } => UndoAction::Remove {
                            remove,
                            keep: libraries.len(),
                        },
                        WriteOp::Create { .. } => unreachable!("undo never creates a share"),
                    }
                }
            };
            UndoAccount {
                account_id: t.account_id,
                name: t.name.clone(),
                action,
            }
        })
        .collect()
}

/// Read the destination and say what undoing `run` would remove (nothing is written to plex.tv;
/// interrupted grants in the record are settled from the read).
pub async fn plan_undo(
    client: &PlexClient,
    store: &Store,
    run: RunId,
) -> Result<UndoPlan, ApplyError> {
    let record = undoable_run(store, run)?;
    let snapshot = read_dest(client, store, &record).await?;
    let (targets, notes) = targets(store, &record)?;
    let accounts = preview(&targets, &snapshot);
    Ok(UndoPlan {
        run: record,
        accounts,
        notes,
    })
}

/// Undo an apply run: remove exactly the grants it added that are still present (module docs).
/// Recorded as a run of kind `undo` whose grants are removals; the undone grants are marked.
pub async fn undo(
    client: &PlexClient,
    store: &Store,
    job: &UndoJob<'_>,
    progress: impl Fn(Progress) + Send + Sync,
) -> Result<RunReport, ApplyError> {
    let progress: &(dyn Fn(Progress) + Send + Sync) = &progress;
    let requests_before = client.request_count();
    let record = undoable_run(store, job.run)?;
    let mut own_lease = None;
    let lease = lease_for(
        job.lease,
        &mut own_lease,
        store,
        &record.dest,
        job.trigger,
        job.limits,
    )?;
    progress(Progress::Reading);
    let first = read_dest(client, store, &record).await?;
    let (targets, notes) = targets(store, &record)?;
    if let Some(confirmed) = job.confirmed {
        let now = preview(&targets, &first);
        if now != confirmed.accounts {
            return Err(ApplyError::UndoChanged {
                run: record.id,
                now: Box::new(UndoPlan {
                    run: record,
                    accounts: now,
                    notes,
                }),
            });
        }
    }
    let run = lease.start_run(&NewRun {
        kind: RunKind::Undo,
        undo_of: Some(record.id),
        pair: &record.pair,
        source: &record.source,
        dest: &record.dest,
        trigger: job.trigger,
    })?;
    let settings = RunSettings {
        run,
        kind: RunKind::Undo,
        dest: &record.dest,
        limits: job.limits,
        retry: &job.retry,
        batch_size: job.batch_size,
        limiter: job.limiter,
        lease,
        requests_before,
    };
    let (report, checked) =
        run_changes(client, store, &settings, &targets, first, progress).await?;
    if report.summary.verified {
        let undone: Vec<GrantId> = targets
            .iter()
            .zip(&checked)
            .flat_map(|(t, c)| {
                t.originals
                    .iter()
                    .filter(|(lib, _)| c.in_place.contains(lib))
                    .flat_map(|(_, ids)| ids.iter().copied())
            })
            .collect();
        store.mark_undone(&undone, run)?;
    }
    // An undo is the one run that shrinks a server on purpose: its size now is the baseline the
    // read guard compares the next read with (crate::guard::baseline), not a read gone wrong.
    if let Err(e) = crate::guard::baseline::accept_server(client, store, &record.dest, None).await {
        tracing::warn!(server = %record.dest.name, "could not record the size after the undo: {e}");
    }
    Ok(report)
}
