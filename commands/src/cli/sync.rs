//! `sharesync sync`: the seed script's job. Dry run by default.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sharesync::config::{Config, PairConfig};
use sharesync::guard::{Baselines, ReadSize};
use sharesync::session::SessionError;

use super::connect::{connect, AuthArgs};
use super::failure::Failure;
use super::render;
use super::runs::read_looks_wrong;

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Source server name or machineIdentifier (default: PLEX_SERVER_SOURCE or the pair's).
    #[arg(long)]
    source: Option<String>,
    /// Destination server name or machineIdentifier (default: PLEX_SERVER_DEST or the pair's).
    #[arg(long)]
    dest: Option<String>,
    /// A configured [[pair]] by name.
    #[arg(long)]
    pair: Option<String>,
    /// Limit to these accounts (username, email, title or account id). Repeatable.
    #[arg(long = "only-user", value_name = "USER")]
    only_users: Vec<String>,
    /// Print the plan as JSON (schema 1) instead of text.
    #[arg(long)]
    json: bool,
    /// Write the plan JSON to FILE (for `sharesync apply FILE` after review).
    #[arg(long, value_name = "FILE")]
    save_plan: Option<PathBuf>,
    /// Apply the plan after printing it (stale-checked, recorded; see `sharesync runs`).
    #[arg(long)]
    apply: bool,
    /// plex.tv's answer changed a lot since the last good read, and that is real: take this read as
    /// the servers' new baseline instead of refusing it. Not with --apply: review the plan
    /// made from the accepted read first (one cron line must not turn the guard off for good).
    #[arg(long, conflicts_with = "apply")]
    accept_change: bool,
    /// With --apply: go over the blast-radius limits in [limits] for this run.
    #[arg(long, requires = "apply")]
    allow_large: bool,
    #[command(flatten)]
    auth: AuthArgs,
}

/// The pair this run syncs: a configured pair, overridden by --source/--dest.
fn choose_pair(config: &Config, args: &SyncArgs) -> Result<PairConfig, Failure> {
    let configured = match (&args.pair, &args.source, &args.dest) {
        // Both ends on the command line: no configured pair needed, unless one is named.
        (None, Some(_), Some(_)) => config.pair(None).ok().cloned(),
        _ => Some(config.pair(args.pair.as_deref())?.clone()),
    };
    let mut pair = configured.unwrap_or_else(|| PairConfig::between("command line", "", ""));
    if let Some(s) = &args.source {
        pair.source = s.clone();
    }
    if let Some(d) = &args.dest {
        pair.dest = d.clone();
    }
    Ok(pair)
}

pub async fn run(config: Config, args: SyncArgs) -> Result<ExitCode, Failure> {
    let (config, session, _sandbox) = connect(config, &args.auth).await?;
    let pair = choose_pair(&config, &args)?;
    let store = match super::runs::open_store(&config) {
        Ok(store) => Some(store),
        // A dry run writes nothing to plex.tv: a read-only data dir, or another user's, still
        // shows the plan (unchecked: an apply of it is checked by its own read).
        Err(e) if !args.apply && !args.accept_change => {
            eprintln!(
                "warning: {}; planning without comparing with the servers' last good reads",
                e.0
            );
            None
        }
        Err(e) => return Err(e),
    };
    let trigger = super::runs::trigger();
    let baselines = if args.accept_change {
        Baselines::Accept(&trigger)
    } else {
        Baselines::Check
    };
    let planned = match &store {
        Some(store) => {
            session
                .plan_pair_checked(&pair, args.only_users.clone(), store, baselines)
                .await
        }
        None => session.plan_pair(&pair, args.only_users.clone()).await,
    };
    let (state, plan) = planned.map_err(|e| match e {
        SessionError::ReadLooksWrong(wrong) => read_looks_wrong(&wrong),
        e => Failure(e.to_string()),
    })?;
    if args.accept_change {
        for s in [&state.source, &state.dest] {
            eprintln!(
                "Accepted as {}'s new baseline: {}.",
                s.server.name,
                ReadSize::of(s)
            );
        }
    }
    if let Some(path) = &args.save_plan {
        let json = serde_json::to_string_pretty(&plan)?;
        // It holds e-mail addresses: owner-only, like the database.
        sharesync::session::write_private_file(path, (json + "\n").as_bytes())
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", render::plan(&plan, args.apply));
    }
    if args.apply {
        let options = pair.plan_options(args.only_users);
        return super::apply::apply_after_plan(
            &config,
            &session,
            &pair,
            &plan,
            options,
            args.allow_large,
        )
        .await;
    }
    Ok(ExitCode::SUCCESS)
}
