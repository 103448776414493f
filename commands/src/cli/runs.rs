//! `sharesync apply FILE`, `sharesync undo RUN`, `sharesync runs [RUN]`, and the apply step of
//! `sync --apply`. Thin over `sharesync::apply` and `sharesync::store`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sharesync::apply::{
    apply, end_dead_leases, plan_undo, undo, ApplyError, ApplyJob, Busy, DestLease, LeaseSettings,
    Progress, RunReport, UndoAction, UndoJob,
};
use sharesync::config::{Config, PairConfig};
use sharesync::guard::OverLimit;
use sharesync::model::{MachineId, ServerRef};
use sharesync::plan::{Plan, PlanError, PlanOptions, PLAN_SCHEMA};
use sharesync::session::Session;
use sharesync::store::{RunDetail, RunId, RunRecord, Store, StoreError, Trigger};

use super::{connect, render, AuthArgs, Failure};

/// Above this many accounts a terminal gets a progress bar; below, one line per account.
const BAR_FROM_ACCOUNTS: usize = 5;

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A plan saved by `sharesync sync --save-plan FILE`.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The configured [[pair]] the plan was made for (its aliases, exclusions, new_share).
    #[arg(long)]
    pair: Option<String>,
    /// Go over the blast-radius limits in [limits] for this run.
    #[arg(long)]
    allow_large: bool,
    #[command(flatten)]
    auth: AuthArgs,
}

#[derive(Args, Debug)]
pub struct UndoArgs {
    /// The run to undo (see `sharesync runs`).
    #[arg(value_name = "RUN")]
    run: RunId,
    /// Do not ask for confirmation (scripts).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    auth: AuthArgs,
}

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

/// Take `dest`'s lease for this command, or say who holds it (exit code [`EXIT_BUSY`]).
fn take_lease(
    config: &Config,
    store: &Store,
    dest: &ServerRef,
    who: &Trigger,
) -> Result<Result<DestLease, ExitCode>, Failure> {
    match DestLease::acquire(
        store,
        dest,
        who,
        &LeaseSettings::from_limits(&config.limits),
    ) {
        Ok(lease) => Ok(Ok(lease)),
        Err(Busy::Store(e)) => Err(Failure(e.to_string())),
        Err(busy) => Ok(Err(busy_exit(&busy))),
    }
}

fn busy_exit(busy: &Busy) -> ExitCode {
    eprintln!("error: {busy}; nothing was written. Try again when it has finished.");
    ExitCode::from(EXIT_BUSY)
}

fn server_ref(s: &sharesync::plan::ServerSummary) -> ServerRef {
    ServerRef {
        name: s.name.clone(),
        machine_id: MachineId(s.machine_identifier.clone()),
    }
}

/// `sharesync apply FILE`: apply a reviewed plan, under the stale check.
pub async fn apply_file(config: Config, args: ApplyArgs) -> Result<ExitCode, Failure> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure(format!("cannot read {}: {e}", args.file.display())))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        Failure(format!(
            "{} is not a complete sharesync plan ({e}); save a fresh one with `sharesync sync --save-plan FILE`",
            args.file.display()
        ))
    })?;
    if plan.schema != PLAN_SCHEMA {
        return Err(Failure(format!(
            "{} is a schema {} plan; this sharesync applies schema {PLAN_SCHEMA}",
            args.file.display(),
            plan.schema
        )));
    }
    let (config, session, _sandbox) = connect(config, &args.auth).await?;
    let pair = match (&args.pair, config.pair(None)) {
        (Some(name), _) => config.pair(Some(name))?.clone(),
        (None, Ok(only)) => only.clone(),
        (None, Err(_)) => PairConfig::between(
            "saved plan",
            &plan.source.machine_identifier,
            &plan.dest.machine_identifier,
        ),
    };
    // The pair's options (aliases, exclusions) only mean something for its own servers.
    let (source, dest) = session.pair_servers(&pair).await?;
    let (planned_source, planned_dest) = (server_ref(&plan.source), server_ref(&plan.dest));
    if source.machine_id != planned_source.machine_id || dest.machine_id != planned_dest.machine_id
    {
        return Err(Failure(format!(
            "{} is a plan from {} to {}, but pair '{}' is {} to {}; nothing was written. Pass the plan's pair with --pair, or make a new plan.",
            args.file.display(),
            plan.source.name,
            plan.dest.name,
            pair.name,
            source.name,
            dest.name
        )));
    }
    // The approval covers the accounts the plan lists, so the fresh plan is made for them.
    let only: Vec<String> = plan
        .users
        .iter()
        .map(|u| u.account_id.0.to_string())
        .collect();
    println!(
        "Applying {} ({} user(s) to update, {} grant(s)) from {} to {}.",
        args.file.display(),
        plan.summary.users_to_update,
        plan.summary.grants_to_add,
        plan.source.name,
        plan.dest.name
    );
    let options = pair.plan_options(only);
    apply_after_plan(&config, &session, &pair, &plan, options, args.allow_large).await
}

