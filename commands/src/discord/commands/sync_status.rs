//! `/sync-status`: token health, servers, pairs, open plans, recent runs, the last deep check
//! and the schedules' next runs.

use super::super::errors::{redact, session_error, shown, Context, Error};
use super::super::render;
use super::super::respond::reply;

/// Token health, servers, pairs, recent runs, open plans and schedules.
#[poise::command(slash_command, rename = "sync-status")]
pub async fn sync_status(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    let now = data.clock.now();
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
                Err(e) => fields.push((
                    "Servers".into(),
                    format!("cannot list: {}", redact(&e.to_string(), &data.secrets)),
                )),
            }
        }
        Err(e) => fields.push((
            "Plex token".into(),
            format!("⚠️ {}", shown(&session_error(e), &data.secrets)),
        )),
    }
    fields.push(("Pairs".into(), render::pair_lines(&data.config.pairs)));
    let open = data.store.open_plans(now, 20)?;
    fields.push(("Open plans".into(), render::open_plan_lines(&open)));
    // A run whose process is gone is shown interrupted, not running.
    sharesync::apply::end_dead_leases(&data.store, &data.config.limits)?;
    fields.push(("Last runs".into(), render::run_lines(&data.store.runs(5)?)));
    fields.push((
        "Last deep check".into(),
        render::deep_check_line(data.store.last_deep_check()?),
    ));
    fields.push((
        "Next scheduled runs".into(),
        if data.config.schedules.is_empty() {
            "no schedules configured".into()
        } else {
            render::upcoming_lines(&data.config.schedules, now, 2).join("\n")
        },
    ));
    let page = render::status_page(fields);
    ctx.send(reply(&page).ephemeral(true)).await?;
    Ok(())
}
