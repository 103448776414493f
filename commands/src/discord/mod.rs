//! `sharesync bot`: the Discord front end (poise 0.7 on serenity 0.12) over the engine.
//!
//! Layers, each using only those above it:
//! * `settings.rs`, `state.rs` — the checked configuration; [`Data`], shared by every handler.
//! * `ids.rs`      — `ss:<action>:<plan-id>[:page]` button ids.
//! * `checks.rs`   — admin roles and channels, checked server-side on everything.
//! * `render/`     — pure plan/run/status → pages within Discord's limits.
//! * `respond.rs`  — pages → Discord replies, responses, edits and posts.
//! * `errors.rs`   — wording errors for a person, redaction of secrets, the one `report` path.
//! * `commands/`   — the slash commands, one file each; `buttons.rs` — every button (works after
//!   a restart); `scheduled.rs` — the scheduler loop and a post when each scheduled run ends.
//! * `apply.rs`    — confirm → stale check → run, with progress edits of the channel message.
//! * `mod.rs`      — start-up and shutdown.

mod apply;
mod buttons;
pub mod checks;
mod commands;
pub mod errors;
pub mod ids;
pub mod render;
mod respond;
mod scheduled;
mod settings;
mod state;

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use secrecy::ExposeSecret;
use sharesync::apply::{end_dead_leases, WriteLimiter};
use sharesync::clock::{Clock, SystemClock};
use sharesync::config::Config;
use sharesync::schedule::Scheduler;
use sharesync::session::{saved_token, SharedSession};
use sharesync::store::{Store, StoreError};

use errors::Error;
pub use settings::{validate, BotSettings, ConfigProblems, PRODUCTION_API};
pub use state::{BotState, Data};

/// A file in the data directory the bot touches while it is connected; `sharesync health` (the
/// container health check) reads its age.
pub const HEARTBEAT_FILE: &str = "bot-heartbeat";
/// How often the heartbeat file is touched; `health` allows a few missed beats.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);

/// Why the bot could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Config(#[from] ConfigProblems),
    #[error("cannot open the bot's database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot start the Discord client: {0}")]
    Client(String),
    #[error("the Discord connection ended: {0}")]
    Stopped(String),
}

/// Build the REST client. Production keeps serenity's ratelimiter; any other base URL (a local
/// fake, a proxy) needs it off, because serenity ignores the proxy while it is on.
pub fn build_http(settings: &BotSettings) -> Result<serenity::Http, BotError> {
    let mut builder = serenity::HttpBuilder::new(settings.token.expose_secret());
    if settings.api_url != PRODUCTION_API {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| BotError::Client(e.to_string()))?;
        builder = builder
            .proxy(settings.api_url.clone())
            .ratelimiter_disabled(true)
            .client(client);
    }
    Ok(builder.build())
}

fn secrets_of(config: &Config, settings: &BotSettings) -> Vec<String> {
    let mut s = vec![settings.token.expose_secret().to_string()];
    // The token in use may be the configured one or the one `sharesync login` saved.
    for t in config.plex.token.iter().cloned().chain(saved_token(config)) {
        s.push(t.expose_secret().to_string());
    }
    if let Some(p) = &config.plex.password {
        s.push(p.expose_secret().to_string());
    }
    s
}

fn framework_options() -> poise::FrameworkOptions<Data, Error> {
    poise::FrameworkOptions {
        commands: commands::all(),
        on_error: |e| Box::pin(errors::on_error(e)),
        command_check: Some(|ctx| Box::pin(commands::check(ctx))),
        event_handler: |framework, event| Box::pin(buttons::event_handler(framework, event)),
        initialize_owners: false,
        allowed_mentions: Some(serenity::CreateAllowedMentions::new()),
        ..Default::default()
    }
}

/// A started bot: the client runs in a task until [`RunningBot::shutdown`].
pub struct RunningBot {
    pub shard_manager: Arc<serenity::ShardManager>,
    pub http: Arc<serenity::Http>,
    pub state: Data,
    task: tokio::task::JoinHandle<Result<(), serenity::Error>>,
    heartbeat: tokio::task::JoinHandle<()>,
    schedules: Option<(Arc<scheduled::Schedules>, tokio::task::JoinHandle<()>)>,
}

