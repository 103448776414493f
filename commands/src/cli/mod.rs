//! Terminal commands. Thin over the engine: every command builds a config, opens a session,
//! calls the engine, and prints. Errors become one line on stderr and a non-zero exit.

mod apply;
mod doctor;
mod progress;
mod render;
mod runs;
mod sandbox;
mod schedules;
mod sync;
mod undo;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use sharesync::config::{Config, ConfigError, Env, ProcessEnv};
use sharesync::session::{Session, SessionError};

#[derive(Parser, Debug)]
#[command(
    name = "sharesync",
    version,
    about = "Keep Plex library access in step across your servers. Only ever adds access."
)]
pub struct Cli {
    /// Config file (default: sharesync.toml in the working directory, if present).
    #[arg(long, global = true, value_name = "PATH", env = "SHARESYNC_CONFIG")]
    config: Option<PathBuf>,
    /// Print additional details for troubleshooting.
    #[arg(long, global = true)]
    debug: bool,
    /// Log format on stderr: `human`, or `json` for log collectors.
    #[arg(
        long,
        global = true,
        env = "SHARESYNC_LOG_FORMAT",
        default_value = "human"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
struct DoctorArgs {
    /// Also read every paired server through both plex.tv API families (v2 and legacy) and
    /// report each disagreement.
    #[arg(long)]
    deep: bool,
    #[command(flatten)]
    auth: AuthArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Human,
    Json,
}

/// Options shared by every command that talks to plex.tv.
#[derive(Args, Debug, Clone)]
pub struct AuthArgs {
    /// A Plex one-time code, for accounts with two-factor sign-in.
    #[arg(long, env = "PLEX_2FA_CODE", hide_env_values = true)]
    mfa_code: Option<String>,
    /// Never prompt (for CI and scheduled tasks).
    #[arg(long)]
    non_interactive: bool,
    /// Run against the built-in simulated plex.tv (no credentials needed).
    #[arg(long)]
    sandbox: bool,
    /// Scenario file for --sandbox (default: the built-in demo).
    #[arg(long, value_name = "FILE", requires = "sandbox")]
    scenario: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ServersArgs {
    #[command(flatten)]
    auth: AuthArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct LoginArgs {
    /// Run the PIN flow against the built-in simulated plex.tv and approve it automatically.
    #[arg(long)]
    sandbox: bool,
}

/// An error for a person: one line, already worded.
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// The variable the log filter is read from (README: `SHARESYNC_LOG=debug`).
const LOG_VAR: &str = "SHARESYNC_LOG";

/// The process environment without the variables the command line reads itself
/// (`SHARESYNC_CONFIG`, `SHARESYNC_LOG`, `SHARESYNC_LOG_FORMAT`, every `env` of an option): those
/// are never config keys.
pub struct CliEnv {
    own: Vec<String>,
}

impl CliEnv {
    pub fn new() -> CliEnv {
        fn collect(cmd: &clap::Command, own: &mut Vec<String>) {
            own.extend(
                cmd.get_arguments()
                    .filter_map(|a| a.get_env())
                    .map(|e| e.to_string_lossy().into_owned()),
            );
            for sub in cmd.get_subcommands() {
                collect(sub, own);
            }
        }
        let mut own = vec![LOG_VAR.to_string()];
        collect(&Cli::command(), &mut own);
        CliEnv { own }
    }
}

impl Env for CliEnv {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv.var(name)
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let mut vars = ProcessEnv.vars_with_prefix(prefix);
        vars.retain(|(name, _)| !self.own.contains(name));
        vars
    }
    fn front_end_variables(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .own
            .iter()
            .filter(|n| n.starts_with("SHARESYNC_"))
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The config from the file and the environment, with what loading noticed in `notices`.
pub fn read_config(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    Config::load(path, &CliEnv::new())
}

/// [`read_config`], what loading noticed going to the log.
pub fn load_config(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    let config = read_config(path)?;
    for notice in &config.notices {
        tracing::warn!("{notice}");
    }
    Ok(config)
}

pub async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    init_logging(cli.debug, cli.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(debug: bool, format: LogFormat) {
    // Requests are logged at debug level by the client, tokens redacted there.
    let default = if debug {
        "sharesync=debug,sharesync_commands=debug,warn"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_VAR)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let load = || load_config(cli.config.as_deref());
    match cli.command {
        // The doctor reports a bad config as one of its checks rather than failing on it.
        Command::Doctor(args) => {
            Ok(doctor::doctor(cli.config.as_deref(), args.auth, args.deep).await)
        }
        Command::Sync(args) => sync::run(load()?, args).await,
        Command::Servers(args) => servers(load()?, args).await,
        Command::Login(args) => login(load()?, args).await,
        Command::Apply(args) => apply::apply_file(load()?, args).await,
        Command::Undo(args) => undo::undo_run(load()?, args).await,
        Command::Runs(args) => runs::runs(load()?, args),
        Command::Health => Ok(doctor::health(&load()?)),
        Command::Schedules(args) => schedules::schedules(load()?, args),
        Command::Bot => {
            sharesync_commands::discord::run(load()?).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
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

async fn servers(config: Config, args: ServersArgs) -> Result<ExitCode, Failure> {
    let (_config, session, _sandbox) = connect(config, &args.auth).await?;
    let mut servers = Vec::new();
    for server in session.client.owned_servers().await? {
        servers.push(session.client.server(&server).await?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&servers)?);
    } else {
        print!("{}", render::servers(&servers));
    }
    Ok(ExitCode::SUCCESS)
}

async fn login(mut config: Config, args: LoginArgs) -> Result<ExitCode, Failure> {
    let sandbox = if args.sandbox {
        Some(sandbox::start(&mut config, None).await?)
    } else {
        None
    };
    let client = sharesync::session::anonymous_client(&config)?;
    let pin = client.create_pin().await?;
    println!("Open {} and enter the code {}", pin.link_url, pin.code);
    if let Some(sandbox) = &sandbox {
        sandbox.approve_pin(pin.id);
    }
    let deadline = std::time::Instant::now() + pin.expires_in;
    loop {
        if let Some(token) = client.check_pin(pin.id).await? {
            let owner = client.with_token(token.clone()).whoami().await?;
            Session::save_token(&config, &token)?;
            println!(
                "Signed in as {}. Token saved to {} (readable only by you).",
                owner.username,
                config.token_file().display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        if std::time::Instant::now() >= deadline {
            return Err(Failure(
                "the code expired before it was linked: run `sharesync login` again".into(),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
