//! The one handler for every button: routes on the custom id (`ss:<action>:<plan-id>[:page]`),
//! loads the plan from the store, re-checks the presser's roles, and answers exactly once.
//! Nothing lives in memory between presses, so buttons keep working after a restart.

use chrono::{DateTime, Utc};
use poise::serenity_prelude as serenity;

use super::commands::plan_context;
use super::errors::{redact, Error};
use super::ids::{Action, CustomId};
use super::render::{self, Page};
use super::Data;
use sharesync::config::Limits;
use sharesync::guard::{baseline::accept_server, check_limits};
use sharesync::store::{PlanStatus, StoredPlan, Trigger};

pub async fn event_handler(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    if let serenity::FullEvent::InteractionCreate {
        interaction: serenity::Interaction::Component(press),
    } = event
    {
        let Ok(id) = CustomId::decode(&press.data.custom_id) else {
            return Ok(()); // not ours
        };
        let data = framework.user_data;
        if let Err(e) = handle(framework.serenity_context, data, press, &id).await {
            let text = redact(&e.to_string(), &data.secrets);
            tracing::warn!(button = %press.data.custom_id, user = %press.user.id, "button failed: {text}");
            let _ = ephemeral(
                framework.serenity_context,
                press,
                &format!(
                    "⚠️ {}",
                    redact(&super::errors::describe(&e).0, &data.secrets)
                ),
            )
            .await;
        }
    }
    Ok(())
}

/// Why a stored plan cannot be applied now, in words for the admin.
pub fn not_applicable(p: &StoredPlan, now: DateTime<Utc>) -> Option<String> {
    match p.status {
        PlanStatus::Open if p.expired(now) => {
            Some("This plan has expired: run /sync-plan again for a fresh one.".into())
        }
        PlanStatus::Open => None,
        PlanStatus::Applying => Some("This plan is already being applied.".into()),
        PlanStatus::Applied => Some("This plan was already applied.".into()),
        PlanStatus::Failed => {
            Some("This plan's run stopped with an error: run /sync-plan again.".into())
        }
        PlanStatus::Cancelled => Some("This plan was cancelled.".into()),
        PlanStatus::Superseded => Some(
            "This plan was replaced by a newer one (the servers changed): use the newer plan."
                .into(),
        ),
    }
}

