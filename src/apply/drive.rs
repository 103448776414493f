//! One account's writes: decide from the latest read, record the intent, send through the
//! limiter, record the outcome; on a failure worth retrying, wait, RE-READ the destination (the
//! write may have landed though its answer was lost) and decide again. Deciding from a fresh
//! read each time is what makes retries idempotent: a landed write shows up as "nothing left to
//! send".

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use super::change::{Change, Driven, Ended, Fatal, Step, WriteOp};
use super::limiter::WriteLimiter;
use super::lock::DestLease;
use super::report::Progress;
use super::retry::{Backoff, RetryPolicy};
use super::view::{DestView, Snapshot};
use crate::model::{AccountId, LibraryId, ServerRef, Share};
use crate::plex::{PlexClient, PlexError};
use crate::restrictions;
use crate::store::{GrantId, GrantIntent, GrantState, RunId, Store};

/// Everything one run's writes share.
pub(super) struct Ctx<'a> {
    pub client: &'a PlexClient,
    pub store: &'a Store,
    pub run: RunId,
    pub dest: &'a ServerRef,
    pub view: &'a DestView<'a>,
    pub limiter: &'a WriteLimiter,
    pub lease: &'a DestLease,
    /// A write is computed from a read of its share at most this old.
    pub max_snapshot_age: std::time::Duration,
    pub retry: &'a RetryPolicy,
    pub writes: &'a AtomicU64,
    pub progress: &'a (dyn Fn(Progress) + Send + Sync),
}

/// Worth a re-read and another try even though not transient: a create refused because the
/// share exists (it may be ours, landed), an update or delete of a share that is gone.
fn worth_rereading(e: &PlexError, op: &WriteOp) -> bool {
    match (op, e) {
        (WriteOp::Create { .. }, PlexError::Rejected { status, .. }) => {
            matches!(status, 400 | 409 | 422)
        }
        (WriteOp::Update { .. } | WriteOp::Delete { .. }, PlexError::NotFound(_)) => true,
        _ => false,
    }
}

struct Intent {
    ids: Vec<GrantId>,
    changing: BTreeMap<LibraryId, String>,
    created: bool,
}

/// One account's share as last read, and when that read started.
struct Seen {
    share: Option<Share>,
    read_at: Instant,
}

impl Seen {
    fn of(snapshot: &Snapshot, account: AccountId) -> Seen {
        Seen {
            share: snapshot.sharing.shares.get(&account).cloned(),
            read_at: snapshot.started,
        }
    }
}

/// Read `account`'s share again (its read to start at or after `since`): that one share when
/// it is known, else (or when that read fails or cannot say) the whole destination, shared with the
/// other accounts. Returns the new whole snapshot when one was read. The fresh share keeps its
/// settings and state from the earlier read: only its libraries are what this read is for.
async fn refresh(
    ctx: &Ctx<'_>,
    account: AccountId,
    seen: &Seen,
    since: Instant,
) -> Result<(Seen, Option<std::sync::Arc<Snapshot>>), PlexError> {
    if let Some(share) = &seen.share {
        let read_at = Instant::now();
        match ctx
            .client
            .read_share_access(&ctx.dest.machine_id, share.id)
            .await
        {
            Ok(read) => {
                let share = read.map(|(access, now)| Share {
                    access,
                    // A v2 update sends the settings back: the earlier read's only while this
                    // read shows the same ones. Changed since, or not returned: `None`, and the
                    // update goes the way that never touches settings.
                    settings: share
                        .settings
                        .clone()
                        .filter(|before| now.is_some_and(|now| restrictions::same(before, &now))),
                    ..share.clone()
                });
                return Ok((Seen { share, read_at }, None));
            }
            Err(PlexError::BadToken) => return Err(PlexError::BadToken),
            // That one share's read failed or could not say: the whole destination decides.
            Err(e) => tracing::debug!(share = %share.id, "re-reading the destination: {e}"),
        }
    }
    let whole = ctx.view.fresh_since(since).await?;
    Ok((Seen::of(&whole, account), Some(whole)))
}