/// The apply step after a plan was shown (`sync --apply`, `apply FILE`): stale check, writes,
/// progress, the per-account results and the summary. Exit code 1 when an account failed.
pub async fn apply_after_plan(
    config: &Config,
    session: &Session,
    pair: &PairConfig,
    plan: &Plan,
    options: PlanOptions,
    allow_large: bool,
) -> Result<ExitCode, Failure> {
    if plan.summary.users_to_update == 0 {
        println!("Nothing to apply: every account is in sync.");
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(config)?;
    let (source, dest) = (server_ref(&plan.source), server_ref(&plan.dest));
    let trigger = trigger();
    // Before the stale check reads: no other writer can change the destination under it.
    let lease = match take_lease(config, &store, &dest, &trigger)? {
        Ok(lease) => lease,
        Err(busy) => return Ok(busy),
    };
    let mut job = ApplyJob::new(
        &pair.name,
        &source,
        &dest,
        plan,
        &options,
        &config.limits,
        &trigger,
    );
    job.allow_over_limits = allow_large;
    job.lease = Some(&lease);
    let display = Display::new(plan.summary.users_to_update);
    let result = apply(&session.client, &store, &job, |p| display.show(p)).await;
    display.finish();
    match result {
        Ok(report) => {
            print!("{}", render_report(&report, "added"));
            Ok(exit_for(&report))
        }
        Err(ApplyError::Stale {
            differences,
            fresh_plan,
        }) => {
            let mut out = String::from(
                "The plan changed since it was made; nothing was written. What changed:\n",
            );
            for d in &differences {
                let _ = writeln!(out, "  - {d}");
            }
            let _ = write!(
                out,
                "The plan now updates {} user(s) with {} grant(s). Review it again (sharesync sync) and re-approve.",
                fresh_plan.summary.users_to_update, fresh_plan.summary.grants_to_add
            );
            Err(Failure(out))
        }
        Err(ApplyError::Plan(PlanError::UnknownAccounts { filters, .. })) => Err(Failure(format!(
            "the plan changed since it was made: account(s) {} no longer have access on {}; nothing was written. Make a new plan.",
            filters.join(", "),
            plan.source.name
        ))),
        Err(ApplyError::OverLimit(over)) => Err(Failure(over_limit_message(&over))),
        Err(ApplyError::Busy(busy)) => Ok(busy_exit(&busy)),
        Err(ApplyError::ReadLooksWrong(wrong)) => Err(super::sync::read_looks_wrong(&wrong)),
        Err(e @ ApplyError::TokenRejected { run: Some(run) }) => Err(Failure(format!(
            "{e} (run {run} stopped; `sharesync runs {run}` shows what was done)"
        ))),
        Err(e) => Err(Failure(e.to_string())),
    }
}

/// A refusal over a blast-radius limit: which limit, the numbers, and the two ways on.
fn over_limit_message(over: &OverLimit) -> String {
    let keys: Vec<&str> = over.exceeded.iter().map(|e| e.limit.key()).collect();
    format!(
        "not applied: the run is over the blast-radius limit ({}). Nothing was written. \
         To apply this plan anyway, run again with --allow-large, or raise {} in the config (0 turns a limit off).",
        over.numbers(),
        keys.join(" / ")
    )
}

fn exit_for(report: &RunReport) -> ExitCode {
    if report.summary.accounts_failed + report.summary.accounts_partial > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `sharesync undo RUN`: THE ONE COMMAND THAT REMOVES ACCESS. Shows what it would remove,
/// asks, then removes exactly that run's grants that are still present.
pub async fn undo_run(config: Config, args: UndoArgs) -> Result<ExitCode, Failure> {
    let (config, session, _sandbox) = connect(config, &args.auth).await?;
    let store = open_store(&config)?;
    let trigger = trigger();
    // Before the preview's read, held through the removal: nothing else writes meanwhile.
    let dest = match store.run(args.run) {
        Ok(detail) => detail.run.dest,
        Err(StoreError::RunNotFound(run)) => return Err(missing_run(&config, run)),
        Err(e) => return Err(Failure(e.to_string())),
    };
    let lease = match take_lease(&config, &store, &dest, &trigger)? {
        Ok(lease) => lease,
        Err(busy) => return Ok(busy),
    };
    let preview = plan_undo(&session.client, &store, args.run)
        .await
        .map_err(|e| match e {
            ApplyError::Store(StoreError::RunNotFound(run)) => missing_run(&config, run),
            e => Failure(e.to_string()),
        })?;
    let r = &preview.run;
    println!(
        "Undo run {} ({} from {} to {}, {} by {}).",
        r.id,
        r.kind,
        r.source.name,
        r.dest.name,
        r.started_at.format("%Y-%m-%d %H:%M UTC"),
        r.trigger
    );
    println!("This REMOVES access on {}: exactly the libraries that run added and that are still there. Nothing else changes.", r.dest.name);
    for a in &preview.accounts {
        let line = match &a.action {
            UndoAction::Remove { remove, keep } => format!(
                "remove {} (keeps {keep} other librar{})",
                remove.join(", "),
                if *keep == 1 { "y" } else { "ies" }
            ),
            UndoAction::DeleteShare { remove } => format!(
                "remove {} and the share itself (the run created it)",
                remove.join(", ")
            ),
            UndoAction::AlreadyGone => "nothing: already removed".into(),
            UndoAction::Skip(why) => format!("nothing: {why}"),
        };
        println!("  {}: {line}", a.name);
    }
    for note in &preview.notes {
        println!("  note: {note}");
    }
    let removals = preview.removals();
    if removals == 0 {
        println!("Nothing to undo.");
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() || args.auth.non_interactive {
            return Err(Failure(
                "undo removes access and needs confirmation: run it on a terminal or pass --yes"
                    .into(),
            ));
        }
        eprint!("Remove {removals} library grant(s)? Type 'yes' to continue: ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Failure(e.to_string()))?;
        if answer.trim() != "yes" {
            println!("Nothing was changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let mut job = UndoJob::new(args.run, &config.limits, &trigger);
    job.lease = Some(&lease);
    job.confirmed = Some(&preview);
    let display = Display::new(preview.accounts.len());
    let result = undo(&session.client, &store, &job, |p| display.show(p)).await;
    display.finish();
    let report = result.map_err(|e| match e {
        ApplyError::UndoChanged { run, .. } => Failure(format!(
            "{e}: the servers changed while you were confirming. Run `sharesync undo {run}` again to see what it would remove now."
        )),
        e => Failure(e.to_string()),
    })?;
    print!("{}", render_report(&report, "removed"));
    Ok(exit_for(&report))
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
fn missing_run(config: &Config, run: RunId) -> Failure {
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

fn render_report(report: &RunReport, verb: &str) -> String {
    let mut out = String::new();
    for a in &report.accounts {
        let _ = write!(out, "  {}: {}", a.name, a.result);
        if !a.libraries.is_empty() {
            let _ = write!(out, " ({verb} {})", a.libraries.join(", "));
        }
        if let Some(reason) = &a.reason {
            let _ = write!(out, " — {reason}");
        }
        let _ = writeln!(out);
    }
    let s = &report.summary;
    let _ = writeln!(out, "\nSummary (run {}):", report.run);
    let _ = writeln!(out, "  Users updated: {}", s.accounts_updated);
    let _ = writeln!(out, "  Library grants {verb}: {}", s.libraries_changed);
    if s.accounts_partial > 0 {
        let _ = writeln!(out, "  Partially updated: {}", s.accounts_partial);
    }
    let _ = writeln!(out, "  Failures: {}", s.accounts_failed);
    if s.accounts_skipped > 0 {
        let _ = writeln!(out, "  Skipped: {}", s.accounts_skipped);
    }
    if !s.verified {
        let _ = writeln!(
            out,
            "  Not verified: the destination could not be read back."
        );
    }
    let _ = writeln!(
        out,
        "  Requests to plex.tv: {} ({} writes). Details: sharesync runs {}",
        s.requests, s.write_requests, report.run
    );
    out
}

/// Progress on stderr: a bar on a terminal for more than a few accounts, else plain lines.
struct Display {
    bar: Option<ProgressBar>,
}

impl Display {
    fn new(accounts: usize) -> Display {
        let bar = (accounts >= BAR_FROM_ACCOUNTS && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(accounts as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} accounts {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Display { bar }
    }

    fn show(&self, p: Progress) {
        match (&self.bar, p) {
            (Some(bar), Progress::Started { accounts, .. }) => bar.set_length(accounts as u64),
            (
                Some(bar),
                Progress::AccountDone {
                    done,
                    what,
                    account,
                    ..
                },
            ) => {
                bar.set_position(done as u64);
                if what.starts_with("failed") {
                    bar.println(format!("{account}: {what}"));
                }
            }
            (
                Some(bar),
                Progress::Retrying {
                    account,
                    wait,
                    reason,
                    ..
                },
            ) => bar.set_message(format!(
                "retrying {account} in {:.1}s ({reason})",
                wait.as_secs_f64()
            )),
            (Some(bar), Progress::Verifying) => bar.set_message("reading back"),
            (Some(_), _) => {}
            (None, Progress::Reading) => {
                eprintln!("Reading both servers again to check the plan...")
            }
            (None, Progress::Started { run, accounts, .. }) => {
                eprintln!("Run {run}: writing {accounts} account(s)")
            }
            (
                None,
                Progress::AccountDone {
                    account,
                    done,
                    total,
                    what,
                },
            ) => {
                eprintln!("[{done}/{total}] {account}: {what}")
            }
            (
                None,
                Progress::Retrying {
                    account,
                    attempt,
                    wait,
                    reason,
                },
            ) => eprintln!(
                "  retry {attempt} for {account} in {:.1}s: {reason}",
                wait.as_secs_f64()
            ),
            (None, Progress::Verifying) => eprintln!("Reading the destination back to verify..."),
            (None, Progress::Finished { .. }) => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
