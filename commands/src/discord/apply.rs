//! Confirm → stale check → run. One run at a time per destination: an in-process lock plus the
//! store's `open → applying` transition (so a double press, or two admins, start one run only).
//! Progress and the final result are written by editing the channel message, which keeps working
//! after the interaction token's 15 minutes.

use std::time::Duration;

use chrono::Utc;
use poise::serenity_prelude as serenity;

use super::buttons::{edit_message, not_applicable, update};
use super::commands::plan_context;
use super::errors::{redact, Error};
use super::render::{self, ResultLine};
use super::store::{PlanStatus, StoredPlan};
use super::Data;
use sharesync::apply::{apply, ApplyError, ApplyJob, Progress};
use sharesync::store::{AccountResult, Store, Trigger};

/// Progress edits no more often than this.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(3);

pub async fn confirm(
    ctx: &serenity::Context,
    data: &Data,
    press: &serenity::ComponentInteraction,
    stored: StoredPlan,
) -> Result<(), Error> {
    let now = Utc::now();
    let refuse = |text: String| async move {
        press
            .create_response(
                &ctx.http,
                serenity::CreateInteractionResponse::Message(
                    serenity::CreateInteractionResponseMessage::new()
                        .content(text)
                        .ephemeral(true),
                ),
            )
            .await
    };
    if let Some(why) = not_applicable(&stored, now) {
        refuse(why).await?;
        return Ok(());
    }
    let dest = stored.plan.dest.machine_identifier.clone();
    let Some(lock) = lock_dest_owned(data, &dest) else {
        refuse(format!(
            "A run on {} is already in progress; wait for it to finish.",
            stored.plan.dest.name
        ))
        .await?;
        return Ok(());
    };
    if !data.store.applying_on(&dest)?.is_empty() {
        refuse(format!(
            "A run on {} is already in progress; wait for it to finish.",
            stored.plan.dest.name
        ))
        .await?;
        return Ok(());
    }
    if !data
        .store
        .transition(&stored.id, PlanStatus::Open, PlanStatus::Applying)?
    {
        let fresh = data.store.plan(&stored.id)?.unwrap_or(stored);
        refuse(
            not_applicable(&fresh, now)
                .unwrap_or_else(|| "This plan can no longer be applied.".into()),
        )
        .await?;
        return Ok(());
    }
    tracing::info!(plan = %stored.id, user = %press.user.id, dest = %stored.plan.dest.name, "apply confirmed");
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
    update(ctx, press, &first).await?;

    // The run goes on in its own task, holding the shutdown guard and the destination's lock.
    let guard = data.in_flight.clone().read_owned().await;
    let (data, http) = (data.clone(), ctx.http.clone());
    let (channel, message, who) = (press.channel_id, press.message.id, press.user.id.get());
    tokio::spawn(async move {
        let _guard = guard;
        let _lock = lock;
        let id = stored.id.clone();
        if let Err(e) = run(&data, &http, channel, message, who, stored).await {
            let text = redact(&e.to_string(), &data.secrets);
            tracing::warn!(plan = %id, "apply failed: {text}");
            let _ = data
                .store
                .transition(&id, PlanStatus::Applying, PlanStatus::Failed);
            let page = render::notice(
                "Apply failed",
                &format!(
                    "{}\nNothing more will be written for this plan.",
                    super::errors::describe(&e).0
                ),
                false,
            );
            let _ = edit_message(&http, channel, message, &page).await;
        }
    });
    Ok(())
}

/// The same lock, owned (for the run's task).
struct OwnedDestLock {
    data: Data,
    dest: String,
}

impl Drop for OwnedDestLock {
    fn drop(&mut self) {
        self.data
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.dest);
    }
}

fn lock_dest_owned(data: &Data, dest: &str) -> Option<OwnedDestLock> {
    let mut running = data.running.lock().unwrap_or_else(|p| p.into_inner());
    running.insert(dest.to_string()).then(|| OwnedDestLock {
        data: data.clone(),
        dest: dest.to_string(),
    })
}

