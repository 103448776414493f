//! Autocomplete of pairs and Plex users, for admins only (checked here, as for commands).

use poise::serenity_prelude as serenity;

use super::super::errors::{redact, session_error, Context, Error};
use super::super::render;
use super::super::state::Data;

/// What the command check decides, for autocomplete (which answers with no choices instead).
fn allowed(ctx: &Context<'_>) -> bool {
    match ctx {
        poise::Context::Application(app) => ctx
            .data()
            .settings
            .policy
            .check_command(app.interaction)
            .is_ok(),
        poise::Context::Prefix(_) => false,
    }
}

/// Configured pairs whose name contains what was typed.
pub async fn pair(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    if !allowed(&ctx) {
        return serenity::CreateAutocompleteResponse::new();
    }
    let partial = partial.to_lowercase();
    let choices = ctx
        .data()
        .config
        .pairs
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&partial))
        .take(25)
        .map(|p| {
            serenity::AutocompleteChoice::new(
                render::ellipsis(&format!("{} ({} → {})", p.name, p.source, p.dest), 100),
                p.name.clone(),
            )
        })
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Plex accounts (username, email, title) matching what was typed; admins only.
pub async fn plex_user(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let empty = serenity::CreateAutocompleteResponse::new();
    if !allowed(&ctx) {
        return empty;
    }
    let accounts = match accounts(ctx.data()).await {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(
                "autocomplete could not read accounts: {}",
                redact(&e.to_string(), &ctx.data().secrets)
            );
            return empty;
        }
    };
    let partial = partial.to_lowercase();
    let choices = accounts
        .iter()
        .filter(|a| {
            [
                a.username.as_deref(),
                a.email.as_deref(),
                Some(a.title.as_str()),
            ]
            .into_iter()
            .flatten()
            .any(|s| s.to_lowercase().contains(&partial))
        })
        .take(25)
        .map(|a| {
            let label = match &a.email {
                Some(e) => format!("{} <{e}>", a.display_name()),
                None => format!("{} (managed)", a.display_name()),
            };
            serenity::AutocompleteChoice::new(render::ellipsis(&label, 100), a.id.0.to_string())
        })
        .collect();
    empty.set_choices(choices)
}

/// Accounts with access on any configured pair's source (cached for a minute).
pub async fn accounts(data: &Data) -> Result<Vec<sharesync::model::Account>, Error> {
    let mut cache = data.accounts.lock().await;
    if let Some((at, list)) = cache.as_ref() {
        if at.elapsed() < std::time::Duration::from_secs(60) {
            return Ok(list.clone());
        }
    }
    let session = data.session().await.map_err(session_error)?;
    let mut all = std::collections::BTreeMap::new();
    for pair in &data.config.pairs {
        let (state, _) = session
            .plan_pair(pair, vec![])
            .await
            .map_err(session_error)?;
        all.extend(state.accounts);
    }
    let list: Vec<_> = all.into_values().collect();
    *cache = Some((std::time::Instant::now(), list.clone()));
    Ok(list)
}
