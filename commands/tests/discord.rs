//! End-to-end: the real bot (real poise, real serenity, the same `discord::start` as
//! `sharesync bot`) against a fake Discord (REST + gateway on loopback) and the simulated plex.tv.
//! One binary for every scenario: each test binary costs a link.

#![recursion_limit = "512"]

#[path = "discord/apply.rs"]
mod apply;
#[path = "discord/commands.rs"]
mod commands;
#[path = "discord/plans.rs"]
mod plans;
#[path = "discord/runner.rs"]
mod runner;
#[path = "discord/scheduled.rs"]
mod scheduled;
mod support;

use std::time::Duration;

use serde_json::Value;
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario};
use sharesync_commands::discord::{self, render, RunningBot};
use support::fake_discord::{FakeDiscord, GUILD_ID};
use support::fixtures::{self as fx, admin, non_admin, opt, ADMIN_ROLE};
use support::plex::stored_baseline;

const WAIT: Duration = Duration::from_secs(20);
/// Where scheduled runs post (`discord.notify_channel_id`).
const NOTIFY_CHANNEL: u64 = 3100;

/// The schedules' clock, moved by hand.
struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    fn set(&self, rfc3339: &str) {
        *self.0.lock().unwrap() = chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&chrono::Utc);
    }
}

impl sharesync::clock::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

/// A person's pace between seeing a message and pressing its button: presses never come the
/// instant a message appears.
async fn human() {
    tokio::time::sleep(Duration::from_millis(150)).await;
}

struct TestBot {
    fake: FakeDiscord,
    sandbox: Sandbox,
    _dir: tempfile::TempDir,
    config: sharesync::config::Config,
    bot: Option<RunningBot>,
    connections: usize,
    clock: std::sync::Arc<ManualClock>,
}

impl TestBot {
    async fn start() -> TestBot {
        Self::start_with(Scenario::demo()).await
    }

    async fn start_with(scenario: Scenario) -> TestBot {
        Self::start_full(scenario, "").await
    }

    /// With `[[schedule]]` entries (or other TOML) after the `[discord]` section; the schedules'
    /// clock starts at 2026-01-10 02:00 UTC.
    async fn start_full(scenario: Scenario, more_toml: &str) -> TestBot {
        Self::start_configured(scenario, "", more_toml, None).await
    }

    /// As [`TestBot::start_full`], with more `[limits]` keys.
    async fn start_limited(scenario: Scenario, limits: &str, more_toml: &str) -> TestBot {
        Self::start_configured(scenario, limits, more_toml, None).await
    }

    /// `credentials`: the `[plex]` lines that sign in (default: the owner's token).
    async fn start_signed_in_by(
        scenario: Scenario,
        more_toml: &str,
        credentials: Option<&str>,
    ) -> TestBot {
        Self::start_configured(scenario, "", more_toml, credentials).await
    }

    async fn start_configured(
        scenario: Scenario,
        limits: &str,
        more_toml: &str,
        credentials: Option<&str>,
    ) -> TestBot {
        let fake = FakeDiscord::start().await;
        let sandbox = Sandbox::start(scenario).await.expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        let credentials = credentials
            .map(str::to_string)
            .unwrap_or_else(|| format!("token = \"{}\"", sandbox.owner_token()));
        let toml = format!(
            r#"
data_dir = "{dir}"
[plex]
{credentials}
url = "{plex}"
[limits]
writes_per_second = 0
{limits}
[[pair]]
name = "main"
source = "noodle"
dest = "doodoo"
aliases = {{ "Movies 4K" = "4K Movies" }}
[discord]
token = "fake-discord-token"
api_url = "{discord}"
guild_ids = [{GUILD_ID}]
admin_role_ids = [{ADMIN_ROLE}]
plan_ttl_minutes = 30
notify_channel_id = {NOTIFY_CHANNEL}
{more_toml}
"#,
            dir = dir.path().display(),
            plex = sandbox.url(),
            discord = fake.url(),
        );
        let config = sharesync::config::Config::from_toml_str(&toml).expect("config");
        let mut t = TestBot {
            fake,
            sandbox,
            _dir: dir,
            config,
            bot: None,
            connections: 0,
            clock: std::sync::Arc::new(ManualClock(std::sync::Mutex::new(
                chrono::DateTime::parse_from_rfc3339("2026-01-10T02:00:00Z")
                    .unwrap()
                    .with_timezone(&chrono::Utc),
            ))),
        };
        t.boot().await;
        t
    }

