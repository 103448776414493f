//! Errors: worded for a person ([`describe`], [`session_error`]), and told through one path
//! ([`report`]) whether a command, a button or an apply task failed; every other poise
//! `FrameworkError` variant gets an ephemeral message too (when there is someone to answer) and
//! a log line with detail. Every text goes through [`redact`] first, so neither the Discord
//! token nor the Plex token can reach a message or a log.

use poise::serenity_prelude as serenity;
use sharesync::session::SessionError;

use super::checks::Refusal;
use super::render::{self, ellipsis};
use super::respond;
use super::state::Data;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// An error whose text is meant for the person who ran the command, as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

pub fn user(msg: impl Into<String>) -> Error {
    Box::new(UserError(msg.into()))
}

/// Replace every secret (at least 4 characters long) in `text`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "[redacted]");
    }
    out
}

/// What to do about a rejected Plex token, for messages read away from a terminal (commands,
/// runs, schedule notifications).
pub const TOKEN_REJECTED: &str = "plex.tv rejected the Plex token: set a fresh one (plex.token or PLEX_ACCOUNT_TOKEN), or run `sharesync login`, then restart the bot";

/// Engine errors as a person should read them.
pub fn session_error(e: SessionError) -> Error {
    if e.is_token_rejected() {
        return user(format!("{TOKEN_REJECTED}. Nothing was read or changed."));
    }
    if let SessionError::ReadLooksWrong(wrong) = &e {
        return user(format!(
            "{wrong}. Nothing was changed.{}",
            if wrong.acceptable() {
                " If the change is real, run `sharesync sync --accept-change` (or press Accept on a scheduled run's notice) to make this read the new baseline."
            } else {
                ""
            }
        ));
    }
    user(format!("{e}. Nothing was changed."))
}

/// What a person sees for `error`, with every secret redacted.
pub fn shown(error: &Error, secrets: &[String]) -> String {
    redact(&describe(error).0, secrets)
}

/// Where a handler's error is told.
pub enum Audience<'a> {
    /// The person who ran a slash command: an ephemeral reply.
    Command(Context<'a>),
    /// The person who pressed a button: an ephemeral response.
    Press(&'a serenity::Context, &'a serenity::ComponentInteraction),
    /// The channel message an apply shows its progress in: edited to say the run stopped.
    RunMessage {
        http: &'a serenity::Http,
        channel: serenity::ChannelId,
        message: serenity::MessageId,
        plan: &'a str,
    },
}

/// The one path for a handler's error: worded for a person with secrets redacted, logged (a
/// warning unless it is a refusal or the person's own mistake), and sent where it belongs.
pub async fn report(secrets: &[String], error: &Error, to: Audience<'_>) {
    let (_, serious) = describe(error);
    let text = shown(error, secrets);
    let logged = redact(&error.to_string(), secrets);
    let sent = match to {
        Audience::Command(ctx) => {
            if serious {
                tracing::warn!(command = %command_name(&ctx), user = %ctx.author().id, "command failed: {logged}");
            } else {
                tracing::info!(command = %command_name(&ctx), user = %ctx.author().id, "command refused: {logged}");
            }
            tell(ctx, format!("⚠️ {text}")).await;
            Ok(())
        }
        Audience::Press(ctx, press) => {
            if serious {
                tracing::warn!(button = %press.data.custom_id, user = %press.user.id, "button failed: {logged}");
            } else {
                tracing::info!(button = %press.data.custom_id, user = %press.user.id, "button refused: {logged}");
            }
            respond::ephemeral(ctx, press, &format!("⚠️ {text}")).await
        }
        Audience::RunMessage {
            http,
            channel,
            message,
            plan,
        } => {
            tracing::warn!(plan = %plan, "apply failed: {logged}");
            let page = render::notice(
                "Apply failed",
                &format!("{text}\nNothing more will be written for this plan."),
                false,
            );
            respond::edit_message(http, channel, message, &page).await
        }
    };
    if let Err(e) = sent {
        tracing::warn!(
            "could not send the error message: {}",
            redact(&e.to_string(), secrets)
        );
    }
}

fn command_name(ctx: &Context<'_>) -> String {
    ctx.command().qualified_name.to_string()
}

async fn tell(ctx: Context<'_>, text: String) {
    let text = redact(&text, &ctx.data().secrets);
    let reply = poise::CreateReply::default()
        .content(ellipsis(&text, 1900))
        .ephemeral(true)
        .allowed_mentions(serenity::CreateAllowedMentions::new());
    if let Err(e) = ctx.send(reply).await {
        tracing::warn!(command = %command_name(&ctx), "could not send the error message: {}", redact(&e.to_string(), &ctx.data().secrets));
    }
}

/// What a person sees for a command's error, and whether it deserves a warning in the log.
/// Callers redact the text with [`redact`] before it is shown or logged.
pub fn describe(error: &Error) -> (String, bool) {
    if let Some(u) = error.downcast_ref::<UserError>() {
        return (u.0.clone(), false);
    }
    if let Some(r) = error.downcast_ref::<Refusal>() {
        return (r.to_string(), false);
    }
    (format!("Something went wrong: {error}"), true)
}

