//! End-to-end: the real bot (real poise, real serenity, the same `discord::start` as
//! `sharesync bot`) against a fake Discord (REST + gateway on loopback) and the simulated plex.tv.
//! One binary for every scenario (issue 5).

#![recursion_limit = "512"]

#[path = "discord/runner.rs"]
mod runner;
mod support;

use std::time::Duration;

use serde_json::Value;
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario};
use sharesync_commands::discord::{self, render, RunningBot};
use support::fake_discord::{FakeDiscord, GUILD_ID};
use support::fixtures::{self as fx, admin, non_admin, opt, ADMIN_ROLE};

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

/// A person's pace between seeing a message and pressing its button (discord-testing.md §1.4).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_registers_every_command_with_its_options() {
    let bot = TestBot::start().await;
    let calls = bot.fake.calls();
    let get_gateway = calls
        .iter()
        .position(|c| c.is("GET", "/gateway"))
        .expect("GET /gateway");
    let identify = calls
        .iter()
        .position(|c| c.is("WS", "IDENTIFY"))
        .expect("IDENTIFY");
    let put = calls
        .iter()
        .find(|c| {
            c.is(
                "PUT",
                &format!("/applications/1000/guilds/{GUILD_ID}/commands"),
            )
        })
        .expect("PUT");
    assert!(get_gateway < identify && identify < put.index);
    assert_eq!(calls[identify].body["token"], "Bot fake-discord-token");
    assert!(
        !calls.iter().any(|c| c.path.contains("oauth2")),
        "initialize_owners(false)"
    );
    let cmds = put.body.as_array().unwrap();
    let names: Vec<&str> = cmds.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "sync-plan",
            "sync-apply",
            "sync-user",
            "sync-link",
            "sync-unlink",
            "sync-status"
        ]
    );
    let options = |name: &str| -> Vec<String> {
        cmds.iter().find(|c| c["name"] == name).unwrap()["options"]
            .as_array()
            .map(|o| {
                o.iter()
                    .map(|o| o["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(options("sync-plan"), ["pair", "user"]);
    assert_eq!(options("sync-apply"), ["plan"]);
    assert_eq!(options("sync-user"), ["plex_user", "member", "pair"]);
    assert_eq!(options("sync-link"), ["member", "plex_user"]);
    for c in cmds {
        assert_eq!(
            c["default_member_permissions"], "32",
            "{} needs Manage Server",
            c["name"]
        );
    }
    // The container health check reads this file: present while connected, gone after shutdown.
    let beat = bot.config.data_dir.join(discord::HEARTBEAT_FILE);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !beat.exists() {
        assert!(tokio::time::Instant::now() < deadline, "no heartbeat file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut bot = bot;
    let running = bot.bot.take().expect("running");
    running.shutdown(Duration::from_secs(5)).await;
    assert!(!beat.exists(), "heartbeat file left after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_plan_shows_counts_and_buttons() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    // The counts the engine plans for the demo scenario, read the same way the bot does.
    let session = sharesync::session::Session::connect(&bot.config, None)
        .await
        .unwrap();
    let (_, plan) = session
        .plan_pair(&bot.config.pairs[0], vec![])
        .await
        .unwrap();
    let d = description(&msg);
    assert!(d.contains("**noodle** → **doodoo**"), "{d}");
    for o in sharesync::plan::Outcome::ALL {
        let n = plan.count(o);
        if n > 0 {
            assert!(
                d.contains(&format!("{}: {n}", render::outcome_label(o))),
                "{o:?} {n} in {d}"
            );
        }
    }
    let ids = fx::button_ids(&msg);
    assert!(ids.iter().any(|b| b.starts_with("ss:apply:")), "{ids:?}");
    assert!(ids.iter().any(|b| b.starts_with("ss:cancel:")));
    assert!(ids.iter().any(|b| b.starts_with("ss:download:")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_confirm_by_an_admin_grants_and_removes_nothing() {
    let bot = TestBot::start().await;
    let before_dest = shares(&bot, "doodoo");
    let before_src = shares(&bot, "noodle");
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["type"], 7, "{cb}");
    let confirm = bot.message(&msg);
    assert!(
        title(&confirm).starts_with("Grant ") && title(&confirm).contains("on doodoo?"),
        "{}",
        title(&confirm)
    );
    let writes_before = bot.writes();
    assert_eq!(writes_before, 0);
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(bot.writes() > 0, "something was written");
    assert!(
        fx::buttons(&done)
            .iter()
            .all(|(id, disabled)| *disabled || id.starts_with("ss:download")),
        "{:?}",
        fx::buttons(&done)
    );
    assert!(!fx::button_ids(&done)
        .iter()
        .any(|b| b.starts_with("ss:confirm") || b.starts_with("ss:apply")));
    // Nothing removed: every share still has at least what it had.
    let after_dest = shares(&bot, "doodoo");
    for (account, (all, libs)) in &before_dest {
        let (all_after, libs_after) = after_dest
            .get(account)
            .unwrap_or_else(|| panic!("share of {account} on doodoo vanished"));
        assert!(!all || *all_after, "{account} lost All");
        assert!(
            *all_after || libs.is_subset(libs_after),
            "{account} lost a library"
        );
    }
    assert!(
        after_dest.values().map(|(_, l)| l.len()).sum::<usize>()
            > before_dest.values().map(|(_, l)| l.len()).sum::<usize>()
    );
    assert_eq!(
        shares(&bot, "noodle"),
        before_src,
        "the source is never written"
    );
    // A plan now has nothing to grant.
    let again = bot.plan(&[]).await;
    assert!(
        !fx::button_ids(&again)
            .iter()
            .any(|b| b.starts_with("ss:apply:")),
        "{}",
        description(&again)
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_is_refused_everywhere_and_nothing_is_written() {
    let bot = TestBot::start().await;
    let i = bot.send(fx::slash("sync-plan", &[], non_admin()));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["type"], 4);
    assert_eq!(cb["data"]["flags"], 64, "ephemeral: {cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("admin role"),
        "{cb}"
    );
    let msg = bot.plan(&[]).await;
    let mark = bot.fake.mark();
    for action in ["ss:apply:", "ss:cancel:", "ss:download:"] {
        let press = bot
            .press(&msg, &button_with(&msg, action), non_admin())
            .await;
        let cb = bot.callback(&press).await;
        assert_eq!(
            (cb["type"].clone(), cb["data"]["flags"].clone()),
            (4.into(), 64.into()),
            "{action}: {cb}"
        );
        assert!(
            cb["data"]["content"]
                .as_str()
                .is_some_and(|t| t.contains("admin role")),
            "{action}: the refusal says why: {cb}"
        );
    }
    assert!(
        bot.fake.calls()[mark..].iter().all(|c| c.files.is_empty()),
        "no file reaches a non-admin (Download refused)"
    );
    let plan_id = button_with(&msg, "ss:apply:")
        .trim_start_matches("ss:apply:")
        .to_string();
    let press = bot
        .press(&msg, &format!("ss:confirm:{plan_id}"), non_admin())
        .await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["data"]["flags"], 64, "{cb}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.writes(), 0, "no write in the plex.tv request log");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_shows_the_new_plan_and_writes_nothing() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    bot.callback(&press).await;
    let confirm = bot.message(&msg);
    // Someone removes two destination shares between plan and confirm: the plan changes.
    // (Two of six: less than the third the read guard refuses.)
    bot.sandbox.with_world(|w| {
        let id_of = |name: &str| {
            w.servers
                .iter()
                .find(|s| s.name == name)
                .unwrap()
                .machine_id
                .clone()
        };
        let (source, dest) = (id_of("noodle"), id_of("doodoo"));
        let on_source: Vec<_> = w
            .shares
            .values()
            .filter(|s| s.machine_id == source)
            .map(|s| s.account_id)
            .collect();
        // Accounts with source access now need a new share.
        let ids: Vec<u64> = w
            .shares
            .iter()
            .filter(|(_, s)| s.machine_id == dest && on_source.contains(&s.account_id))
            .map(|(id, _)| *id)
            .take(2)
            .collect();
        assert!(!ids.is_empty());
        for id in ids {
            w.shares.remove(&id);
        }
    });
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let shown = until_message(&bot, &msg, "the new plan", |m| {
        description(m).contains("changed since")
    })
    .await;
    assert!(title(&shown).starts_with("Sync plan"), "{shown}");
    assert!(fx::button_ids(&shown)
        .iter()
        .any(|b| b.starts_with("ss:apply:")));
    assert_ne!(
        button_with(&shown, "ss:apply:"),
        button_with(&msg, "ss:apply:"),
        "a new plan id"
    );
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_work_after_a_restart() {
    let mut bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    bot.restart().await;
    assert_eq!(bot.connections, 2);
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    let confirm = bot.message(&msg);
    bot.restart().await;
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_press_and_two_admins_start_one_run() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    bot.callback(&press).await;
    let confirm = bot.message(&msg);
    let id = button_with(&confirm, "ss:confirm:");
    let a = fx::button(&id, &confirm, admin());
    let b = fx::button(&id, &confirm, fx::other_admin());
    let c = fx::button(&id, &confirm, admin());
    human().await;
    for i in [&a, &b, &c] {
        bot.fake.attach_token(
            &fx::token(i),
            confirm["id"].as_str().unwrap().parse().unwrap(),
        );
        bot.send(i.clone());
    }
    let answers = [
        bot.callback(&a).await,
        bot.callback(&b).await,
        bot.callback(&c).await,
    ];
    let started = answers.iter().filter(|cb| cb["type"] == 7).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|cb| cb["data"]["flags"] == 64)
        .collect();
    assert_eq!(started, 1, "{answers:?}");
    assert_eq!(refused.len(), 2);
    for r in refused {
        let t = r["data"]["content"].as_str().unwrap();
        assert!(
            t.contains("already") || t.contains("Another run is in progress on doodoo"),
            "{t}"
        );
    }
    until_message(&bot, &msg, "the final embed", finished).await;
    let runs = sharesync::store::Store::open(bot.config.database_file())
        .unwrap()
        .runs(10)
        .unwrap();
    assert_eq!(runs.len(), 1, "exactly one run");
    // After it: a press says already applied.
    let late = bot.press(&confirm, &id, admin()).await;
    let cb = bot.callback(&late).await;
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("already applied"),
        "{cb}"
    );
    bot.stop().await;
}

/// A CLI (another process) holds the destination's lease: Confirm is refused ephemerally,
/// naming who holds it, nothing is read for a stale check or written, and the plan stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_while_another_process_holds_the_destination_is_refused() {
    use sharesync::apply::{DestLease, LeaseSettings};
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    bot.callback(&press).await;
    let confirm = bot.message(&msg);
    let doodoo = bot
        .sandbox
        .world()
        .server_by_name("doodoo")
        .unwrap()
        .clone();
    let cli = DestLease::acquire(
        &sharesync::store::Store::open(bot.config.database_file()).unwrap(),
        &sharesync::model::ServerRef {
            name: doodoo.name.clone(),
            machine_id: sharesync::model::MachineId(doodoo.machine_id.clone()),
        },
        &sharesync::store::Trigger::cli("alice"),
        &LeaseSettings::from_limits(&bot.config.limits),
    )
    .unwrap();
    let requests = bot.sandbox.requests().len();
    let id = button_with(&confirm, "ss:confirm:");
    let refused = bot.press(&confirm, &id, admin()).await;
    let cb = bot.callback(&refused).await;
    assert_eq!(cb["data"]["flags"], 64, "ephemeral: {cb}");
    let text = cb["data"]["content"].as_str().unwrap();
    assert!(
        text.starts_with("Another run is in progress on doodoo: ")
            && text.contains("by cli:alice)"),
        "{text}"
    );
    assert_eq!(
        bot.sandbox.requests().len(),
        requests,
        "nothing read or written"
    );
    drop(cli);
    let again = bot.press(&confirm, &id, admin()).await;
    assert_eq!(
        bot.callback(&again).await["type"],
        7,
        "the plan stayed open"
    );
    until_message(&bot, &msg, "the final embed", finished).await;
    assert!(bot.writes() > 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_accounts_paginate_within_limits_and_download() {
    let bot = TestBot::start_with(Scenario::generated(2000, 6, 7)).await;
    let i = bot.send(fx::slash("sync-plan", &[], admin()));
    bot.callback(&i).await;
    let token = fx::token(&i);
    bot.fake
        .wait_for(Duration::from_secs(60), "the plan", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    let mut msg = bot.fake.message_of_token(&token).unwrap();
    let footer = |m: &Value| {
        m["embeds"][0]["footer"]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pages: usize = footer(&msg)
        .split("page 1/")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(pages > 1, "{}", footer(&msg));
    let check = |m: &Value| {
        let e = &m["embeds"][0];
        let len = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        let total = len(&e["title"])
            + len(&e["description"])
            + len(&e["footer"]["text"])
            + fields
                .iter()
                .map(|f| len(&f["name"]) + len(&f["value"]))
                .sum::<usize>();
        assert!(
            total <= 6000 && fields.len() <= 25 && len(&e["description"]) <= 4096,
            "limits: {total}"
        );
        assert!(fields
            .iter()
            .all(|f| len(&f["value"]) <= 1024 && len(&f["name"]) <= 256));
        assert!(m["components"].as_array().unwrap().len() <= 5);
    };
    let mut seen = 0;
    for p in 1..=pages {
        check(&msg);
        assert!(
            footer(&msg).contains(&format!("page {p}/{pages}")),
            "{}",
            footer(&msg)
        );
        seen += msg["embeds"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap().lines().count())
            .sum::<usize>();
        if p < pages {
            let press = bot
                .press(&msg, &button_with(&msg, "ss:next:"), admin())
                .await;
            assert_eq!(bot.callback(&press).await["type"], 7);
            msg = bot.message(&msg);
        }
    }
    let press = bot
        .press(&msg, &button_with(&msg, "ss:prev:"), admin())
        .await;
    bot.callback(&press).await;
    assert!(footer(&bot.message(&msg)).contains(&format!("page {}/{pages}", pages - 1)));
    let press = bot
        .press(&msg, &button_with(&msg, "ss:download:"), admin())
        .await;
    let path = format!(
        "/interactions/{}/{}/callback",
        fx::id(&press),
        fx::token(&press)
    );
    let call = bot
        .fake
        .wait_for(WAIT, "download", |c| c.is("POST", &path))
        .await;
    let names: Vec<&str> = call.files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().any(|n| n.ends_with(".json")) && names.iter().any(|n| n.ends_with(".csv")),
        "{names:?}"
    );
    let json: Value = serde_json::from_slice(
        &call
            .files
            .iter()
            .find(|(n, _)| n.ends_with(".json"))
            .unwrap()
            .1,
    )
    .unwrap();
    let csv = String::from_utf8(
        call.files
            .iter()
            .find(|(n, _)| n.ends_with(".csv"))
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert_eq!(
        csv.lines().count() - 1,
        json["users"].as_array().unwrap().len()
    );
    assert_eq!(
        seen,
        json["users"].as_array().unwrap().len(),
        "every account line was shown once"
    );
    assert_eq!(call.body["data"]["flags"], 64);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_bad_gateways_during_apply_are_retried() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    bot.callback(&press).await;
    let confirm = bot.message(&msg);
    bot.sandbox.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::RateLimit {
            retry_after_secs: Some(1),
        },
        1,
    ));
    bot.sandbox.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::ServerError(502),
        1,
    ));
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(
        description(&done).contains(" 0 failed"),
        "{}",
        description(&done)
    );
    let statuses: Vec<u16> = bot
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.status)
        .collect();
    assert!(
        statuses.contains(&429) && statuses.contains(&502),
        "{statuses:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_plex_token_is_explained_and_nothing_is_written() {
    let bot = TestBot::start().await;
    bot.sandbox.with_world(|w| w.tokens.clear());
    let i = bot.send(fx::slash("sync-plan", &[], admin()));
    bot.callback(&i).await;
    let token = fx::token(&i);
    let call = bot
        .fake
        .wait_for(WAIT, "the error", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    let text = call.body["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("rejected the Plex token"), "{text}");
    assert!(
        !text.contains(&bot.sandbox.owner_token()),
        "the token never reaches a message"
    );
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_then_sync_user_plans_for_exactly_that_account() {
    let bot = TestBot::start().await;
    let session = sharesync::session::Session::connect(&bot.config, None)
        .await
        .unwrap();
    let (_, plan) = session
        .plan_pair(&bot.config.pairs[0], vec![])
        .await
        .unwrap();
    let target = plan.to_update().next().expect("someone to grant").clone();
    let i = bot.send(fx::slash(
        "sync-link",
        &[
            fx::user_opt("member", 777),
            opt("plex_user", &target.account_id.0.to_string()),
        ],
        admin(),
    ));
    bot.callback(&i).await;
    let token = fx::token(&i);
    let call = bot
        .fake
        .wait_for(WAIT, "link reply", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    assert!(
        call.body["content"].as_str().unwrap().contains("Linked"),
        "{}",
        call.body
    );
    let i = bot.send(fx::slash(
        "sync-user",
        &[fx::user_opt("member", 777)],
        admin(),
    ));
    bot.callback(&i).await;
    let token = fx::token(&i);
    bot.fake
        .wait_for(WAIT, "user plan", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    let msg = bot.fake.message_of_token(&token).unwrap();
    let lines: usize = msg["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap().lines().count())
        .sum();
    assert_eq!(lines, 1, "{msg}");
    // An unlinked member gets told how to link.
    let i = bot.send(fx::slash(
        "sync-user",
        &[fx::user_opt("member", 778)],
        admin(),
    ));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["data"]["flags"], 64, "{cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("/sync-link"),
        "{cb}"
    );
    bot.stop().await;
}

impl TestBot {
    /// Move the schedules' clock to `at` and run what is due, as the loop does each tick;
    /// returns the post the run made in the notify channel and its attachments.
    async fn scheduled_post(&self, at: &str) -> (Value, Vec<support::fake_discord::Attachment>) {
        let running = self.bot.as_ref().expect("running");
        // The first pass arms the schedules at the start time (the loop may have done it).
        running.run_schedules().await;
        let mark = self.fake.mark();
        self.clock.set(at);
        running.run_schedules().await;
        let path = format!("/channels/{NOTIFY_CHANNEL}/messages");
        self.fake
            .wait_for_from(mark, WAIT, "the scheduled post", |c| c.is("POST", &path))
            .await;
        self.fake.last_post_in(NOTIFY_CHANNEL).expect("a post")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_report_posts_the_plan_and_its_apply_button_applies() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"report\"\n",
    )
    .await;
    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(bot.writes(), 0, "a report writes nothing");
    assert!(title(&post).contains("noodle → doodoo"), "{post}");
    let text = description(&post);
    assert!(
        text.contains("Scheduled sync **nightly**") && text.contains("2026-01-10 03:00 UTC"),
        "{text}"
    );
    // The same plan /sync-plan would post, with the same buttons.
    let manual = bot.plan(&[]).await;
    assert_eq!(
        post["embeds"][0]["fields"], manual["embeds"][0]["fields"],
        "same per-account lines as /sync-plan"
    );
    let press = bot
        .press(&post, &button_with(&post, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    let confirm = bot.message(&post);
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &post, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(bot.writes() > 0);
    // The same occurrence does not post again.
    let mark = bot.fake.mark();
    assert_eq!(bot.bot.as_ref().unwrap().run_schedules().await, 0);
    assert!(!bot.fake.calls()[mark..]
        .iter()
        .any(|c| c.is("POST", "/channels/")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_apply_posts_its_results_with_a_csv() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    let before = shares(&bot, "doodoo");
    let (post, files) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert!(
        title(&post).starts_with("Applied: noodle → doodoo"),
        "{post}"
    );
    let text = description(&post);
    for words in [
        "Scheduled sync **nightly** (pair main)",
        "due 2026-01-10 03:00 UTC",
        "took ",
        "account(s) updated",
        "granted",
        "nothing was removed",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    assert!(post["components"].as_array().is_none_or(|c| c.is_empty()));
    let footer = post["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        footer.contains("attached CSV") && !footer.contains("Download"),
        "{footer}"
    );
    let (name, csv) = files.first().expect("the run's results attached");
    assert!(
        name.starts_with("sharesync-run-") && name.ends_with(".csv"),
        "{name}"
    );
    let csv = String::from_utf8(csv.clone()).unwrap();
    assert!(csv.starts_with("account_id,name,planned,result"), "{csv}");
    let after = shares(&bot, "doodoo");
    let granted: usize = after.values().map(|(_, l)| l.len()).sum::<usize>()
        - before.values().map(|(_, l)| l.len()).sum::<usize>();
    assert!(granted > 0);
    assert_eq!(csv.lines().count() - 1, csv.matches(",applied,").count());
    assert!(text.contains(&format!("{granted} librar")), "{text}");
    bot.stop().await;
}

impl TestBot {
    /// Run `/sync-status` as an admin; returns its (ephemeral) follow-up.
    async fn status(&self) -> Value {
        let i = self.send(fx::slash("sync-status", &[], admin()));
        assert_eq!(self.callback(&i).await["type"], 5);
        let token = fx::token(&i);
        self.fake
            .wait_for(WAIT, "the status follow-up", |c| {
                c.is("POST", &format!("/webhooks/1000/{token}"))
            })
            .await
            .body
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_status_shows_the_token_runs_and_next_schedules() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    bot.scheduled_post("2026-01-10T03:00:05Z").await; // one run in the record
    let reply = bot.status().await;
    assert_eq!(reply["flags"].as_u64().unwrap_or(0) & 64, 64, "ephemeral");
    let fields = reply["embeds"][0]["fields"].as_array().unwrap();
    let field = |name: &str| status_field(&reply, name);
    assert!(
        field("Plex token").starts_with("OK: signed in as"),
        "{reply}"
    );
    assert!(field("Servers").contains("doodoo"));
    assert!(
        field("Last runs").contains("#1 apply noodle → doodoo by schedule **nightly**"),
        "{reply}"
    );
    assert!(
        field("Next scheduled runs").contains("**nightly** (apply, pair main): `0 3 * * *` UTC"),
        "{reply}"
    );
    let total: usize = fields
        .iter()
        .map(|f| f["name"].as_str().unwrap().len() + f["value"].as_str().unwrap().chars().count())
        .sum();
    assert!(total < render::MESSAGE_EMBED_TOTAL_MAX);
    assert!(
        !reply.to_string().contains(&bot.sandbox.owner_token()),
        "no token shown"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_apply_over_a_limit_is_posted_to_approve_and_confirm_goes_over_it() {
    // The demo plan updates 5 accounts.
    let bot = TestBot::start_limited(
        Scenario::demo(),
        "max_accounts_per_run = 4",
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(
        bot.writes(),
        0,
        "over the limit, a scheduled apply writes nothing"
    );
    assert!(
        title(&post).starts_with("Sync plan: noodle → doodoo"),
        "{post}"
    );
    let text = description(&post);
    for words in [
        "Not applied: over the blast-radius limit",
        "5 accounts to update, limits.max\\_accounts\\_per\\_run is 4",
        "Press Apply",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let press = bot
        .press(&post, &button_with(&post, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    let confirm = bot.message(&post);
    let text = description(&confirm);
    assert!(
        text.contains("Over the blast-radius limit")
            && text.contains("5 accounts to update, limits.max\\_accounts\\_per\\_run is 4"),
        "the confirm names the numbers: {text}"
    );
    assert_eq!(bot.writes(), 0);
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &post, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(bot.writes() > 0, "Confirm goes over the limit");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_looks_wrong_is_posted_once_and_an_admin_accepts_it() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"hourly\"\npair = \"main\"\ncron = \"0 * * * *\"\nmode = \"apply\"\n",
    )
    .await;
    // The first run applies and leaves a baseline; then plex.tv answers with no shares on doodoo.
    let (first, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert!(title(&first).starts_with("Applied"), "{first}");
    bot.sandbox.with_world(|w| w.take_shares("doodoo", 0));
    let writes = bot.writes();

    let (post, _) = bot.scheduled_post("2026-01-10T04:00:05Z").await;
    assert_eq!(bot.writes(), writes, "nothing written");
    assert!(title(&post).contains("the read looks wrong"), "{post}");
    let text = description(&post);
    for words in [
        "doodoo: ",
        " shares at the last good read, 0 now",
        "UTC) — plex.tv may be answering wrongly; run \\`sharesync doctor --deep\\`",
        "Nothing was planned or written.",
        "plex.tv may be answering wrongly",
        "posted once",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let accept = button_with(&post, "ss:accept-change:");

    // The next occurrence is refused again without a post.
    let running = bot.bot.as_ref().unwrap();
    let mark = bot.fake.mark();
    bot.clock.set("2026-01-10T05:00:05Z");
    assert_eq!(running.run_schedules().await, 1);
    assert!(
        !bot.fake.calls()[mark..]
            .iter()
            .any(|c| c.is("POST", "/channels/")),
        "posted once, not every run"
    );
    assert_eq!(bot.writes(), writes);

    // A non-admin cannot accept; an admin can, and the next run plans from the new baseline.
    let refused = bot.press(&post, &accept, non_admin()).await;
    assert_eq!(bot.callback(&refused).await["data"]["flags"], 64);
    let press = bot.press(&post, &accept, admin()).await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["type"], 7, "{cb}");
    let accepted = cb["data"]["embeds"][0]["description"].as_str().unwrap();
    assert!(
        accepted.contains("accepted doodoo as it is now (0 shares"),
        "{accepted}"
    );
    let (next, _) = bot.scheduled_post("2026-01-10T06:00:05Z").await;
    assert!(!title(&next).contains("looks wrong"), "{next}");
    assert!(
        bot.writes() > writes,
        "planned and applied from the accepted read"
    );
    bot.stop().await;
}

/// A bot with no schedule: a refused /sync-plan carries the admin-only Accept button itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sync_plan_offers_accept_and_the_next_plan_is_made() {
    let bot = TestBot::start().await;
    let first = bot.plan(&[]).await;
    assert!(title(&first).starts_with("Sync plan"), "{first}");
    bot.sandbox.with_world(|w| w.take_shares("doodoo", 0));

    let refused = bot.plan(&[]).await;
    assert!(
        title(&refused).contains("the read looks wrong"),
        "{refused}"
    );
    let text = description(&refused);
    for words in [
        "plex.tv may be answering wrongly",
        "Nothing was planned or written.",
        "accept it below",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let accept = button_with(&refused, "ss:accept-change:");
    let denied = bot.press(&refused, &accept, non_admin()).await;
    assert_eq!(bot.callback(&denied).await["data"]["flags"], 64);
    let press = bot.press(&refused, &accept, admin()).await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["type"], 7, "{cb}");
    let store = sharesync::store::Store::open(bot.config.database_file()).unwrap();
    let dest = bot
        .sandbox
        .world()
        .server_by_name("doodoo")
        .unwrap()
        .machine_id
        .clone();
    let baseline = store
        .read_baseline(&sharesync::model::MachineId(dest))
        .unwrap()
        .unwrap();
    assert_eq!(
        baseline.accepted_by,
        Some(format!("discord:{}", fx::ADMIN_USER)),
        "who accepted is recorded"
    );

    let next = bot.plan(&[]).await;
    assert!(title(&next).starts_with("Sync plan"), "{next}");
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_schedule_posts_the_families_disagreement_and_sync_status_shows_it() {
    use sharesync::sandbox::LegacyDrift;
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"crosscheck\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"check\"\n",
    )
    .await;
    assert!(
        status_field(&bot.status().await, "Last deep check").starts_with("never"),
        "no check yet"
    );
    let world = bot.sandbox.world();
    let mid = world.server_by_name("doodoo").unwrap().machine_id.clone();
    let alice = world.account_by_name("alice").unwrap().id;
    let share = world.share_for(&mid, alice).unwrap().id;
    bot.sandbox
        .with_world(|w| w.legacy_drift.insert(share, LegacyDrift::Hidden));

    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(bot.writes(), 0, "a check never writes");
    assert_eq!(title(&post), "crosscheck: API families disagree", "{post}");
    let text = description(&post);
    assert!(
        text.contains("doodoo: alice has a share through v2 only (legacy does not list it)"),
        "{text}"
    );
    let last = status_field(&bot.status().await, "Last deep check");
    for words in [
        " UTC by schedule **crosscheck**",
        "1 disagreement between v2 and legacy: doodoo: alice has a share through v2 only",
    ] {
        assert!(last.contains(words), "{words:?} not in {last}");
    }
    bot.stop().await;
}

/// Restrictions are access: `/sync-plan` marks and counts the accounts whose
/// destination share is less restricted than their source share, and Apply creates a managed
/// user's new share with the source's filters, leaving every existing share's settings alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_plan_warns_of_looser_shares_and_apply_creates_a_restricted_share() {
    use sharesync::sandbox::SettingsSpec;
    let libs = [("Movies", "movie"), ("TV Shows", "show")];
    let no_horror = || SettingsSpec {
        filter_movies: Some("label!=Horror".into()),
        ..SettingsSpec::default()
    };
    let scenario = Scenario::builder()
        .server("noodle", &libs)
        .server("doodoo", &libs)
        .friend("alice")
        .friend("bob")
        .managed("Kiddo")
        .share("noodle", "alice", ["Movies", "TV Shows"])
        .settings(no_horror())
        .share("doodoo", "alice", ["Movies"])
        .settings(SettingsSpec {
            allow_sync: Some(true),
            ..SettingsSpec::default()
        })
        .share("noodle", "bob", ["Movies"])
        .settings(no_horror())
        .share("doodoo", "bob", ["Movies"])
        .share("noodle", "Kiddo", ["Movies", "TV Shows"])
        .settings(SettingsSpec {
            filter_movies: Some("contentRating=G%2CPG".into()),
            filter_television: Some("contentRating=TV-Y".into()),
            ..SettingsSpec::default()
        })
        .build();
    let bot = TestBot::start_with(scenario).await;
    let before = bot.sandbox.world();
    let msg = bot.plan(&[]).await;
    let d = description(&msg);
    assert!(
        d.contains("🔓 **2** less restricted on doodoo than on noodle"),
        "{d}"
    );
    let fields: Vec<String> = msg["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap().to_string())
        .collect();
    let all = fields.join("\n");
    assert!(all.contains("**alice** 🔓"), "{all}");
    assert!(all.contains("**bob** 🔓"), "{all}");
    assert!(
        !all.contains("**Kiddo** 🔓"),
        "a copied share is not looser: {all}"
    );

    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    bot.callback(&press).await;
    let confirm = bot.message(&msg);
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");

    let after = bot.sandbox.world();
    let doodoo = after.server_by_name("doodoo").unwrap().machine_id.clone();
    let kiddo = after.account_by_name("Kiddo").unwrap().id;
    let created = after.share_for(&doodoo, kiddo).expect("Kiddo's new share");
    assert_eq!(
        created.settings.filter_movies.as_deref(),
        Some("contentRating=G%2CPG")
    );
    assert_eq!(
        created.settings.filter_television.as_deref(),
        Some("contentRating=TV-Y")
    );
    assert!(!created.settings.allow_sync);
    // Existing shares: libraries granted, restrictions exactly as before (never loosened or
    // tightened by sharesync).
    for (id, share) in &before.shares {
        assert_eq!(after.shares[id].settings, share.settings, "share {id}");
    }
    let alice = after.account_by_name("alice").unwrap().id;
    assert_eq!(
        after.share_for(&doodoo, alice).unwrap().section_ids.len(),
        2,
        "alice's grant landed"
    );
    bot.stop().await;
}

/// Signed in with username and password: one sign-in request for the whole process, however
/// many commands (plans, status, autocomplete) and however often; plex.tv locks out an address
/// that signs in again and again, and a two-factor code works once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_session_signs_in_once_over_fifty_commands() {
    let bot = TestBot::start_signed_in_by(
        Scenario::demo(),
        "",
        Some("username = \"sandbox-owner\"\npassword = \"sandbox-password\""),
    )
    .await;
    for n in 0..50 {
        let i = match n % 3 {
            0 => fx::slash("sync-plan", &[], admin()),
            1 => fx::slash("sync-status", &[], admin()),
            _ => fx::autocomplete("sync-user", "plex_user", "al", admin()),
        };
        let i = bot.send(i);
        let cb = bot.callback(&i).await;
        if cb["type"] == 5 {
            let token = fx::token(&i);
            bot.fake
                .wait_for(WAIT, "the follow-up", |c| {
                    c.is("POST", &format!("/webhooks/1000/{token}"))
                })
                .await;
        }
    }
    let sign_ins = bot
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("sign"))
        .count();
    assert_eq!(sign_ins, 1, "one sign-in for fifty commands");
    assert!(
        bot.sandbox.requests().len() > 50,
        "the commands did reach plex.tv"
    );
    bot.stop().await;
}

/// `allowed_channel_ids` set to another channel: an admin's command here is refused privately
/// with the reason, and nothing is read from plex.tv.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_outside_the_allowed_channels_are_refused() {
    let bot = TestBot::start_full(Scenario::demo(), "allowed_channel_ids = [987654321]").await;
    let requests = bot.sandbox.requests().len();
    let i = bot.send(fx::slash("sync-plan", &[], admin()));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["data"]["flags"], 64, "ephemeral: {cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .is_some_and(|t| t.contains("not enabled in this channel")),
        "{cb}"
    );
    assert_eq!(bot.sandbox.requests().len(), requests, "plex.tv not asked");
    bot.stop().await;
}

/// Autocomplete of a Plex user: an admin gets the matching accounts; anyone else gets none
/// (account names and e-mails are not shown to non-admins).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plex_user_autocomplete_lists_matches_for_admins_only() {
    let bot = TestBot::start().await;
    let choices = |cb: &Value| -> Vec<String> {
        cb["data"]["choices"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| c["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    human().await;
    let i = bot.send(fx::autocomplete("sync-user", "plex_user", "ali", admin()));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["type"], 8, "{cb}");
    assert!(choices(&cb).iter().any(|c| c.contains("alice")), "{cb}");
    // A non-admin's autocomplete fails the command check: no choice is ever sent.
    let i = bot.send(fx::autocomplete(
        "sync-user",
        "plex_user",
        "ali",
        non_admin(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let path = format!("/interactions/{}/{}/callback", fx::id(&i), fx::token(&i));
    assert!(
        bot.fake
            .calls()
            .iter()
            .filter(|c| c.is("POST", &path))
            .all(|c| choices(&c.body).is_empty()),
        "no account names for a non-admin"
    );
    bot.stop().await;
}

/// Handlers take "now" from the bot's clock, as the schedules do: a plan's expiry, whether it is
/// still open and the next scheduled runs follow the clock the tests move (set years back, so a
/// handler reading the machine's clock would find the plan long expired).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_take_the_time_from_the_bots_clock() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"report\"\n",
    )
    .await;
    bot.clock.set("2020-02-03T17:41:00Z");
    let plan = bot.plan(&[]).await;
    let footer = plan["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(footer.contains("expires 18:11 UTC"), "{footer}");
    let reply = bot.status().await;
    assert!(
        status_field(&reply, "Next scheduled runs")
            .contains("→ 2020-02-04 03:00 UTC, 2020-02-05 03:00 UTC"),
        "{reply}"
    );
    assert!(
        status_field(&reply, "Open plans").contains("expires 18:11 UTC"),
        "{reply}"
    );
    // The plan is open by the bot's clock: Apply shows the Confirm page.
    let press = bot
        .press(&plan, &button_with(&plan, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    bot.stop().await;
}

/// A session error on `/sync-status` is shown with every secret redacted (here plex.tv's
/// answer to the sign-in contains the configured password).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_status_redacts_secrets_in_a_session_error() {
    let bot = TestBot::start_signed_in_by(
        Scenario::demo(),
        "",
        Some("username = \"sandbox-owner\"\npassword = \"Server\""),
    )
    .await;
    bot.sandbox.inject(Fault::new(
        FaultTarget::PathContains("/users/signin".into()),
        FaultKind::ServerError(418),
        10,
    ));
    let reply = bot.status().await;
    let token = status_field(&reply, "Plex token");
    assert!(
        token.contains("(418)") && token.contains("[redacted]"),
        "{token}"
    );
    assert!(!token.contains("Server"), "{token}");
    bot.stop().await;
}

/// An apply whose run stops on an error says so in the plan's message (the same report path as
/// commands and buttons): the person's words, what was not written, and no token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_stops_on_an_error_says_so_in_its_message() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    let confirm = bot.message(&msg);
    bot.sandbox.with_world(|w| w.tokens.clear());
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert_eq!(title(&done), "Apply failed", "{done}");
    let text = description(&done);
    assert!(
        text.contains("rejected the Plex token")
            && text.contains("Nothing more will be written for this plan."),
        "{text}"
    );
    assert!(!done.to_string().contains(&bot.sandbox.owner_token()));
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}