/// Start the bot from `config`: validate, open the database, build the client (which asks the
/// REST API for the gateway URL), connect, register the commands in every configured guild,
/// and start the schedules.
pub async fn start(config: Config) -> Result<RunningBot, BotError> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// [`start`] with every handler and the schedules on `clock` (tests move time by hand).
pub async fn start_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<RunningBot, BotError> {
    let settings = validate(&config)?;
    let store = Store::open(config.database_file())?;
    let interrupted = store.fail_interrupted_plans()?;
    if interrupted > 0 {
        tracing::warn!("{interrupted} plan(s) were being applied when the bot last stopped; marked failed (see /sync-status)");
    }
    for dead in end_dead_leases(&store, &config.limits)? {
        tracing::warn!(dest = %dead.dest.name, "a run on {} was cut off (its process stopped); marked interrupted", dead.dest.name);
    }
    let limiter = Arc::new(WriteLimiter::new(&config.limits));
    let session = Arc::new(SharedSession::new(config.clone()));
    let schedules = (!config.schedules.is_empty()).then(|| {
        Arc::new(scheduled::Schedules {
            scheduler: Scheduler::new(
                config.clone(),
                store.clone(),
                session.clone(),
                limiter.clone(),
                clock.now(),
            ),
        })
    });
    let state: Data = Arc::new(BotState {
        secrets: secrets_of(&config, &settings),
        settings: settings.clone(),
        config,
        store,
        session,
        limiter,
        in_flight: Arc::new(tokio::sync::RwLock::new(())),
        accounts: tokio::sync::Mutex::new(None),
        clock,
    });
    let http = build_http(&settings)?;
    let guilds = settings.policy.guild_ids.clone();
    let data = state.clone();
    let framework = poise::Framework::builder()
        .options(framework_options())
        .initialize_owners(false)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, "connected to Discord");
                for g in &guilds {
                    poise::builtins::register_in_guild(ctx, &framework.options().commands, *g)
                        .await?;
                }
                Ok(data)
            })
        })
        .build();
    // No privileged intents: slash commands and buttons arrive without any.
    let intents = serenity::GatewayIntents::GUILDS;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .map_err(|e| BotError::Client(errors::redact(&e.to_string(), &state.secrets)))?;
    let shard_manager = client.shard_manager.clone();
    let http = client.http.clone();
    let task = tokio::spawn(async move { client.start().await });
    let heartbeat = tokio::spawn(heartbeat(
        shard_manager.clone(),
        state.config.data_dir.join(HEARTBEAT_FILE),
        state.clock.clone(),
    ));
    let schedules = schedules.map(|s| {
        let task = tokio::spawn(scheduled::run_forever(
            s.clone(),
            state.clone(),
            http.clone(),
        ));
        (s, task)
    });
    Ok(RunningBot {
        shard_manager,
        http,
        state,
        task,
        heartbeat,
        schedules,
    })
}

/// Touch the heartbeat file while a shard is connected; remove it while none is, so the health
/// check fails as soon as the connection is gone rather than two minutes later.
async fn heartbeat(
    shards: Arc<serenity::ShardManager>,
    file: std::path::PathBuf,
    clock: Arc<dyn Clock>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_beat: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let connected = shards
            .runners
            .lock()
            .await
            .values()
            .any(|r| r.stage == serenity::ConnectionStage::Connected);
        if !connected {
            if last_beat.take().is_some() {
                let _ = std::fs::remove_file(&file);
            }
            continue;
        }
        if last_beat.is_some_and(|t| t.elapsed() < HEARTBEAT_EVERY) {
            continue;
        }
        match std::fs::write(&file, clock.now().to_rfc3339()) {
            Ok(()) => last_beat = Some(tokio::time::Instant::now()),
            Err(e) => tracing::warn!("cannot write the heartbeat file {}: {e}", file.display()),
        }
    }
}

impl RunningBot {
    /// Stop the shards (closing the gateway connection) after letting runs in flight finish
    /// (up to `grace`; a run cut short is recorded as interrupted by the executor's record).
    pub async fn shutdown(self, grace: Duration) {
        // Held until the end: no button or schedule pass can start a run once shutdown began.
        let held = tokio::time::timeout(grace, self.state.in_flight.write()).await;
        if held.is_err() {
            tracing::warn!("an apply was still running at shutdown; it will show as interrupted");
        }
        if let Some((_, task)) = &self.schedules {
            task.abort(); // idle: a pass in flight holds `in_flight`, which we now hold
        }
        self.heartbeat.abort();
        let _ = std::fs::remove_file(self.state.config.data_dir.join(HEARTBEAT_FILE));
        self.shard_manager.shutdown_all().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }

    /// Run the schedules due at the clock's "now" and post about them, as the loop does each
    /// tick; returns how many ran (the end-to-end tests call this after moving the clock).
    pub async fn run_schedules(&self) -> usize {
        match &self.schedules {
            Some((s, _)) => scheduled::run_due_now(s, &self.state, &self.http).await,
            None => 0,
        }
    }

    /// True once the client task has ended (connection lost for good, bad token).
    pub fn finished(&self) -> bool {
        self.task.is_finished()
    }

    async fn wait(&mut self) -> Result<(), BotError> {
        match (&mut self.task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(BotError::Stopped(errors::redact(
                &e.to_string(),
                &self.state.secrets,
            ))),
            Err(e) => Err(BotError::Stopped(e.to_string())),
        }
    }
}

async fn terminate_signal() {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// `sharesync bot`: run until Ctrl-C or SIGTERM, then shut down cleanly.
pub async fn run(config: Config) -> Result<(), BotError> {
    let mut bot = start(config).await?;
    let ended = tokio::select! {
        _ = tokio::signal::ctrl_c() => None,
        _ = terminate_signal() => None,
        r = bot.wait() => Some(r),
    };
    match ended {
        Some(r) => r,
        None => {
            tracing::info!("shutting down");
            bot.shutdown(Duration::from_secs(60)).await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token `sharesync login` saved is redacted like the configured one (the bot signs in
    /// with it when the config has none).
    #[test]
    fn secrets_include_the_configured_and_the_saved_token() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::from_toml_str(
            "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n[discord]\ntoken = \"discord-secret\"\nguild_ids = [1]\nadmin_role_ids = [2]\n[plex]\ntoken = \"configured-plex-token\"\n",
        )
        .unwrap();
        config.data_dir = dir.path().to_path_buf();
        let settings = validate(&config).unwrap();
        std::fs::write(config.token_file(), "saved-plex-token\n").unwrap();
        let secrets = secrets_of(&config, &settings);
        for s in [
            "discord-secret",
            "configured-plex-token",
            "saved-plex-token",
        ] {
            assert!(secrets.iter().any(|x| x == s), "{s} in {secrets:?}");
        }
    }
}
