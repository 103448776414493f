//! `sharesync bot`: the Discord front end (poise 0.7 on serenity 0.12) over the engine.
//!
//! * `mod.rs`      — configuration checks, start-up, shutdown.
//! * `commands.rs` — the slash commands.
//! * `buttons.rs`  — the one global handler for every button (works after a restart).
//! * `apply.rs`    — confirm → stale check → run, with progress edits of the channel message.
//! * `scheduled.rs` — the scheduler loop and a post when each scheduled run finishes.
//! * `render.rs`   — pure plan/run → pages within Discord's limits.
//! * `ids.rs`      — `ss:<action>:<plan-id>[:page]` button ids.
//! * `checks.rs`   — admin roles and channels, checked server-side on everything.
//! * `errors.rs`   — `on_error` for every framework error, redaction of secrets.

mod apply;
mod buttons;
pub mod checks;
mod commands;
pub mod errors;
pub mod ids;
pub mod render;
mod scheduled;

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use secrecy::ExposeSecret;
use sharesync::apply::{end_dead_leases, WriteLimiter};
use sharesync::clock::{Clock, SystemClock};
use sharesync::config::Config;
use sharesync::schedule::Scheduler;
use sharesync::session::{Session, SessionError, SharedSession};
use sharesync::store::{Store, StoreError};

use checks::Policy;
use errors::Error;

pub const PRODUCTION_API: &str = "https://discord.com";

/// A file in the data directory the bot touches while it is connected; `sharesync health` (the
/// container health check) reads its age.
pub const HEARTBEAT_FILE: &str = "bot-heartbeat";
/// How often the heartbeat file is touched; `health` allows a few missed beats.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);

/// What the bot needs from config, checked.
#[derive(Clone)]
pub struct BotSettings {
    token: secrecy::SecretString,
    pub api_url: String,
    pub policy: Policy,
    pub plan_ttl: chrono::Duration,
    pub notify_channel: Option<serenity::ChannelId>,
}

impl std::fmt::Debug for BotSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotSettings")
            .field("token", &"[redacted]")
            .field("api_url", &self.api_url)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Every problem with the bot's configuration, each with its key and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Discord bot cannot start:{}", .0.iter().map(|(k, r)| format!("\n  config key `{k}`: {r}")).collect::<String>())]
pub struct ConfigProblems(pub Vec<(String, String)>);

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

/// Check `config` for the bot; lists every problem, not just the first.
pub fn validate(config: &Config) -> Result<BotSettings, ConfigProblems> {
    let mut problems = Vec::new();
    let mut bad = |k: &str, r: &str| problems.push((k.to_string(), r.to_string()));
    let Some(d) = &config.discord else {
        return Err(ConfigProblems(vec![(
            "discord".into(),
            "missing: add a [discord] section with token, guild_ids and admin_role_ids".into(),
        )]));
    };
    let token = d
        .token
        .clone()
        .filter(|t| !t.expose_secret().trim().is_empty());
    if token.is_none() {
        bad(
            "discord.token",
            "missing: set it or DISCORD_TOKEN to the bot token from the Developer Portal",
        );
    }
    if token
        .as_ref()
        .is_some_and(|t| t.expose_secret().chars().any(char::is_whitespace))
    {
        bad(
            "discord.token",
            "contains whitespace; paste the token alone, without a \"Bot \" prefix",
        );
    }
    match url::Url::parse(&d.api_url) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.path().trim_end_matches('/').is_empty() => {}
        _ => bad(
            "discord.api_url",
            "must be an http(s) URL with no path, such as https://discord.com",
        ),
    }
    if d.guild_ids.is_empty() {
        bad(
            "discord.guild_ids",
            "empty: list the server (guild) ids to register the commands in",
        );
    }
    if d.guild_ids.contains(&0)
        || d.admin_role_ids.contains(&0)
        || d.allowed_channel_ids.contains(&0)
        || d.notify_channel_id == Some(0)
    {
        bad("discord", "ids must be non-zero Discord snowflakes");
    }
    if d.admin_role_ids.is_empty() {
        bad(
            "discord.admin_role_ids",
            "empty: nobody could use the bot; list the role ids allowed to plan and apply",
        );
    }
    if d.plan_ttl_minutes == 0 || d.plan_ttl_minutes > 24 * 60 {
        bad("discord.plan_ttl_minutes", "must be between 1 and 1440");
    }
    if d.notify_channel_id.is_none() && config.schedules.iter().any(|s| s.channel_id.is_none()) {
        bad(
            "discord.notify_channel_id",
            "missing: schedules post their results there; set it, or give every [[schedule]] a channel_id",
        );
    }
    if config.pairs.is_empty() {
        bad(
            "pair",
            "no [[pair]] configured: the bot needs at least one source → destination pair",
        );
    }
    if !problems.is_empty() {
        return Err(ConfigProblems(problems));
    }
    let nz = |v: &[u64]| v.iter().filter(|&&i| i != 0).copied().collect::<Vec<_>>();
    Ok(BotSettings {
        token: token.expect("checked"),
        api_url: d.api_url.trim_end_matches('/').to_string(),
        policy: Policy {
            guild_ids: nz(&d.guild_ids)
                .into_iter()
                .map(serenity::GuildId::new)
                .collect(),
            admin_role_ids: nz(&d.admin_role_ids)
                .into_iter()
                .map(serenity::RoleId::new)
                .collect(),
            allowed_channel_ids: nz(&d.allowed_channel_ids)
                .into_iter()
                .map(serenity::ChannelId::new)
                .collect(),
        },
        plan_ttl: chrono::Duration::minutes(d.plan_ttl_minutes as i64),
        notify_channel: d
            .notify_channel_id
            .filter(|&c| c != 0)
            .map(serenity::ChannelId::new),
    })
}

