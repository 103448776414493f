//! `sharesync undo RUN`: THE ONE COMMAND THAT REMOVES ACCESS. The preview and the removal are
//! the engine's `Runner`'s; the confirmation and the display are the terminal's.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;
use sharesync::apply::{ApplyError, Runner, UndoAction};
use sharesync::config::Config;
use sharesync::store::{RunId, StoreError};

use super::connect::{connect, AuthArgs};
use super::failure::Failure;
use super::progress::{exit_for, render_report, Display};
use super::runs::{busy_exit, missing_run, open_store, run_error, trigger};

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

/// `sharesync undo RUN`: THE ONE COMMAND THAT REMOVES ACCESS. Shows what it would remove,
/// asks, then removes exactly that run's grants that are still present.
pub async fn undo_run(config: Config, args: UndoArgs) -> Result<ExitCode, Failure> {
    let (config, session, _sandbox) = connect(config, &args.auth).await?;
    let store = open_store(&config)?;
    let runner = Runner::new(&store, &config.limits);
    // The destination's lease is taken before the preview's read and held through the
    // removal: nothing else writes meanwhile.
    let pending = match runner
        .preview_undo(&session.client, args.run, &trigger())
        .await
    {
        Ok(pending) => pending,
        Err(ApplyError::Busy(busy)) => return Ok(busy_exit(&busy)),
        Err(ApplyError::Store(StoreError::RunNotFound(run))) => {
            return Err(missing_run(&config, run))
        }
        Err(e) => return Err(run_error(e)),
    };
    let preview = pending.plan();
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
    let display = Display::new(preview.accounts.len());
    let result = runner
        .undo(&session.client, pending, |p| display.show(p))
        .await;
    display.finish();
    let report = result.map_err(|e| match e {
        ApplyError::UndoChanged { run, .. } => Failure(format!(
            "{e}: the servers changed while you were confirming. Run `sharesync undo {run}` again to see what it would remove now."
        )),
        e => run_error(e),
    })?;
    print!("{}", render_report(&report, "removed"));
    Ok(exit_for(&report))
}