pub(super) async fn drive(ctx: &Ctx<'_>, change: &dyn Change) -> Result<Driven, Fatal> {
    let mut snapshot = ctx.view.current();
    let mut seen = Seen::of(&snapshot, change.account_id());
    let mut need_read: Option<Instant> = None;
    let mut attempt: u32 = 0;
    let mut intent: Option<Intent> = None;
    let mut requests: u32 = 0;
    let mut last_error = String::new();
    // plex.tv refused a create (4xx). After the re-read, a share that now exists was ours; no
    // share means the refusal was real (a restriction plex.tv will not take, say), and
    // sending the same create again would only be refused again.
    let mut refused_create = false;
    // A write slot kept while its share is read again (see below).
    let mut held = None;

    // Give up on the account with `reason`; grant rows already recorded become `failed`.
    let give_up =
        |intent: Option<Intent>, reason: String, requests: u32| -> Result<Driven, Fatal> {
            let (grants, changing) = match intent {
                Some(i) => {
                    ctx.store
                        .record_outcome(&i.ids, GrantState::Failed, Some(&reason), None)?;
                    (i.ids, i.changing)
                }
                None => (Vec::new(), BTreeMap::new()),
            };
            Ok(Driven {
                ended: Ended::Failed(reason),
                grants,
                changing,
                requests,
            })
        };

    loop {
        // A union is computed from a read at most `max_snapshot_age` old: an existing share is
        // read again on its own (one request), never the whole list per write.
        let too_old = seen.share.is_some() && seen.read_at.elapsed() > ctx.max_snapshot_age;
        if let Some(since) = need_read.take().or_else(|| too_old.then(Instant::now)) {
            match refresh(ctx, change.account_id(), &seen, since).await {
                Ok((fresh, whole)) => {
                    seen = fresh;
                    snapshot = whole.unwrap_or(snapshot);
                }
                Err(PlexError::BadToken) => {
                    if let Some(i) = &intent {
                        ctx.store.record_outcome(
                            &i.ids,
                            GrantState::Failed,
                            Some("token rejected"),
                            None,
                        )?;
                    }
                    return Err(Fatal::TokenRejected);
                }
                Err(e) => {
                    let reason = format!(
                        "{last_error}; then could not re-read {} to check: {e}",
                        ctx.dest.name
                    );
                    if !e.is_transient() || attempt >= ctx.retry.retries {
                        return give_up(intent, reason, requests);
                    }
                    match ctx.retry.backoff(attempt, &e) {
                        Backoff::Wait(wait) => {
                            attempt += 1;
                            tokio::time::sleep(wait).await;
                            need_read = Some(since);
                            continue;
                        }
                        Backoff::TooLong(_) => return give_up(intent, reason, requests),
                    }
                }
            }
        }

        let limit: Option<BTreeSet<LibraryId>> = intent
            .as_ref()
            .map(|i| i.changing.keys().copied().collect());
        let (op, changing) = match change.decide(
            &snapshot.sharing.server,
            seen.share.as_ref(),
            limit.as_ref(),
        ) {
            Step::Done => {
                return Ok(match intent {
                    Some(i) => {
                        // An earlier request landed although its answer was lost or an error.
                        let share_id = seen.share.as_ref().map(|s| s.id);
                        ctx.store.record_outcome(
                            &i.ids,
                            GrantState::Applied,
                            Some(&format!("landed although plex.tv answered: {last_error}")),
                            share_id,
                        )?;
                        // Only a read says so, not plex.tv's answer: undo will not take it.
                        ctx.store.mark_unconfirmed(&i.ids)?;
                        Driven {
                            ended: Ended::Written {
                                share_id,
                                created: i.created,
                            },
                            grants: i.ids,
                            changing: i.changing,
                            requests,
                        }
                    }
                    None => Driven {
                        requests,
                        ..Driven::without_request(Ended::AlreadyDone)
                    },
                });
            }
            Step::Skip(reason) => {
                return match intent {
                    Some(_) => give_up(intent, reason, requests).map(|mut d| {
                        if let Ended::Failed(r) = d.ended {
                            d.ended = Ended::Skipped(r);
                        }
                        d
                    }),
                    None => Ok(Driven {
                        requests,
                        ..Driven::without_request(Ended::Skipped(reason))
                    }),
                };
            }
            Step::Send { op, changing } => (*op, changing),
        };
        if refused_create && matches!(op, WriteOp::Create { .. }) {
            let reason = format!(
                "{last_error}; a re-read shows no share, so nothing was created and the create was not sent again"
            );
            return give_up(intent, reason, requests);
        }

        // The wait for a write slot can be long (a `Retry-After` pauses every writer): a union
        // read before it may be stale by now. Then keep the slot, read the share again and
        // decide from that read (once: a slow read does not send it round again).
        let permit = match held.take() {
            Some(permit) => permit,
            None => {
                let permit = ctx.limiter.acquire().await;
                if seen.share.is_some() && seen.read_at.elapsed() > ctx.max_snapshot_age {
                    held = Some(permit);
                    continue;
                }
                permit
            }
        };

        let (share_id, created) = match &op {
            WriteOp::Update { share, .. } => (Some(share.id), false),
            WriteOp::Create { .. } => (None, true),
            WriteOp::Delete { share } => (Some(*share), false),
        };
        // The intent is on record BEFORE the request leaves.
        let ids = match &mut intent {
            None => {
                let libraries: Vec<(LibraryId, String)> =
                    changing.iter().map(|(id, t)| (*id, t.clone())).collect();
                let ids = ctx.store.record_intent(&GrantIntent {
                    run: ctx.run,
                    account_id: change.account_id(),
                    account_name: change.name(),
                    server: ctx.dest,
                    share_id,
                    libraries: &libraries,
                    action: change.action(),
                    created_share: created,
                })?;
                intent = Some(Intent {
                    ids: ids.clone(),
                    changing,
                    created,
                });
                ids
            }
            Some(i) => {
                ctx.store.record_attempt(&i.ids, share_id, created)?;
                i.created = created;
                i.ids.clone()
            }
        };

        if ctx.lease.is_lost() {
            // Another writer may be at work on this destination now: not one more request.
            ctx.store.record_outcome(
                &ids,
                GrantState::Failed,
                Some("not sent: another process took the destination over"),
                None,
            )?;
            return Err(Fatal::LeaseLost);
        }
        ctx.writes.fetch_add(1, Ordering::Relaxed);
        requests += 1;
        let mid = &ctx.dest.machine_id;
        let result = match &op {
            WriteOp::Update { share, libraries } => ctx
                .client
                .update_share(mid, share, libraries)
                .await
                .map(|()| share.id),
            WriteOp::Create {
                account,
                libraries,
                settings,
            } => {
                ctx.client
                    .create_share(mid, account, libraries, settings)
                    .await
            }
            WriteOp::Delete { share } => {
                ctx.client.delete_share(mid, *share).await.map(|()| *share)
            }
        };
        drop(permit);
        let answered = Instant::now();

        let e = match result {
            Ok(share_id) => {
                ctx.store
                    .record_outcome(&ids, GrantState::Applied, None, Some(share_id))?;
                let i = intent.expect("recorded above");
                return Ok(Driven {
                    ended: Ended::Written {
                        share_id: Some(share_id),
                        created,
                    },
                    grants: i.ids,
                    changing: i.changing,
                    requests,
                });
            }
            Err(PlexError::BadToken) => {
                ctx.store
                    .record_outcome(&ids, GrantState::Failed, Some("token rejected"), None)?;
                return Err(Fatal::TokenRejected);
            }
            Err(e) => e,
        };
        last_error = e.to_string();
        refused_create =
            matches!(op, WriteOp::Create { .. }) && matches!(e, PlexError::Rejected { .. });
        if !(e.is_transient() || worth_rereading(&e, &op)) || attempt >= ctx.retry.retries {
            return give_up(intent, last_error, requests);
        }
        let wait = match ctx.retry.backoff(attempt, &e) {
            Backoff::Wait(wait) => wait,
            Backoff::TooLong(asked) => {
                let reason = format!(
                    "{last_error} (plex.tv asked to wait {} s, longer than sharesync waits)",
                    asked.as_secs()
                );
                return give_up(intent, reason, requests);
            }
        };
        if matches!(e, PlexError::RateLimited { .. }) {
            ctx.limiter.pause_for(wait);
        }
        attempt += 1;
        (ctx.progress)(Progress::Retrying {
            account: change.name().to_string(),
            attempt,
            wait,
            reason: last_error.clone(),
        });
        tokio::time::sleep(wait).await;
        need_read = Some(answered);
    }
}
