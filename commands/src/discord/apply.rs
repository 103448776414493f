//! Confirm → stale check → run. One run at a time per destination: the destination's SQLite lease
//! (shared with every other process on the database), taken at the press, plus the store's
//! `open → applying` transition (so a double press, or two admins, start one run only).
//! Progress and the final result are written by editing the channel message, which keeps working
//! after the interaction token's 15 minutes.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::errors::{report, session_error, user, Audience, Error, TOKEN_REJECTED};
use super::render::{self, not_applicable, plan_context, ResultLine};
use super::respond::{edit_message, ephemeral, update};
use super::state::Data;
use sharesync::apply::{Applied, ApplyError, ApplyRequest, Busy, DestLease, Progress, Runner};
use sharesync::model::{MachineId, ServerRef};
use sharesync::store::{NewPlan, PlanStatus, StoredPlan, Trigger};

/// Progress edits no more often than this.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(3);

pub async fn confirm(
    ctx: &serenity::Context,
    data: &Data,
    press: &serenity::ComponentInteraction,
    stored: StoredPlan,
) -> Result<(), Error> {
    let now = data.clock.now();
    let refuse = |text: String| async move { ephemeral(ctx, press, &text).await };
    if let Some(why) = not_applicable(&stored, now) {
        refuse(why).await?;
        return Ok(());
    }
    let dest = ServerRef {
        name: stored.plan.dest.name.clone(),
        machine_id: MachineId(stored.plan.dest.machine_identifier.clone()),
    };
    let who = Trigger::discord(press.user.id.get());
    // Taken before the stale check and held until the run is verified and recorded.
    let lease = match Runner::new(&data.store, &data.config.limits).lease(&dest, &who) {
        Ok(lease) => lease,
        Err(Busy::Store(e)) => return Err(e.into()),
        Err(busy) => {
            refuse(format!(
                "{}. Wait for it to finish, then press again.",
                capitalized(&busy.to_string())
            ))
            .await?;
            return Ok(());
        }
    };
    if data.store.plan_applying_on(&dest.machine_id)? {
        refuse(format!(
            "A run on {} is already in progress; wait for it to finish.",
            dest.name
        ))
        .await?;
        return Ok(());
    }
    if !data
        .store
        .transition_plan(&stored.id, PlanStatus::Open, PlanStatus::Applying)?
    {
        let fresh = data.store.stored_plan(&stored.id)?.unwrap_or(stored);
        refuse(
            not_applicable(&fresh, now)
                .unwrap_or_else(|| "This plan can no longer be applied.".into()),
        )
        .await?;
        return Ok(());
    }
    tracing::info!(plan = %stored.id, user = %press.user.id, dest = %dest.name, "apply confirmed");
    let total = stored.plan.to_update().count();
    let first = render::run_page(
        &stored.plan,
        &stored.id,
        &[],
        0,
        total,
        false,
        Some(&format!(
            "Confirmed by <@{}>. Checking the plan is still current…",
            press.user.id
        )),
    )
    .disabled();
    if let Err(e) = update(ctx, press, &first).await {
        // Nothing started: give the plan back so the next press can apply it.
        data.store
            .transition_plan(&stored.id, PlanStatus::Applying, PlanStatus::Open)?;
        return Err(e.into());
    }

    // The run goes on in its own task, holding the shutdown guard and the destination's lock.
    let guard = data.in_flight.clone().read_owned().await;
    let (data, http) = (data.clone(), ctx.http.clone());
    let message = (press.channel_id, press.message.id);
    let (store, plan_id, http_after) = (data.store.clone(), stored.id.clone(), http.clone());
    let run = tokio::spawn(async move {
        let _guard = guard;
        run_and_report(&data, &http, message, &who, &lease, stored).await;
    });
    // A panic in the run must not leave the plan `applying` (that blocks Confirm on its
    // destination until a restart): the plan is marked failed and the message says so. The
    // lease and the run's record are released and marked by their own drops.
    tokio::spawn(on_panic(run, async move {
        let _ = store.transition_plan(&plan_id, PlanStatus::Applying, PlanStatus::Failed);
        let page = render::notice(
            "Apply failed",
            "The run stopped on an internal error; `/sync-status` and `sharesync runs` show what was written. Plan again to continue.",
            false,
        );
        let _ = edit_message(&http_after, message.0, message.1, &page).await;
    }));
    Ok(())
}

/// Wait for `task`; if it panicked, log it and run `cleanup`.
pub async fn on_panic(
    task: tokio::task::JoinHandle<()>,
    cleanup: impl std::future::Future<Output = ()>,
) {
    if let Err(e) = task.await {
        if e.is_panic() {
            tracing::error!("an apply task panicked; its plan is marked failed");
            cleanup.await;
        }
    }
}

/// "another run …" → "Another run …".
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Apply a stored plan (already moved to `applying`, its destination leased), editing
/// `message` with progress and the result. Errors end up in the message, never lost.
pub async fn run_and_report(
    data: &Data,
    http: &Arc<serenity::Http>,
    message: (serenity::ChannelId, serenity::MessageId),
    who: &Trigger,
    lease: &DestLease,
    stored: StoredPlan,
) {
    let id = stored.id.clone();
    if let Err(e) = run(data, http, message, who, lease, stored).await {
        let _ = data
            .store
            .transition_plan(&id, PlanStatus::Applying, PlanStatus::Failed);
        let to = Audience::RunMessage {
            http,
            channel: message.0,
            message: message.1,
            plan: &id,
        };
        report(&data.secrets, &e, to).await;
    }
}

