//! The slash commands. Each is thin: check (in [`check`], for every command), read the engine,
//! store, render, reply. Long work defers first (Discord wants an answer within 3 s).

use chrono::Utc;
use poise::serenity_prelude as serenity;
use sharesync::guard::Baselines;
use sharesync::session::SessionError;

use super::errors::{user, Context, Error};
use super::render::{self, Page, PlanContext};
use super::Data;
use sharesync::store::{Link, NewPlan, StoredPlan, Trigger};

pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        sync_plan(),
        sync_apply(),
        sync_user(),
        sync_link(),
        sync_unlink(),
        sync_status(),
    ]
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

/// Engine errors as a person should read them.
pub fn session_error(e: SessionError) -> Error {
    if e.is_token_rejected() {
        return user(format!(
            "{}. Nothing was read or changed.",
            sharesync::session::TOKEN_REJECTED
        ));
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

pub fn plan_context(p: &StoredPlan) -> PlanContext {
    PlanContext {
        plan_id: p.id.clone(),
        pair: p.pair.clone(),
        status: Some(p.status),
        note: None,
        expiry: Some(format!("expires {} UTC", p.expires_at.format("%H:%M"))),
    }
}

pub fn reply(page: &Page) -> poise::CreateReply {
    let mut r = poise::CreateReply::default().components(page.components());
    if !page.content.is_empty() {
        r = r.content(page.content.clone());
    }
    for e in page.embeds() {
        r = r.embed(e);
    }
    r
}

async fn autocomplete_pair(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
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
async fn autocomplete_plex_user(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let empty = serenity::CreateAutocompleteResponse::new();
    if !allowed(&ctx) {
        return empty;
    }
    let accounts = match accounts(ctx.data()).await {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(
                "autocomplete could not read accounts: {}",
                super::errors::redact(&e.to_string(), &ctx.data().secrets)
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

/// Plan a pair (optionally for some accounts), store it, and post it with its buttons.
async fn plan_and_post(
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
                    render::escape(&super::errors::redact(&wrong.to_string(), &data.secrets))
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
        Utc::now(),
    )?;
    tracing::info!(plan = %stored.id, pair = %pair.name, user = %ctx.author().id, "plan posted");
    let page = render::plan_page(&stored.plan, &plan_context(&stored), 0);
    ctx.send(reply(&page)).await?;
    Ok(())
}

/// Plan the sync of a pair: who would get which libraries on the destination.
#[poise::command(
    slash_command,
    rename = "sync-plan",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn sync_plan(
    ctx: Context<'_>,
    #[description = "The pair to plan (default: the only one configured)"]
    #[autocomplete = "autocomplete_pair"]
    pair: Option<String>,
    #[description = "Only this Plex user (username, email, title or account id)"]
    #[autocomplete = "autocomplete_plex_user"]
    user: Option<String>,
) -> Result<(), Error> {
    plan_and_post(ctx, pair, user.into_iter().collect()).await
}

/// Apply a stored plan, after a confirmation.
#[poise::command(
    slash_command,
    rename = "sync-apply",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn sync_apply(
    ctx: Context<'_>,
    #[description = "Plan id (default: the newest open plan)"] plan: Option<String>,
) -> Result<(), Error> {
    let data = ctx.data();
    let now = Utc::now();
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
    if let Some(why) = super::buttons::not_applicable(&stored, now) {
        return Err(user(why));
    }
    if stored.plan.to_update().next().is_none() {
        return Err(user("That plan has nothing to grant."));
    }
    let page = super::buttons::confirm_page(&stored, &data.config.limits, 0);
    ctx.send(reply(&page)).await?;
    Ok(())
}

/// Plan (and then apply) for one person: a Plex user, or a Discord member linked to one.
#[poise::command(
    slash_command,
    rename = "sync-user",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn sync_user(
    ctx: Context<'_>,
    #[description = "Plex user (username, email, title or account id)"]
    #[autocomplete = "autocomplete_plex_user"]
    plex_user: Option<String>,
    #[description = "A Discord member linked with /sync-link"] member: Option<serenity::User>,
    #[description = "The pair (default: the only one configured)"]
    #[autocomplete = "autocomplete_pair"]
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

/// Link a Discord member to a Plex account, for /sync-user.
#[poise::command(
    slash_command,
    rename = "sync-link",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn sync_link(
    ctx: Context<'_>,
    #[description = "The Discord member"] member: serenity::User,
    #[description = "Their Plex account (username, email, title or account id)"]
    #[autocomplete = "autocomplete_plex_user"]
    plex_user: String,
) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let accounts = accounts(ctx.data()).await?;
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
    ctx.data()
        .store
        .link(&link, &Trigger::discord(ctx.author().id.get()), Utc::now())?;
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

/// Remove a member's Plex link.
#[poise::command(
    slash_command,
    rename = "sync-unlink",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
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

/// Token health, servers, pairs, recent runs, open plans and schedules.
#[poise::command(
    slash_command,
    rename = "sync-status",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn sync_status(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    let mut fields: Vec<(String, String)> = Vec::new();
    match data.session().await {
        Ok(session) => {
            fields.push((
                "Plex token".into(),
                format!(
                    "OK: signed in as **{}**",
                    render::escape(&session.owner.username)
                ),
            ));
            match session.client.owned_servers().await {
                Ok(servers) => fields.push((
                    "Servers".into(),
                    servers
                        .iter()
                        .map(|s| render::escape(&s.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
                Err(e) => fields.push(("Servers".into(), format!("cannot list: {e}"))),
            }
        }
        Err(e) => fields.push(("Plex token".into(), format!("⚠️ {}", session_error(e)))),
    }
    fields.push((
        "Pairs".into(),
        data.config
            .pairs
            .iter()
            .map(|p| {
                format!(
                    "**{}**: {} → {}",
                    render::escape(&p.name),
                    render::escape(&p.source),
                    render::escape(&p.dest)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    ));
    let open = data.store.open_plans(Utc::now(), 20)?;
    fields.push((
        "Open plans".into(),
        if open.is_empty() {
            "none".into()
        } else {
            open.iter()
                .map(|(id, pair, exp)| {
                    format!(
                        "`{id}` ({}) expires {} UTC",
                        render::escape(pair),
                        exp.format("%H:%M")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
    ));
    // A run whose process is gone is shown interrupted, not running.
    sharesync::apply::end_dead_leases(&data.store, &data.config.limits)?;
    let runs = data.store.runs(5)?;
    fields.push((
        "Last runs".into(),
        if runs.is_empty() {
            "none yet".into()
        } else {
            runs.iter()
                .map(|r| {
                    let counts = r.summary.as_ref().map_or(String::new(), |s| {
                        format!(
                            ": {} updated, {} failed",
                            s.accounts_updated,
                            s.accounts_failed + s.accounts_partial
                        )
                    });
                    format!(
                        "#{} {} {} → {} by {} · {}{counts} · {} UTC",
                        r.id,
                        r.kind.as_str(),
                        render::escape(&r.source.name),
                        render::escape(&r.dest.name),
                        render::trigger_label(&Trigger::parse(&r.trigger)),
                        r.status.as_str(),
                        r.started_at.format("%Y-%m-%d %H:%M"),
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
    ));
    fields.push((
        "Last deep check".into(),
        match data.store.last_deep_check()? {
            None => "never: run `sharesync doctor --deep`, or add a schedule with mode = \"check\""
                .into(),
            Some(c) => format!(
                "{} {} UTC by {}: {}",
                if c.disagreements == 0 {
                    "✅"
                } else {
                    "⚠️"
                },
                c.checked_at.format("%Y-%m-%d %H:%M"),
                render::trigger_label(&Trigger::parse(&c.checked_by)),
                render::escape(&c.summary)
            ),
        },
    ));
    fields.push((
        "Next scheduled runs".into(),
        if data.config.schedules.is_empty() {
            "no schedules configured".into()
        } else {
            super::scheduled::upcoming_lines(&data.config.schedules, Utc::now(), 2).join("\n")
        },
    ));
    // The fields share the 6,000 characters of an embed: each gets an equal part.
    let per_field = (render::MESSAGE_EMBED_TOTAL_MAX - 400) / fields.len().max(1);
    let embed = render::EmbedSpec {
        title: "sharesync status".into(),
        description: String::new(),
        fields: fields
            .into_iter()
            .map(|(n, v)| render::FieldSpec {
                name: n,
                value: render::ellipsis(
                    if v.is_empty() { "—" } else { &v },
                    per_field.min(render::FIELD_VALUE_MAX),
                ),
            })
            .collect(),
        footer: String::new(),
        colour: 0x34_98_db,
    };
    let page = Page {
        content: String::new(),
        embeds: vec![embed],
        rows: vec![],
    };
    ctx.send(reply(&page).ephemeral(true)).await?;
    Ok(())
}
