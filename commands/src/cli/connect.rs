//! Signing in for a command: the options every plex.tv command shares, and the session (on the
//! built-in sandbox when asked).

use std::path::PathBuf;

use clap::Args;
use sharesync::config::Config;
use sharesync::session::{Session, SessionError};

use super::failure::Failure;
use super::sandbox;

/// Options shared by every command that talks to plex.tv.
#[derive(Args, Debug, Clone)]
pub struct AuthArgs {
    /// A Plex one-time code, for accounts with two-factor sign-in.
    #[arg(long, env = "PLEX_2FA_CODE", hide_env_values = true)]
    pub(super) mfa_code: Option<String>,
    /// Never prompt (for CI and scheduled tasks).
    #[arg(long)]
    pub(super) non_interactive: bool,
    /// Run against the built-in simulated plex.tv (no credentials needed).
    #[arg(long)]
    pub(super) sandbox: bool,
    /// Scenario file for --sandbox (default: the built-in demo).
    #[arg(long, value_name = "FILE", requires = "sandbox")]
    pub(super) scenario: Option<PathBuf>,
}

/// Open a session, on the sandbox if asked. The sandbox handle must outlive the session.
pub async fn connect(
    mut config: Config,
    auth: &AuthArgs,
) -> Result<(Config, Session, Option<sandbox::SandboxRun>), Failure> {
    let sandbox = if auth.sandbox {
        Some(sandbox::start(&mut config, auth.scenario.as_deref()).await?)
    } else {
        None
    };
    if let Some(code) = &auth.mfa_code {
        config.plex.mfa_code = Some(code.clone());
    }
    let prompt = || -> Option<String> {
        eprint!("Plex one-time code: ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok()?;
        Some(line.trim().to_string()).filter(|c| !c.is_empty())
    };
    let interactive = !auth.non_interactive && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let session = Session::connect(
        &config,
        interactive.then_some(&prompt as sharesync::session::CodePrompt<'_>),
    )
    .await
    .map_err(explain)?;
    Ok((config, session, sandbox))
}

/// Add the next step to errors whose fix is not in their own words.
fn explain(e: SessionError) -> Failure {
    Failure(e.to_string())
}