async fn run(
    data: &Data,
    http: &Arc<serenity::Http>,
    (channel, message): (serenity::ChannelId, serenity::MessageId),
    who: &Trigger,
    lease: &DestLease,
    stored: StoredPlan,
) -> Result<(), Error> {
    let pair = data
        .config
        .pairs
        .iter()
        .find(|p| p.name == stored.pair)
        .cloned()
        .ok_or_else(|| user(format!("pair '{}' is no longer configured", stored.pair)))?;
    let session = data.session().await.map_err(session_error)?;
    let (source, dest) = session.pair_servers(&pair).await.map_err(session_error)?;
    let options = pair.plan_options(stored.only_accounts.clone());
    let request = ApplyRequest {
        pair: &pair.name,
        source: &source,
        dest: &dest,
        approved: &stored.plan,
        options: &options,
        trigger: who,
        // The admin pressed Confirm on a page that named any limit the plan goes over.
        allow_over_limits: true,
    };

    // Progress: the executor reports through a callback; a separate task edits the message at
    // most every PROGRESS_EVERY with the latest state.
    let (tx, rx) = tokio::sync::watch::channel((0usize, 0usize, Vec::<ResultLine>::new()));
    let progress = move |p: Progress| {
        if let Progress::AccountDone {
            account,
            done,
            total,
            what,
        } = p
        {
            tx.send_modify(|(d, t, lines)| {
                *d = done;
                *t = total;
                let ok = !what.starts_with("failed");
                lines.push(ResultLine {
                    name: account,
                    ok,
                    detail: what,
                });
            });
        }
    };
    let editor = {
        let mut rx = rx.clone();
        let plan = stored.plan.clone();
        let id = stored.id.clone();
        let http = http.clone();
        async move {
            let mut last = tokio::time::Instant::now();
            while rx.changed().await.is_ok() {
                let wait = PROGRESS_EVERY.saturating_sub(last.elapsed());
                tokio::time::sleep(wait).await;
                let (done, total, lines) = rx.borrow_and_update().clone();
                let page =
                    render::run_page(&plan, &id, &lines, done, total, false, Some("Applying…"))
                        .disabled();
                if let Err(e) = edit_message(&http, channel, message, &page).await {
                    tracing::info!("progress edit failed: {e}");
                }
                last = tokio::time::Instant::now();
            }
        }
    };
    let editor = tokio::spawn(editor);
    let result = Runner::new(&data.store, &data.config.limits)
        .with_limiter(&data.limiter)
        .apply(&session.client, &request, Some(lease), progress)
        .await;
    let _ = editor.await; // ends when the callback (and its sender) is dropped
    match result {
        Err(ApplyError::Stale {
            differences,
            fresh_plan,
        }) => {
            // A stale plan is never applied: nothing was written; show the new plan for approval.
            data.store
                .transition_plan(&stored.id, PlanStatus::Applying, PlanStatus::Superseded)?;
            let new = data.store.insert_plan(
                &NewPlan {
                    pair: &stored.pair,
                    only_accounts: &stored.only_accounts,
                    created_by: who,
                    lifetime: data.settings.plan_ttl,
                    plan: &fresh_plan,
                },
                data.clock.now(),
            )?;
            tracing::info!(old = %stored.id, new = %new.id, "plan was stale; new plan shown, nothing written");
            let mut c = plan_context(&new);
            c.note = Some(render::stale_note(&differences));
            edit_message(http, channel, message, &render::plan_page(&new.plan, &c, 0)).await?;
            Ok(())
        }
        Err(ApplyError::TokenRejected { .. }) => Err(user(format!(
            "{TOKEN_REJECTED}. The run stopped; anything not reported as granted was not written."
        ))),
        Err(e) => Err(user(format!("The run stopped: {e}"))),
        Ok(Applied::NothingToApply) => {
            // Confirm is offered only for a plan that grants something; nothing was written.
            data.store
                .transition_plan(&stored.id, PlanStatus::Applying, PlanStatus::Applied)?;
            let page = render::notice(
                "Nothing to apply",
                "Every account is in sync; nothing was written.",
                true,
            );
            edit_message(http, channel, message, &page).await?;
            Ok(())
        }
        Ok(Applied::Ran(report)) => {
            let lines = render::result_lines(&report);
            let all_ok = lines.iter().all(|l| l.ok);
            let status = if all_ok {
                PlanStatus::Applied
            } else {
                PlanStatus::Failed
            };
            data.store
                .transition_plan(&stored.id, PlanStatus::Applying, status)?;
            let total = lines.len();
            let note = format!(
                "Applied by {} · run #{} · {} · {} write requests",
                render::trigger_label(who),
                report.run,
                report.status.as_str(),
                report.summary.write_requests
            );
            let page = render::run_page(
                &stored.plan,
                &stored.id,
                &lines,
                total,
                total,
                true,
                Some(&note),
            );
            edit_message(http, channel, message, &page).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_panicking_task_runs_the_cleanup_and_a_finished_one_does_not() {
        for panics in [true, false] {
            let cleaned = Arc::new(AtomicBool::new(false));
            let flag = cleaned.clone();
            let task = tokio::spawn(async move {
                if panics {
                    panic!("boom");
                }
            });
            super::on_panic(task, async move { flag.store(true, Ordering::SeqCst) }).await;
            assert_eq!(cleaned.load(Ordering::SeqCst), panics);
        }
    }
}
