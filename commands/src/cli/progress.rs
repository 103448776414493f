//! How a run looks on a terminal: progress on stderr while it goes (the engine's events), the
//! per-account results and the summary on stdout after it, and the exit code they mean.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sharesync::apply::{Progress, RunReport};

/// Above this many accounts a terminal gets a progress bar; below, one line per account.
const BAR_FROM_ACCOUNTS: usize = 5;

/// Exit code 1 when an account failed or was only partly updated.
pub(super) fn exit_for(report: &RunReport) -> ExitCode {
    if report.summary.accounts_failed + report.summary.accounts_partial > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The per-account results and the summary; `verb`: "added" or "removed".
pub(super) fn render_report(report: &RunReport, verb: &str) -> String {
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
pub(super) struct Display {
    bar: Option<ProgressBar>,
}

impl Display {
    pub(super) fn new(accounts: usize) -> Display {
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

    pub(super) fn show(&self, p: Progress) {
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

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
