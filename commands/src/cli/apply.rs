//! `sharesync apply FILE`, and the apply step of `sync --apply`: the input gathered here, the
//! run by the engine's `Runner`, its events and errors shown for the terminal.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sharesync::apply::{Applied, ApplyError, ApplyRequest, Runner};
use sharesync::config::{Config, PairConfig};
use sharesync::guard::OverLimit;
use sharesync::model::{MachineId, ServerRef};
use sharesync::plan::{Plan, PlanError, PlanOptions, PLAN_SCHEMA};
use sharesync::session::Session;

use super::connect::{connect, AuthArgs};
use super::failure::Failure;
use super::progress::{exit_for, render_report, Display};
use super::runs::{busy_exit, open_store, read_looks_wrong, run_error, trigger};

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
    if plan.to_update().next().is_none() {
        // Nothing to write: not even the store is opened (a read-only data dir is fine here).
        println!("Nothing to apply: every account is in sync.");
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(config)?;
    let (source, dest) = (server_ref(&plan.source), server_ref(&plan.dest));
    let trigger = trigger();
    let request = ApplyRequest {
        pair: &pair.name,
        source: &source,
        dest: &dest,
        approved: plan,
        options: &options,
        trigger: &trigger,
        allow_over_limits: allow_large,
    };
    let display = Display::new(plan.summary.users_to_update);
    let result = Runner::new(&store, &config.limits)
        .apply(&session.client, &request, None, |p| display.show(p))
        .await;
    display.finish();
    match result {
        Ok(Applied::NothingToApply) => {
            println!("Nothing to apply: every account is in sync.");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Applied::Ran(report)) => {
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
        Err(ApplyError::ReadLooksWrong(wrong)) => Err(read_looks_wrong(&wrong)),
        Err(e) => Err(run_error(e)),
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