async fn ephemeral(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    text: &str,
) -> Result<(), Error> {
    press
        .create_response(
            &ctx.http,
            serenity::CreateInteractionResponse::Message(
                serenity::CreateInteractionResponseMessage::new()
                    .content(render::ellipsis(text, 1900))
                    .ephemeral(true)
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;
    Ok(())
}

/// Replace the message the button is on (interaction response type 7).
pub async fn update(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    page: &Page,
) -> Result<(), Error> {
    let mut msg = serenity::CreateInteractionResponseMessage::new()
        .embeds(page.embeds())
        .components(page.components());
    if !page.content.is_empty() {
        msg = msg.content(page.content.clone());
    }
    press
        .create_response(
            &ctx.http,
            serenity::CreateInteractionResponse::UpdateMessage(msg),
        )
        .await?;
    Ok(())
}

/// Edit a channel message (works past the interaction token's 15 minutes).
pub async fn edit_message(
    http: &serenity::Http,
    channel: serenity::ChannelId,
    message: serenity::MessageId,
    page: &Page,
) -> Result<(), serenity::Error> {
    channel
        .edit_message(
            http,
            message,
            serenity::EditMessage::new()
                .embeds(page.embeds())
                .components(page.components()),
        )
        .await?;
    Ok(())
}

async fn handle(
    ctx: &serenity::Context,
    data: &Data,
    press: &serenity::ComponentInteraction,
    id: &CustomId,
) -> Result<(), Error> {
    if let Err(refusal) = data.settings.policy.check_component(press) {
        tracing::info!(user = %press.user.id, button = %press.data.custom_id, "refused: {refusal}");
        return ephemeral(ctx, press, &refusal.to_string()).await;
    }
    if id.action == Action::AcceptChange {
        return accept_change(ctx, data, press, &id.plan_id).await;
    }
    let Some(stored) = data.store.stored_plan(&id.plan_id)? else {
        return ephemeral(
            ctx,
            press,
            "This plan is no longer known: run /sync-plan again.",
        )
        .await;
    };
    let now = Utc::now();
    let context = plan_context(&stored);
    match id.action {
        Action::Prev | Action::Next | Action::Back => {
            let page = render::plan_page(&stored.plan, &context, id.page.unwrap_or(0) as usize);
            update(ctx, press, &page).await
        }
        Action::Download => {
            let json = serde_json::to_string_pretty(&stored.plan)?;
            let csv = render::plan_csv(&stored.plan);
            press
                .create_response(
                    &ctx.http,
                    serenity::CreateInteractionResponse::Message(
                        serenity::CreateInteractionResponseMessage::new()
                            .content(format!(
                                "Plan `{}` ({} accounts) as JSON and CSV.",
                                stored.id,
                                stored.plan.users.len()
                            ))
                            .add_file(serenity::CreateAttachment::bytes(
                                json.into_bytes(),
                                format!("sharesync-plan-{}.json", stored.id),
                            ))
                            .add_file(serenity::CreateAttachment::bytes(
                                csv.into_bytes(),
                                format!("sharesync-plan-{}.csv", stored.id),
                            ))
                            .ephemeral(true),
                    ),
                )
                .await?;
            Ok(())
        }
        Action::Cancel => {
            if !data
                .store
                .transition_plan(&stored.id, PlanStatus::Open, PlanStatus::Cancelled)?
            {
                let why = not_applicable(&stored, now)
                    .unwrap_or_else(|| "This plan can no longer be cancelled.".into());
                return ephemeral(ctx, press, &why).await;
            }
            let mut c = context;
            c.status = Some(PlanStatus::Cancelled);
            c.note = Some(format!("Cancelled by <@{}>.", press.user.id));
            update(ctx, press, &render::plan_page(&stored.plan, &c, 0)).await
        }
        Action::Apply => {
            if let Some(why) = not_applicable(&stored, now) {
                return ephemeral(ctx, press, &why).await;
            }
            if stored.plan.to_update().next().is_none() {
                return ephemeral(ctx, press, "This plan has nothing to grant.").await;
            }
            let back_to = page_of(press);
            update(
                ctx,
                press,
                &confirm_page(&stored, &data.config.limits, back_to),
            )
            .await
        }
        Action::Confirm => super::apply::confirm(ctx, data, press, stored).await,
        Action::AcceptChange => Ok(()), // answered above: its id names a server, not a plan
    }
}

/// The Confirm page; over a blast-radius limit it names the limit and the numbers first, so
/// Confirm goes over it knowingly. The stored plan lists every account with source access
/// unless it was made for some accounts only; then the fraction is taken of those (stricter).
pub fn confirm_page(stored: &StoredPlan, limits: &Limits, back_to: usize) -> Page {
    let mut context = plan_context(stored);
    if let Err(over) = check_limits(&stored.plan, stored.plan.users.len(), limits) {
        context.note = Some(format!(
            "⚠️ **Over the blast-radius limit**: {}. Confirm goes over it for this plan only.",
            render::escape(&over.numbers())
        ));
    }
    render::confirm_page(&stored.plan, &context, back_to)
}

/// An admin says a server really changed: read it now and make that read its baseline.
async fn accept_change(
    ctx: &serenity::Context,
    data: &Data,
    press: &serenity::ComponentInteraction,
    machine_id: &str,
) -> Result<(), Error> {
    let session = data
        .session()
        .await
        .map_err(super::commands::session_error)?;
    let server = session
        .find_server(machine_id)
        .await
        .map_err(super::commands::session_error)?;
    let by = Trigger::discord(press.user.id.get());
    let size = accept_server(&session.client, &data.store, &server, Some(&by))
        .await
        .map_err(|e| super::errors::user(format!("Nothing was accepted: {e}")))?;
    tracing::info!(user = %press.user.id, server = %server.name, "read accepted as the new baseline");
    let page = render::notice(
        &format!("{}: change accepted", server.name),
        &format!(
            "<@{}> accepted {} as it is now ({size}) as its new baseline. The next run plans from it.",
            press.user.id,
            render::escape(&server.name)
        ),
        true,
    );
    update(ctx, press, &page).await
}

/// The page the message currently shows, from its footer ("page 2/5"), for Back.
fn page_of(press: &serenity::ComponentInteraction) -> usize {
    press
        .message
        .embeds
        .first()
        .and_then(|e| e.footer.as_ref())
        .and_then(|f| f.text.split("page ").nth(1))
        .and_then(|rest| rest.split('/').next())
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map(|n| n.saturating_sub(1))
        .unwrap_or(0)
}
