//! The write phase and the read-back, shared by apply and undo: accounts in batches,
//! `concurrency` accounts at a time, one account's failure never stopping the others (each
//! write computed from a read of its own share at most `limits.max_snapshot_age_seconds` old:
//! see `drive.rs`); then one re-read to verify.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};

use super::change::{Change, Driven, Ended, Fatal};
use super::drive::{drive, Ctx};
use super::report::{AccountReport, Progress};
use super::view::Snapshot;
use crate::model::LibraryId;
use crate::restrictions;
use crate::store::{AccountResult, GrantAction, GrantState};

pub(super) struct Executed {
    /// Per change, in order; `None` for accounts the run never reached (it stopped).
    pub driven: Vec<Option<Driven>>,
    pub fatal: Option<Fatal>,
}

fn done_text(ended: &Ended) -> String {
    match ended {
        Ended::Written { .. } => "written".into(),
        Ended::AlreadyDone => "already in place".into(),
        Ended::Skipped(r) => format!("skipped: {r}"),
        Ended::Failed(r) => format!("failed: {r}"),
    }
}

pub(super) async fn execute<T: Change>(
    ctx: &Ctx<'_>,
    changes: &[T],
    concurrency: usize,
    batch_size: usize,
) -> Executed {
    let total = changes.len();
    let mut driven: Vec<Option<Driven>> = vec![None; total];
    let mut done = 0;
    let batch_size = batch_size.max(1);
    for start in (0..total).step_by(batch_size) {
        let end = (start + batch_size).min(total);
        let mut results = stream::iter((start..end).map(|i| async move {
            let change: &dyn Change = &changes[i];
            (i, drive(ctx, change).await)
        }))
        .buffer_unordered(concurrency.max(1));
        while let Some((i, result)) = results.next().await {
            match result {
                Ok(d) => {
                    done += 1;
                    (ctx.progress)(Progress::AccountDone {
                        account: changes[i].name().to_string(),
                        done,
                        total,
                        what: done_text(&d.ended),
                    });
                    driven[i] = Some(d);
                }
                Err(fatal) => {
                    drop(results);
                    return Executed {
                        driven,
                        fatal: Some(fatal),
                    };
                }
            }
        }
        let _ = ctx.store.heartbeat(ctx.run);
    }
    Executed {
        driven,
        fatal: None,
    }
}

/// Whether `library` is where the change wants it, per `snapshot`.
fn in_place(snapshot: &Snapshot, change: &dyn Change, library: LibraryId) -> bool {
    let present = snapshot
        .sharing
        .shares
        .get(&change.account_id())
        .is_some_and(|s| s.access.contains(library));
    match change.action() {
        GrantAction::Add => present,
        GrantAction::Remove => !present,
    }
}

pub(super) struct Checked {
    pub report: AccountReport,
    /// The change's libraries that are where it wants them after the run.
    pub in_place: BTreeSet<LibraryId>,
}