async fn run(
    data: &Data,
    http: &std::sync::Arc<serenity::Http>,
    channel: serenity::ChannelId,
    message: serenity::MessageId,
    who: u64,
    stored: StoredPlan,
) -> Result<(), Error> {
    let pair = data
        .config
        .pairs
        .iter()
        .find(|p| p.name == stored.pair)
        .cloned()
        .ok_or_else(|| {
            super::errors::user(format!("pair '{}' is no longer configured", stored.pair))
        })?;
    let session = data
        .session()
        .await
        .map_err(super::commands::session_error)?;
    let (source, dest) = session
        .pair_servers(&pair)
        .await
        .map_err(super::commands::session_error)?;
    let options = pair.plan_options(stored.only_accounts.clone());
    let store = Store::open(data.config.database_file())?;
    let trigger = Trigger::discord(who);
    let job = ApplyJob::new(
        &pair.name,
        &source,
        &dest,
        &stored.plan,
        &options,
        &data.config.limits,
        &trigger,
    );

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
    let result = apply(&session.client, &store, &job, progress).await;
    let _ = editor.await; // ends when the callback (and its sender) is dropped
    match result {
        Err(ApplyError::Stale { differences, fresh_plan }) => {
            // design.md invariant 5: nothing was written; show the new plan for approval.
            data.store.transition(&stored.id, PlanStatus::Applying, PlanStatus::Superseded)?;
            let new = data.store.insert_plan(&stored.pair, &stored.only_accounts, who, data.settings.plan_ttl, &fresh_plan, Utc::now())?;
            tracing::info!(old = %stored.id, new = %new.id, "plan was stale; new plan shown, nothing written");
            let mut c = plan_context(&new);
            let shown: Vec<String> = differences.iter().take(10).map(|d| format!("• {}", render::escape(d))).collect();
            c.note = Some(format!(
                "⚠️ The servers changed since this plan was approved, so nothing was written. Review the new plan below and apply it again.\n{}{}",
                shown.join("\n"),
                if differences.len() > 10 { format!("\n… and {} more changes", differences.len() - 10) } else { String::new() }
            ));
            edit_message(http, channel, message, &render::plan_page(&new.plan, &c, 0)).await?;
            Ok(())
        }
        Err(ApplyError::TokenRejected { .. }) => Err(super::errors::user(
            "plex.tv rejected the Plex token. The run stopped; anything not reported as granted was not written. Set a fresh token (plex.token or PLEX_ACCOUNT_TOKEN) and restart the bot.",
        )),
        Err(e) => Err(super::errors::user(format!("The run stopped: {e}"))),
        Ok(report) => {
            let lines: Vec<ResultLine> = report
                .accounts
                .iter()
                .map(|a| {
                    let ok = matches!(a.result, AccountResult::Applied | AccountResult::Skipped);
                    let detail = match a.result {
                        AccountResult::Applied if a.libraries.is_empty() => "already in place".to_string(),
                        AccountResult::Applied => a.libraries.join(", "),
                        _ => {
                            let mut d = format!("{}: {}", a.result.as_str(), a.reason.clone().unwrap_or_default());
                            if !a.missing.is_empty() {
                                d.push_str(&format!(" (missing: {})", a.missing.join(", ")));
                            }
                            d
                        }
                    };
                    ResultLine { name: a.name.clone(), ok, detail }
                })
                .collect();
            let all_ok = lines.iter().all(|l| l.ok);
            data.store.transition(
                &stored.id,
                PlanStatus::Applying,
                if all_ok { PlanStatus::Applied } else { PlanStatus::Failed },
            )?;
            let total = lines.len();
            let note = format!(
                "Applied by <@{who}> · run #{} · {} · {} write requests",
                report.run.0,
                report.status.as_str(),
                report.summary.write_requests
            );
            let page = render::run_page(&stored.plan, &stored.id, &lines, total, total, true, Some(&note));
            edit_message(http, channel, message, &page).await?;
            Ok(())
        }
    }
}
