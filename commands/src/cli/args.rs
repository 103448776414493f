//! The command line: subcommands and their options (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::connect::AuthArgs;
use super::{apply, runs, schedules, sync, undo};

#[derive(Parser, Debug)]
#[command(
    name = "sharesync",
    version,
    about = "Keep Plex library access in step across your servers. Only ever adds access."
)]
pub struct Cli {
    /// Config file (default: sharesync.toml in the working directory, if present).
    #[arg(long, global = true, value_name = "PATH", env = "SHARESYNC_CONFIG")]
    pub(super) config: Option<PathBuf>,
    /// Print additional details for troubleshooting.
    #[arg(long, global = true)]
    pub(super) debug: bool,
    /// Log format on stderr: `human`, or `json` for log collectors.
    #[arg(
        long,
        global = true,
        env = "SHARESYNC_LOG_FORMAT",
        default_value = "human"
    )]
    pub(super) log_format: LogFormat,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// Plan (and with --apply, apply) the sync from a source server to a destination.
    Sync(sync::SyncArgs),
    /// List your owned servers with their libraries.
    Servers(ServersArgs),
    /// Sign in with a PIN at plex.tv/link and save the token for later runs.
    Login(LoginArgs),
    /// Apply a plan saved by `sync --save-plan FILE`, if it is still current.
    Apply(apply::ApplyArgs),
    /// Undo a run: REMOVES exactly the access that run added (asks first; --yes for scripts).
    Undo(undo::UndoArgs),
    /// List recent runs, or show one with its per-account results.
    Runs(runs::RunsArgs),
    /// Run the Discord bot (slash commands, buttons, schedules) until Ctrl-C or SIGTERM.
    Bot,
    /// List the schedules with their next occurrences and last runs.
    Schedules(schedules::SchedulesArgs),
    /// Check config, token, servers, library matches, Discord and the data directory (--deep:
    /// also cross-check plex.tv's two API families).
    Doctor(DoctorArgs),
    /// Exit non-zero unless the store is writable and the bot is connected (container health check).
    Health,
}

#[derive(Args, Debug)]
pub(super) struct DoctorArgs {
    /// Also read every paired server through both plex.tv API families (v2 and legacy) and
    /// report each disagreement.
    #[arg(long)]
    pub(super) deep: bool,
    #[command(flatten)]
    pub(super) auth: AuthArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LogFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub(super) struct ServersArgs {
    #[command(flatten)]
    pub(super) auth: AuthArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Args, Debug)]
pub(super) struct LoginArgs {
    /// Run the PIN flow against the built-in simulated plex.tv and approve it automatically.
    #[arg(long)]
    pub(super) sandbox: bool,
}