/// Judge each account from the read-back (`None`: no read-back; judge from the answers) and
/// move its grant rows to `verified` / `missing`.
pub(super) fn check<T: Change>(
    ctx: &Ctx<'_>,
    changes: &[T],
    driven: &[Option<Driven>],
    after: Option<&Snapshot>,
    unverified_because: Option<&str>,
) -> Result<Vec<Checked>, Fatal> {
    let mut out = Vec::with_capacity(changes.len());
    for (change, d) in changes.iter().zip(driven) {
        let change: &dyn Change = change;
        let scope = change.scope();
        let in_place_now: BTreeSet<LibraryId> = match after {
            Some(s) => scope
                .keys()
                .copied()
                .filter(|l| in_place(s, change, *l))
                .collect(),
            None => BTreeSet::new(),
        };
        let Some(d) = d else {
            out.push(Checked {
                report: change.report(
                    AccountResult::Skipped,
                    Some("the run stopped before reaching this account".into()),
                    &BTreeMap::new(),
                    scope,
                    None,
                ),
                in_place: in_place_now,
            });
            continue;
        };
        let (ok, missing): (BTreeMap<LibraryId, String>, BTreeMap<LibraryId, String>) = match after
        {
            Some(_) => d
                .changing
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .partition(|(id, _)| in_place_now.contains(id)),
            // No read-back: trust plex.tv's answers.
            None => match d.ended {
                Ended::Written { .. } => (d.changing.clone(), BTreeMap::new()),
                _ => (BTreeMap::new(), d.changing.clone()),
            },
        };
        if after.is_some() && !d.grants.is_empty() {
            let (ok_ids, missing_ids): (Vec<_>, Vec<_>) = d
                .grants
                .iter()
                .zip(d.changing.keys())
                .partition(|(_, lib)| ok.contains_key(lib));
            let ok_ids: Vec<_> = ok_ids.into_iter().map(|(g, _)| *g).collect();
            let missing_ids: Vec<_> = missing_ids.into_iter().map(|(g, _)| *g).collect();
            ctx.store
                .record_outcome(&ok_ids, GrantState::Verified, None, None)?;
            ctx.store.record_outcome(
                &missing_ids,
                GrantState::Missing,
                Some("not in place when the destination was read back after the run"),
                None,
            )?;
        }
        let (share_id, created) = match &d.ended {
            Ended::Written { share_id, created } => (*share_id, *created),
            _ => (None, false),
        };
        let share = share_id.map(|s| (s, created));
        let (result, reason) = match &d.ended {
            Ended::AlreadyDone => (AccountResult::Skipped, Some(change.already_done_text())),
            Ended::Skipped(r) => (AccountResult::Skipped, Some(r.clone())),
            Ended::Written { .. } | Ended::Failed(_) => {
                let error = match &d.ended {
                    Ended::Failed(r) => Some(r.clone()),
                    _ => None,
                };
                if !ok.is_empty() && missing.is_empty() {
                    let reason = match (&error, unverified_because) {
                        (Some(e), _) => Some(format!("in place although plex.tv answered: {e}")),
                        (None, Some(why)) => Some(format!("not verified: {why}")),
                        (None, None) => None,
                    };
                    (AccountResult::Applied, reason)
                } else if !ok.is_empty() {
                    let titles: Vec<&str> = missing.values().map(String::as_str).collect();
                    let mut reason = format!("not in place: {}", titles.join(", "));
                    if let Some(e) = error {
                        reason.push_str(&format!(" ({e})"));
                    }
                    (AccountResult::Partial, Some(reason))
                } else {
                    (
                        AccountResult::Failed,
                        Some(error.unwrap_or_else(|| {
                            "plex.tv accepted the write but the read-back does not show it".into()
                        })),
                    )
                }
            }
        };
        let (result, reason) = match after {
            Some(after) if created && result != AccountResult::Failed => {
                check_created_restrictions(change, after, result, reason)
            }
            _ => (result, reason),
        };
        let mut report = change.report(result, reason, &ok, &missing, share);
        report.requests = d.requests;
        out.push(Checked {
            report,
            in_place: in_place_now,
        });
    }
    Ok(out)
}

/// A share the run created, as read back, against the restrictions the plan showed for it:
/// looser fails the account (the share stays, sharesync never removes access); settings the
/// read did not return are said, never assumed.
fn check_created_restrictions(
    change: &dyn Change,
    after: &Snapshot,
    result: AccountResult,
    reason: Option<String>,
) -> (AccountResult, Option<String>) {
    let Some(planned) = change.new_share_restrictions() else {
        return (result, reason);
    };
    let read = after
        .sharing
        .shares
        .get(&change.account_id())
        .and_then(|s| s.settings.as_ref());
    let Some(read) = read else {
        let note = "restrictions not verified: plex.tv's read-back did not return the new share's settings";
        let reason = match reason {
            Some(r) => format!("{r}; {note}"),
            None => note.to_string(),
        };
        return (result, Some(reason));
    };
    let looser = restrictions::less_restricted(planned, read, "the plan");
    if looser.is_empty() {
        return (result, reason);
    }
    (
        AccountResult::Failed,
        Some(format!(
            "the new share on {} is less restricted than planned: {}; set its restrictions in Plex Web",
            after.sharing.server.name,
            looser.join(", ")
        )),
    )
}
