//! The one handler for every button: routes on the custom id (`ss:<action>:<plan-id>[:page]`),
//! loads the plan from the store, re-checks the presser's roles, and answers exactly once.
//! Nothing lives in memory between presses, so buttons keep working after a restart.

use poise::serenity_prelude as serenity;
use sharesync::guard::baseline::accept_server;
use sharesync::store::{PlanStatus, Trigger};

use super::apply::confirm;
use super::errors::{report, session_error, user, Audience, Error};
use super::ids::{Action, CustomId};
use super::render::{self, not_applicable, plan_context};
use super::respond::{ephemeral, update};
use super::state::Data;

/// Every gateway event: a press of one of our buttons is handled, and its error reported to the
/// presser; anything else is ignored.
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
            let to = Audience::Press(framework.serenity_context, press);
            report(&data.secrets, &e, to).await;
        }
    }
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
        return Ok(ephemeral(ctx, press, &refusal.to_string()).await?);
    }
    if id.action == Action::AcceptChange {
        return accept_change(ctx, data, press, &id.plan_id).await;
    }
    let Some(stored) = data.store.stored_plan(&id.plan_id)? else {
        return Ok(ephemeral(
            ctx,
            press,
            "This plan is no longer known: run /sync-plan again.",
        )
        .await?);
    };
    let now = data.clock.now();
    let context = plan_context(&stored);
    match id.action {
        Action::Prev | Action::Next | Action::Back => {
            let page = render::plan_page(&stored.plan, &context, id.page.unwrap_or(0) as usize);
            Ok(update(ctx, press, &page).await?)
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
                return Ok(ephemeral(ctx, press, &why).await?);
            }
            let mut c = context;
            c.status = Some(PlanStatus::Cancelled);
            c.note = Some(format!("Cancelled by <@{}>.", press.user.id));
            Ok(update(ctx, press, &render::plan_page(&stored.plan, &c, 0)).await?)
        }
        Action::Apply => {
            if let Some(why) = not_applicable(&stored, now) {
                return Ok(ephemeral(ctx, press, &why).await?);
            }
            if stored.plan.to_update().next().is_none() {
                return Ok(ephemeral(ctx, press, "This plan has nothing to grant.").await?);
            }
            let back_to = page_of(press);
            let page = render::stored_confirm_page(&stored, &data.config.limits, back_to);
            Ok(update(ctx, press, &page).await?)
        }
        Action::Confirm => confirm(ctx, data, press, stored).await,
        Action::AcceptChange => Ok(()), // answered above: its id names a server, not a plan
    }
}

/// An admin says a server really changed: read it now and make that read its baseline.
async fn accept_change(
    ctx: &serenity::Context,
    data: &Data,
    press: &serenity::ComponentInteraction,
    machine_id: &str,
) -> Result<(), Error> {
    let session = data.session().await.map_err(session_error)?;
    let server = session
        .find_server(machine_id)
        .await
        .map_err(session_error)?;
    let by = Trigger::discord(press.user.id.get());
    let size = accept_server(&session.client, &data.store, &server, Some(&by))
        .await
        .map_err(|e| user(format!("Nothing was accepted: {e}")))?;
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
    Ok(update(ctx, press, &page).await?)
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
