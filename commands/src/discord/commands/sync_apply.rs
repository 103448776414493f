//! `/sync-apply`: the Confirm page of a stored plan (the newest open one by default).

use super::super::errors::{user, Context, Error};
use super::super::render;
use super::super::respond::reply;

/// Apply a stored plan, after a confirmation.
#[poise::command(slash_command, rename = "sync-apply")]
pub async fn sync_apply(
    ctx: Context<'_>,
    #[description = "Plan id (default: the newest open plan)"] plan: Option<String>,
) -> Result<(), Error> {
    let data = ctx.data();
    let now = data.clock.now();
    let id = match plan {
        Some(p) => p.trim().to_string(),
        None => data
            .store
            .open_plans(now, 1)?
            .into_iter()
            .next()
            .map(|(id, _, _)| id)
            .ok_or_else(|| user("There is no open plan: run /sync-plan first."))?,
    };
    let stored = data
        .store
        .stored_plan(&id)?
        .ok_or_else(|| user(format!("No plan {id}: run /sync-plan to make one.")))?;
    if let Some(why) = render::not_applicable(&stored, now) {
        return Err(user(why));
    }
    if stored.plan.to_update().next().is_none() {
        return Err(user("That plan has nothing to grant."));
    }
    let page = render::stored_confirm_page(&stored, &data.config.limits, 0);
    ctx.send(reply(&page)).await?;
    Ok(())
}
