//! Terminal commands. Thin over the engine: every command builds a config, opens a session,
//! calls the engine, and prints. Errors become one line on stderr and a non-zero exit.

mod apply;
mod args;
mod connect;
mod doctor;
mod env;
mod failure;
mod progress;
mod render;
mod runs;
mod sandbox;
mod schedules;
mod sync;
mod undo;

use std::process::ExitCode;

use clap::Parser;
use sharesync::config::Config;
use sharesync::session::Session;

use args::{Cli, Command, LogFormat, LoginArgs, ServersArgs};
use connect::connect;
use env::{load_config, LOG_VAR};
use failure::Failure;

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
