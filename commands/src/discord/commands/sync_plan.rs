//! `/sync-plan`: plan a pair, store the plan, post it with its buttons.

use sharesync::guard::Baselines;
use sharesync::session::SessionError;
use sharesync::store::{NewPlan, Trigger};

use super::super::errors::{redact, session_error, user, Context, Error};
use super::super::render;
use super::super::respond::reply;
use super::autocomplete;

/// Plan the sync of a pair: who would get which libraries on the destination.
#[poise::command(slash_command, rename = "sync-plan")]
pub async fn sync_plan(
    ctx: Context<'_>,
    #[description = "The pair to plan (default: the only one configured)"]
    #[autocomplete = "autocomplete::pair"]
    pair: Option<String>,
    #[description = "Only this Plex user (username, email, title or account id)"]
    #[autocomplete = "autocomplete::plex_user"]
    user: Option<String>,
) -> Result<(), Error> {
    plan_and_post(ctx, pair, user.into_iter().collect()).await
}

/// Plan a pair (optionally for some accounts), store it, and post it with its buttons.
pub(super) async fn plan_and_post(
    ctx: Context<'_>,
    pair: Option<String>,
    only: Vec<String>,
) -> Result<(), Error> {
    ctx.defer().await?;
    let data = ctx.data();
    let pair = data
        .config
        .pair(pair.as_deref())
        .map_err(|e| user(e.to_string()))?
        .clone();
    let session = data.session().await.map_err(session_error)?;
    let planned = session
        .plan_pair_checked(&pair, only.clone(), &data.store, Baselines::Check)
        .await;
    let (_state, plan) = match planned {
        Ok(planned) => planned,
        // With the Accept button: a bot with no schedule has no notice to accept from.
        Err(SessionError::ReadLooksWrong(wrong)) => {
            let page = render::read_looks_wrong(
                &format!("{}: the read looks wrong", pair.name),
                &format!(
                    "{}\nNothing was planned or written.",
                    render::escape(&redact(&wrong.to_string(), &data.secrets))
                ),
                &wrong,
            );
            ctx.send(reply(&page)).await?;
            return Ok(());
        }
        Err(e) => return Err(session_error(e)),
    };
    let stored = data.store.insert_plan(
        &NewPlan {
            pair: &pair.name,
            only_accounts: &only,
            created_by: &Trigger::discord(ctx.author().id.get()),
            lifetime: data.settings.plan_ttl,
            plan: &plan,
        },
        data.clock.now(),
    )?;
    tracing::info!(plan = %stored.id, pair = %pair.name, user = %ctx.author().id, "plan posted");
    let page = render::plan_page(&stored.plan, &render::plan_context(&stored), 0);
    ctx.send(reply(&page)).await?;
    Ok(())
}
