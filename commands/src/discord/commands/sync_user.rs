//! `/sync-user`: plan for one person, a Plex user or a Discord member linked to one.

use poise::serenity_prelude as serenity;

use super::super::errors::{user, Context, Error};
use super::super::render;
use super::autocomplete;
use super::sync_plan::plan_and_post;

/// Plan (and then apply) for one person: a Plex user, or a Discord member linked to one.
#[poise::command(slash_command, rename = "sync-user")]
pub async fn sync_user(
    ctx: Context<'_>,
    #[description = "Plex user (username, email, title or account id)"]
    #[autocomplete = "autocomplete::plex_user"]
    plex_user: Option<String>,
    #[description = "A Discord member linked with /sync-link"] member: Option<serenity::User>,
    #[description = "The pair (default: the only one configured)"]
    #[autocomplete = "autocomplete::pair"]
    pair: Option<String>,
) -> Result<(), Error> {
    let who = match (plex_user, member) {
        (Some(p), _) => p,
        (None, Some(m)) => match ctx.data().store.linked(m.id.get())? {
            Some(link) => link.plex_account_id.to_string(),
            None => {
                return Err(user(format!(
                    "{} is not linked to a Plex account. Link them first with /sync-link member:@{} plex_user:<their Plex username>.",
                    render::escape(&m.name),
                    render::escape(&m.name)
                )))
            }
        },
        (None, None) => return Err(user("Name a Plex user or a linked Discord member.")),
    };
    plan_and_post(ctx, pair, vec![who]).await
}
