//! `/sync-link`: link a Discord member to a Plex account, for `/sync-user`.

use poise::serenity_prelude as serenity;
use sharesync::store::{Link, Trigger};

use super::super::errors::{user, Context, Error};
use super::super::render;
use super::autocomplete;

/// Link a Discord member to a Plex account, for /sync-user.
#[poise::command(slash_command, rename = "sync-link")]
pub async fn sync_link(
    ctx: Context<'_>,
    #[description = "The Discord member"] member: serenity::User,
    #[description = "Their Plex account (username, email, title or account id)"]
    #[autocomplete = "autocomplete::plex_user"]
    plex_user: String,
) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let accounts = autocomplete::accounts(ctx.data()).await?;
    let wanted = plex_user.trim().to_lowercase();
    let found: Vec<_> = accounts
        .iter()
        .filter(|a| {
            a.id.0.to_string() == wanted
                || [
                    a.username.as_deref(),
                    a.email.as_deref(),
                    Some(a.title.as_str()),
                ]
                .into_iter()
                .flatten()
                .any(|s| s.to_lowercase() == wanted)
        })
        .collect();
    let account = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(user(format!(
                "No Plex account with access matches '{}'.",
                render::escape(&plex_user)
            )))
        }
        _ => {
            return Err(user(format!(
                "'{}' matches several Plex accounts; use the account id.",
                render::escape(&plex_user)
            )))
        }
    };
    let link = Link {
        member_id: member.id.get(),
        plex_account_id: account.id.0,
        plex_name: account.display_name(),
    };
    ctx.data().store.link(
        &link,
        &Trigger::discord(ctx.author().id.get()),
        ctx.data().clock.now(),
    )?;
    ctx.send(
        poise::CreateReply::default()
            .content(format!(
                "Linked <@{}> to Plex account **{}** ({}).",
                member.id,
                render::escape(&link.plex_name),
                account.id
            ))
            .ephemeral(true),
    )
    .await?;
    Ok(())
}
