//! Schedules in the bot: the engine's scheduler loop, and a post in the schedule's channel (or
//! the notify channel) when each run finishes. A report run posts the plan with the same
//! buttons as `/sync-plan`; an apply run posts its results with them attached as CSV.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use sharesync::schedule::{Outcome, ScheduledRun, Scheduler};
use sharesync::store::{NewPlan, Trigger};

use super::errors::{redact, Error, TOKEN_REJECTED};
use super::render::{self, plan_context, when};
use super::respond::post;
use super::state::Data;

/// Everything the scheduler task needs besides [`Data`] (whose clock says what is due).
pub struct Schedules {
    pub scheduler: Scheduler,
}

/// The loop: runs what is due, posts about it, sleeps a tick. Each pass holds the shutdown
/// guard, so shutdown waits for a scheduled apply in flight instead of cutting it.
pub async fn run_forever(schedules: Arc<Schedules>, data: Data, http: Arc<serenity::Http>) {
    loop {
        run_due_now(&schedules, &data, &http).await;
        tokio::time::sleep(sharesync::schedule::TICK).await;
    }
}

/// Run what is due at the clock's "now" and post about each run; returns how many ran.
pub async fn run_due_now(schedules: &Schedules, data: &Data, http: &serenity::Http) -> usize {
    let _guard = data.in_flight.read().await;
    let runs = match schedules.scheduler.run_due(data.clock.now()).await {
        Ok(runs) => runs,
        Err(e) => {
            tracing::warn!("schedules: {}", redact(&e.to_string(), &data.secrets));
            return 0;
        }
    };
    for run in &runs {
        tracing::info!(schedule = %run.schedule.name, "{}", redact(&run.summary(), &data.secrets));
        if let Err(e) = announce(data, http, run).await {
            tracing::warn!(schedule = %run.schedule.name, "could not post the result: {}", redact(&e.to_string(), &data.secrets));
        } else if let Err(e) = schedules.scheduler.announced(run) {
            tracing::warn!(schedule = %run.schedule.name, "could not record the post: {e}");
        }
    }
    runs.len()
}

async fn announce(data: &Data, http: &serenity::Http, run: &ScheduledRun) -> Result<(), Error> {
    if !run.worth_announcing() {
        return Ok(());
    }
    let Some(channel) = run
        .schedule
        .channel_id
        .map(serenity::ChannelId::new)
        .or(data.settings.notify_channel)
    else {
        return Ok(()); // validate() refuses schedules without a channel; nothing to post to
    };
    let mut message =
        serenity::CreateMessage::new().allowed_mentions(serenity::CreateAllowedMentions::new());
    let page = match &run.outcome {
        Outcome::ToApprove { plan } | Outcome::OverLimit { plan, .. } => {
            // Open until the schedule's next run (at least the usual plan lifetime): a nightly
            // report can be approved in the morning; the stale check still guards the apply.
            let until_next = run
                .next
                .map(|n| n - data.clock.now())
                .unwrap_or(data.settings.plan_ttl);
            let stored = data.store.insert_plan(
                &NewPlan {
                    pair: &run.schedule.pair,
                    only_accounts: &[],
                    created_by: &Trigger::schedule(&run.schedule.name),
                    lifetime: until_next.max(data.settings.plan_ttl),
                    plan,
                },
                data.clock.now(),
            )?;
            let mut c = plan_context(&stored);
            c.note = Some(match &run.outcome {
                    Outcome::OverLimit { over, .. } => format!(
                        "{}\n⚠️ **Not applied: over the blast-radius limit** ({}). Nothing was written. Press Apply to go over it for this plan, or raise the limit in the config.",
                        heading(run),
                        render::escape(&over.numbers())
                    ),
                    _ => heading(run),
                });
            render::plan_page(plan, &c, 0)
        }
        Outcome::InSync { plan } => render::notice(
            &format!("{}: in sync", run.schedule.name),
            &format!(
                "{}\n{} → {}: nothing to grant.",
                heading(run),
                render::escape(&plan.source.name),
                render::escape(&plan.dest.name)
            ),
            true,
        ),
        Outcome::Applied { plan, report } => {
            let lines = render::result_lines(report);
            let note = format!(
                "{}\nRun #{} · {} · {} account(s) updated · {} librar{} granted · {} failed",
                heading(run),
                report.run,
                report.status.as_str(),
                report.summary.accounts_updated,
                report.summary.libraries_changed,
                if report.summary.libraries_changed == 1 {
                    "y"
                } else {
                    "ies"
                },
                report.summary.accounts_failed + report.summary.accounts_partial,
            );
            message = message.add_file(serenity::CreateAttachment::bytes(
                render::run_csv(report).into_bytes(),
                format!("sharesync-run-{}.csv", report.run),
            ));
            let total = lines.len();
            let mut page = render::run_page(
                plan,
                &format!("run #{}", report.run),
                &lines,
                total,
                total,
                true,
                Some(&note),
            );
            // The results are attached; there is no stored plan to download.
            page.rows.clear();
            if let Some(embed) = page.embeds.first_mut() {
                embed.footer = format!(
                    "Run #{}: every account's result is in the attached CSV",
                    report.run
                );
            }
            page
        }
        Outcome::ReadLooksWrong { wrong, .. } => render::read_looks_wrong(
            &format!("{}: stopped, the read looks wrong", run.schedule.name),
            &format!(
                "{}\n{}\nNothing was planned or written. This is posted once; later runs stay quiet while the refusal is the same.",
                heading(run),
                render::escape(&redact(&wrong.to_string(), &data.secrets)),
            ),
            wrong,
        ),
        Outcome::Checked { check } => {
            let agree = check.disagreements() == 0;
            let mut lines: Vec<String> = check.lines().iter().map(|l| render::escape(l)).collect();
            lines.push(if agree {
                render::escape(&check.summary())
            } else {
                "One family is answering wrongly: compare with Plex Web, and hold scheduled applies until they agree (`sharesync doctor --deep` shows the fix).".into()
            });
            render::notice(
                &format!(
                    "{}: API families {}",
                    run.schedule.name,
                    if agree { "agree" } else { "disagree" }
                ),
                &format!("{}\n{}", heading(run), lines.join("\n")),
                agree,
            )
        }
        Outcome::TokenRejected => render::notice(
            &format!("{}: could not run", run.schedule.name),
            &format!("{}\n{}", heading(run), render::escape(TOKEN_REJECTED)),
            false,
        ),
        Outcome::Failed { reason } => render::notice(
            &format!("{}: could not run", run.schedule.name),
            &format!(
                "{}\n{}",
                heading(run),
                render::escape(&redact(reason, &data.secrets))
            ),
            false,
        ),
    };
    Ok(post(http, channel, message, &page).await?)
}

/// "Scheduled sync **nightly** (pair main) · due 03:00 UTC · took 2 s".
fn heading(run: &ScheduledRun) -> String {
    format!(
        "Scheduled sync **{}** (pair {}) · due {}{} · took {}",
        render::escape(&run.schedule.name),
        render::escape(&run.schedule.pair),
        when(run.due),
        if run.caught_up {
            " (missed while the bot was down; caught up now)"
        } else {
            ""
        },
        took(run.took),
    )
}

fn took(d: std::time::Duration) -> String {
    match d.as_secs() {
        0 => format!("{} ms", d.as_millis()),
        s if s < 120 => format!("{s} s"),
        s => format!("{} min {} s", s / 60, s % 60),
    }
}