/// Shared by every command and button handler.
pub struct BotState {
    pub config: Config,
    pub settings: BotSettings,
    pub store: Store,
    /// Texts that must never be shown or logged (tokens).
    pub secrets: Vec<String>,
    /// The process's one plex.tv sign-in, shared by commands, buttons and schedules.
    pub session: Arc<SharedSession>,
    /// One write budget for every run of this process (they share one plex.tv token).
    pub limiter: Arc<WriteLimiter>,
    /// Applies in flight, so shutdown can let them finish.
    pub in_flight: Arc<tokio::sync::RwLock<()>>,
    /// Plex accounts for autocomplete, refreshed at most once a minute.
    pub accounts: tokio::sync::Mutex<Option<(std::time::Instant, Vec<sharesync::model::Account>)>>,
}

pub type Data = Arc<BotState>;

impl BotState {
    /// The process's signed-in session: signed in once, without any prompt (a bot cannot ask
    /// for a two-factor code; it takes `plex.mfa_code` when username and password are used).
    pub async fn session(&self) -> Result<Arc<Session>, SessionError> {
        self.session.get().await
    }
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
    if let Some(t) = &config.plex.token {
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

/// [`start`] with the schedules on `clock` (tests move time by hand).
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
            clock,
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
async fn heartbeat(shards: Arc<serenity::ShardManager>, file: std::path::PathBuf) {
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
        match std::fs::write(&file, chrono::Utc::now().to_rfc3339()) {
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

    fn config(discord: &str) -> Config {
        Config::from_toml_str(&format!(
            "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n[discord]\n{discord}"
        ))
        .unwrap()
    }

    #[test]
    fn a_complete_config_validates() {
        let s = validate(&config(
            "token = \"t\"\nguild_ids = [1]\nadmin_role_ids = [2]\n",
        ))
        .unwrap();
        assert_eq!(s.api_url, PRODUCTION_API);
        assert_eq!(s.plan_ttl, chrono::Duration::minutes(30));
        assert!(!format!("{s:?}").contains("\"t\""));
    }

    #[test]
    fn every_problem_is_named_with_its_key() {
        let e = validate(&config("api_url = \"http://127.0.0.1:9/api\"\n")).unwrap_err();
        let keys: Vec<&str> = e.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "discord.token",
                "discord.api_url",
                "discord.guild_ids",
                "discord.admin_role_ids"
            ]
        );
        let text = e.to_string();
        assert!(text.contains("config key `discord.token`"), "{text}");
    }

    #[test]
    fn no_discord_section() {
        let c = Config::from_toml_str("").unwrap();
        assert_eq!(validate(&c).unwrap_err().0[0].0, "discord");
    }
}
