//! `/sync-unlink`: remove a member's Plex link.

use poise::serenity_prelude as serenity;

use super::super::errors::{Context, Error};

/// Remove a member's Plex link.
#[poise::command(slash_command, rename = "sync-unlink")]
pub async fn sync_unlink(
    ctx: Context<'_>,
    #[description = "The Discord member"] member: serenity::User,
) -> Result<(), Error> {
    let text = if ctx.data().store.unlink(member.id.get())? {
        format!("<@{}> is no longer linked to a Plex account.", member.id)
    } else {
        format!("<@{}> was not linked.", member.id)
    };
    ctx.send(poise::CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}
