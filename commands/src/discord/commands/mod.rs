//! The slash commands, one file each. Each is thin: check (in [`check`], for every command),
//! read the engine, store, render, reply. Long work defers first (Discord wants an answer
//! within 3 s). What every command shares is set once, in [`all`].

mod autocomplete;
mod sync_apply;
mod sync_link;
mod sync_plan;
mod sync_status;
mod sync_unlink;
mod sync_user;

use poise::serenity_prelude as serenity;

use super::errors::{Context, Error};
use super::state::Data;

/// Every command, each only in a server and, by Discord's default, only for members who may
/// manage it (the admin roles are checked in [`check`] whatever the server's settings).
pub fn all() -> Vec<poise::Command<Data, Error>> {
    let mut commands = vec![
        sync_plan::sync_plan(),
        sync_apply::sync_apply(),
        sync_user::sync_user(),
        sync_link::sync_link(),
        sync_unlink::sync_unlink(),
        sync_status::sync_status(),
    ];
    for command in &mut commands {
        command.guild_only = true;
        command.default_member_permissions = serenity::Permissions::MANAGE_GUILD;
    }
    commands
}

/// Every command passes here first: admin role, guild, allowed channel. A refusal becomes an
/// ephemeral message through `on_error` (CommandCheckFailed with the reason).
pub async fn check(ctx: Context<'_>) -> Result<bool, Error> {
    match ctx {
        poise::Context::Application(app) => {
            ctx.data().settings.policy.check_command(app.interaction)?;
            Ok(true)
        }
        poise::Context::Prefix(_) => Ok(false),
    }
}
