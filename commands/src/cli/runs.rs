//! `sharesync runs [RUN]`: the record, from the local database. And what every command that
//! starts a run shares: who it is for the record, the store with dead leases ended, the "busy"
//! exit, and a run's errors worded for the terminal.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use sharesync::apply::{end_dead_leases, ApplyError, Busy};
use sharesync::config::Config;
use sharesync::guard::ReadLooksWrong;
use sharesync::store::{RunDetail, RunId, RunRecord, Store, StoreError, Trigger};

use super::failure::Failure;
use super::render;

#[derive(Args, Debug)]
pub struct RunsArgs {
    /// Show this run with its per-account results and grants.
    #[arg(value_name = "RUN")]
    run: Option<RunId>,
    /// How many recent runs to list.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Who is running this command, for the record (`cli:<login name>`).
pub fn trigger() -> Trigger {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Trigger::cli(&user)
}

/// Exit code when another run holds the destination (sysexits' EX_TEMPFAIL: try again later).
pub const EXIT_BUSY: u8 = 75;

/// The database, with the leases of processes that are gone ended first (their runs marked
/// interrupted), so what it shows is true.
pub fn open_store(config: &Config) -> Result<Store, Failure> {
    let store = Store::open(config.database_file()).map_err(|e| Failure(e.to_string()))?;
    end_dead_leases(&store, &config.limits).map_err(|e| Failure(e.to_string()))?;
    Ok(store)
}

/// Say who holds the destination; exit [`EXIT_BUSY`].
pub(super) fn busy_exit(busy: &Busy) -> ExitCode {
    eprintln!("error: {busy}; nothing was written. Try again when it has finished.");
    ExitCode::from(EXIT_BUSY)
}

/// A refused read, with how to accept it when accepting would help.
pub(super) fn read_looks_wrong(wrong: &ReadLooksWrong) -> Failure {
    if wrong.acceptable() {
        Failure(format!(
            "{wrong}. Nothing was planned or written. If the change is real, run `sharesync sync --accept-change` to make this read the new baseline."
        ))
    } else {
        Failure(format!("{wrong}. Nothing was planned or written."))
    }
}

/// What the CLI says when plex.tv rejects the token.
const TOKEN_REJECTED: &str = "token rejected: run `sharesync login`";

/// A run's error worded for the terminal: what happened and, where the engine cannot know it,
/// what to do.
pub(super) fn run_error(e: ApplyError) -> Failure {
    match e {
        ApplyError::TokenRejected { run: Some(run) } => Failure(format!(
            "{TOKEN_REJECTED} (run {run} stopped; `sharesync runs {run}` shows what was done)"
        )),
        ApplyError::TokenRejected { run: None } => Failure(TOKEN_REJECTED.into()),
        e => Failure(e.to_string()),
    }
}

/// `sharesync runs [RUN]`: the record, from the local database (no plex.tv request).
pub fn runs(config: Config, args: RunsArgs) -> Result<ExitCode, Failure> {
    // Reading the record never creates it (as `schedules`): no database is no runs.
    if !config.database_file().exists() {
        match args.run {
            Some(id) => return Err(missing_run(&config, id)),
            None if args.json => println!("[]"),
            None => println!("{}", no_runs(&config)),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(&config)?;
    match args.run {
        Some(id) => {
            let detail = store.run(id).map_err(|e| match e {
                StoreError::RunNotFound(run) => missing_run(&config, run),
                e => Failure(e.to_string()),
            })?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&detail)?);
            } else {
                print!("{}", render_detail(&detail));
            }
        }
        None => {
            let list = store.runs(args.limit).map_err(|e| Failure(e.to_string()))?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("{}", no_runs(&config));
            } else {
                println!("Runs recorded in {}:", config.database_file().display());
                let rows = list.iter().map(run_cells).collect();
                print!(
                    "{}",
                    render::table(
                        &[
                            "run",
                            "started (UTC)",
                            "kind",
                            "status",
                            "servers",
                            "by",
                            "result"
                        ],
                        rows,
                        &[],
                        "",
                    )
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn no_runs(config: &Config) -> String {
    format!(
        "No runs recorded yet (store: {}).",
        config.database_file().display()
    )
}

/// A run this store does not hold: say which store was read, so a second store is noticed.
pub(super) fn missing_run(config: &Config, run: RunId) -> Failure {
    Failure(format!(
        "no run {run} in the record at {}; `sharesync runs` lists its runs (data_dir or SHARESYNC_DATA_DIR picks another store)",
        config.database_file().display()
    ))
}

/// A run's columns: id, start, kind, status, servers, who started it, what it did.
fn run_cells(r: &RunRecord) -> Vec<String> {
    let what = match (&r.summary, r.undo_of) {
        (Some(s), None) => format!(
            "{} updated, {} granted, {} failed",
            s.accounts_updated, s.libraries_changed, s.accounts_failed
        ),
        (Some(s), Some(of)) => format!(
            "undo of run {of}: {} removed, {} failed",
            s.libraries_changed, s.accounts_failed
        ),
        (None, _) => String::new(),
    };
    vec![
        format!("#{}", r.id),
        r.started_at.format("%Y-%m-%d %H:%M").to_string(),
        r.kind.as_str().to_string(),
        r.status.as_str().to_string(),
        format!("{} -> {}", r.source.name, r.dest.name),
        r.trigger.to_string(),
        what,
    ]
}

fn run_line(r: &RunRecord) -> String {
    run_cells(r).join("  ").trim_end().to_string()
}

fn render_detail(d: &RunDetail) -> String {
    let mut out = String::new();
    let r = &d.run;
    let _ = writeln!(out, "{}", run_line(r));
    let _ = writeln!(out, "  pair: {}", r.pair);
    if let Some(f) = r.finished_at {
        let _ = writeln!(out, "  finished: {}", f.format("%Y-%m-%d %H:%M:%S UTC"));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  stopped: {e}");
    }
    for a in &d.accounts {
        let result = a.result.map(|r| r.as_str()).unwrap_or("not finished");
        let _ = write!(out, "  {} ({}): {result}", a.account_name, a.planned);
        if let Some(reason) = &a.reason {
            let _ = write!(out, " — {reason}");
        }
        let _ = writeln!(out);
        for g in d.grants.iter().filter(|g| g.account_id == a.account_id) {
            let _ = write!(out, "      {} {} [{}]", g.action, g.library_title, g.state);
            if g.attempts > 1 {
                let _ = write!(out, " after {} requests", g.attempts);
            }
            if let Some(by) = g.undone_by {
                let _ = write!(out, ", undone by run {by}");
            }
            if let Some(reason) = &g.reason {
                let _ = write!(out, " — {reason}");
            }
            let _ = writeln!(out);
        }
    }
    out
}