    /// Start the bot and wait until it registered its commands on a new connection.
    async fn boot(&mut self) {
        let mark = self.fake.mark();
        self.bot = Some(
            discord::start_with_clock(self.config.clone(), self.clock.clone())
                .await
                .expect("bot starts"),
        );
        self.fake
            .wait_for_from(mark, WAIT, "command registration", |c| {
                c.is("PUT", "/commands")
            })
            .await;
        self.connections += 1;
    }

    async fn restart(&mut self) {
        if let Some(bot) = self.bot.take() {
            bot.shutdown(Duration::from_secs(5)).await;
        }
        self.boot().await;
    }

    /// Dispatch an interaction and return it.
    fn send(&self, interaction: Value) -> Value {
        self.fake
            .dispatch("INTERACTION_CREATE", interaction.clone());
        interaction
    }

    /// The initial response (callback) to an interaction.
    async fn callback(&self, interaction: &Value) -> Value {
        let path = format!(
            "/interactions/{}/{}/callback",
            fx::id(interaction),
            fx::token(interaction)
        );
        self.fake
            .wait_for(WAIT, &path, |c| c.is("POST", &path))
            .await
            .body
    }

    /// Run `/sync-plan` as an admin; returns the plan message as the fake holds it.
    async fn plan(&self, options: &[Value]) -> Value {
        let i = self.send(fx::slash("sync-plan", options, admin()));
        let cb = self.callback(&i).await;
        assert_eq!(cb["type"], 5, "sync-plan defers first: {cb}");
        let token = fx::token(&i);
        self.fake
            .wait_for(WAIT, "the plan follow-up", |c| {
                c.is("POST", &format!("/webhooks/1000/{token}"))
            })
            .await;
        self.fake.message_of_token(&token).expect("plan message")
    }

    /// Press Apply on the plan `message` as an admin; returns the Confirm step it turned into.
    async fn open_confirm(&self, message: &Value) -> Value {
        let press = self
            .press(message, &button_with(message, "ss:apply:"), admin())
            .await;
        let cb = self.callback(&press).await;
        assert_eq!(cb["type"], 7, "Apply updates the message: {cb}");
        self.message(message)
    }

    /// Press a button on `message` as `member`; returns the interaction.
    async fn press(&self, message: &Value, custom_id: &str, member: Value) -> Value {
        human().await;
        let i = fx::button(custom_id, message, member);
        self.fake.attach_token(
            &fx::token(&i),
            message["id"].as_str().unwrap().parse().unwrap(),
        );
        self.send(i)
    }

    fn message(&self, message: &Value) -> Value {
        self.fake
            .message(message["id"].as_str().unwrap().parse().unwrap())
    }

    fn writes(&self) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count()
    }

    async fn stop(mut self) {
        if let Some(bot) = self.bot.take() {
            bot.shutdown(Duration::from_secs(5)).await;
        }
    }
}

fn button_with(message: &Value, prefix: &str) -> String {
    fx::button_ids(message)
        .into_iter()
        .find(|b| b.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button in {}", message["components"]))
}

fn description(message: &Value) -> String {
    message["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn title(message: &Value) -> String {
    message["embeds"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Wait until the message shows `pred`.
async fn until_message(
    bot: &TestBot,
    message: &Value,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let m = bot.message(message);
        if pred(&m) {
            return m;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("message never showed {what}: {m}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn finished(m: &Value) -> bool {
    title(m).starts_with("Applied") || title(m).starts_with("Apply failed")
}

/// Shares on `server`: account → (all libraries, section ids).
fn shares(
    bot: &TestBot,
    server: &str,
) -> std::collections::BTreeMap<u64, (bool, std::collections::BTreeSet<u64>)> {
    let world = bot.sandbox.world();
    let mid = world
        .servers
        .iter()
        .find(|s| s.name == server)
        .unwrap()
        .machine_id
        .clone();
    world
        .shares
        .values()
        .filter(|s| s.machine_id == mid)
        .filter_map(|s| Some((s.account_id?, (s.all_libraries, s.section_ids.clone()))))
        .collect()
}

/// The value of the `/sync-status` reply's field `name`.
fn status_field(reply: &Value, name: &str) -> String {
    reply["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} field: {reply}"))["value"]
        .as_str()
        .unwrap()
        .to_string()
}