pub async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as F;
    match error {
        F::Setup { error, .. } => {
            tracing::error!("bot start-up failed (commands may not be registered): {error}");
        }
        F::EventHandler {
            error,
            event,
            framework,
            ..
        } => {
            let text = redact(&error.to_string(), &framework.user_data.secrets);
            tracing::error!(
                event = event.snake_case_name(),
                "event handler failed: {text}"
            );
        }
        F::Command { error, ctx, .. } => {
            report(&ctx.data().secrets, &error, Audience::Command(ctx)).await;
        }
        F::SubcommandRequired { ctx } => {
            tracing::info!(command = %command_name(&ctx), "subcommand required");
            tell(ctx, "Pick one of this command's subcommands.".into()).await;
        }
        F::CommandPanic { payload, ctx, .. } => {
            let detail = redact(
                payload.as_deref().unwrap_or("(no message)"),
                &ctx.data().secrets,
            );
            tracing::error!(command = %command_name(&ctx), "command panicked: {detail}");
            tell(ctx, "⚠️ Internal error; it has been logged.".into()).await;
        }
        F::ArgumentParse {
            error, input, ctx, ..
        } => {
            tracing::info!(command = %command_name(&ctx), "bad argument {:?}: {error}", input);
            tell(ctx, format!("⚠️ Could not read an argument: {error}")).await;
        }
        F::CommandStructureMismatch {
            description, ctx, ..
        } => {
            tracing::warn!(command = %ctx.command().qualified_name.to_string(), "command structure mismatch (commands need re-registering?): {description}");
            tell(
                poise::Context::Application(ctx),
                "⚠️ This command's definition changed; try again in a minute.".into(),
            )
            .await;
        }
        F::CooldownHit {
            remaining_cooldown,
            ctx,
            ..
        } => {
            tell(
                ctx,
                format!(
                    "Slow down: try again in {} s.",
                    remaining_cooldown.as_secs() + 1
                ),
            )
            .await;
        }
        F::MissingBotPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            tracing::warn!(command = %command_name(&ctx), "bot lacks permissions: {missing_permissions}");
            tell(
                ctx,
                format!("⚠️ The bot lacks these permissions here: {missing_permissions}"),
            )
            .await;
        }
        F::MissingUserPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            tracing::info!(command = %command_name(&ctx), user = %ctx.author().id, "user lacks permissions");
            let text = match missing_permissions {
                Some(p) => format!("You need these permissions: {p}"),
                None => "You do not have the permissions this command needs.".into(),
            };
            tell(ctx, text).await;
        }
        F::PermissionFetchFailed { ctx, .. } => {
            tracing::warn!(command = %command_name(&ctx), "could not fetch permissions");
            tell(ctx, "⚠️ Could not check permissions; try again.".into()).await;
        }
        F::NotAnOwner { ctx, .. } => {
            tell(ctx, "Only the bot's owners can do that.".into()).await;
        }
        F::GuildOnly { ctx, .. } => {
            tell(ctx, Refusal::NotInGuild.to_string()).await;
        }
        F::DmOnly { ctx, .. } => {
            tell(ctx, "This command only works in direct messages.".into()).await;
        }
        F::NsfwOnly { ctx, .. } => {
            tell(ctx, "This command only works in NSFW channels.".into()).await;
        }
        F::CommandCheckFailed { error, ctx, .. } => {
            let text = match &error {
                Some(e) => describe(e).0,
                None => Refusal::NotAdmin.to_string(),
            };
            tracing::info!(command = %command_name(&ctx), user = %ctx.author().id, "refused: {text}");
            tell(ctx, text).await;
        }
        F::DynamicPrefix { error, .. } => {
            tracing::warn!("dynamic prefix failed: {error}");
        }
        F::UnknownCommand { msg, .. } => {
            tracing::debug!(message = %msg.id, "unknown prefix command ignored");
        }
        F::UnknownInteraction {
            interaction,
            framework,
            ..
        } => {
            tracing::warn!(command = %interaction.data.name, "interaction for an unknown command");
            let response = serenity::CreateInteractionResponse::Message(
                serenity::CreateInteractionResponseMessage::new()
                    .content("This command is not known to this bot (any more); its commands are being re-registered.")
                    .ephemeral(true),
            );
            if let Err(e) = interaction
                .create_response(&framework.serenity_context.http, response)
                .await
            {
                tracing::warn!(
                    "could not answer an unknown interaction: {}",
                    redact(&e.to_string(), &framework.user_data.secrets)
                );
            }
        }
        F::NonCommandMessage {
            error, framework, ..
        } => {
            let text = redact(&error.to_string(), &framework.user_data.secrets);
            tracing::warn!("non-command message handler failed: {text}");
        }
        other => {
            // `FrameworkError` is non-exhaustive; anything new is logged and shown by poise.
            tracing::warn!("unhandled framework error: {other}");
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!("poise's error handler failed too: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_secret() {
        let secrets = vec![
            "discord-secret".to_string(),
            "plex-tok".to_string(),
            "".to_string(),
        ];
        assert_eq!(
            redact("a discord-secret b plex-tok c plex-tok", &secrets),
            "a [redacted] b [redacted] c [redacted]"
        );
    }

    #[test]
    fn user_errors_are_shown_as_is_and_others_are_flagged() {
        let (t, serious) = describe(&user("No such plan."));
        assert_eq!((t.as_str(), serious), ("No such plan.", false));
        let e: Error = Box::new(std::io::Error::other("disk"));
        let (t, serious) = describe(&e);
        assert!(serious && t.contains("disk"));
    }
}
