//! `sharesync doctor` (one line per check, each failure with its fix) and `sharesync health`
//! (the container health check: store writable, bot connected).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;
use sharesync::config::{Config, DiscordConfig, PairConfig};
use sharesync::guard::deep_check;
use sharesync::model::ServerRef;
use sharesync::model::{
    Access, Account, AccountId, AccountKind, Server, ServerSharing, Share, ShareId, ShareState,
    SharingState,
};
use sharesync::plan::{plan, PlanOptions};
use sharesync::session::Session;
use sharesync::store::Store;

use super::connect::{connect, AuthArgs};

/// How old the bot's heartbeat may be before `health` calls the bot disconnected.
pub const HEARTBEAT_MAX_AGE: Duration = Duration::from_secs(120);

struct Report {
    failed: bool,
}

impl Report {
    fn ok(&mut self, check: &str, detail: impl AsRef<str>) {
        println!("ok    {check:<12} {}", detail.as_ref());
    }
    fn fail(&mut self, check: &str, problem: impl AsRef<str>, fix: impl AsRef<str>) {
        self.failed = true;
        println!("FAIL  {check:<12} {}", problem.as_ref());
        println!("      {:<12} fix: {}", "", fix.as_ref());
    }
    fn note(&mut self, check: &str, what: impl AsRef<str>) {
        println!("note  {check:<12} {}", what.as_ref());
    }
    fn skip(&mut self, check: &str, why: &str) {
        println!("skip  {check:<12} {why}");
    }
}

pub async fn doctor(config_path: Option<&Path>, auth: AuthArgs, deep: bool) -> ExitCode {
    let mut report = Report { failed: false };
    let config = match super::env::read_config(config_path) {
        Ok(c) => {
            let source = config_path
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "defaults, sharesync.toml if present, environment".into());
            report.ok("config", format!("loaded ({source})"));
            for notice in &c.notices {
                report.note("config", notice.to_string());
            }
            c
        }
        Err(e) => {
            report.fail(
                "config",
                e.to_string(),
                "correct that key; config/sharesync.example.toml documents every key",
            );
            return ExitCode::FAILURE;
        }
    };

    let (config, session, _sandbox) = match connect(config.clone(), &auth).await {
        Ok(c) => c,
        Err(e) => {
            check_data_dir(&mut report, &config);
            report.fail("plex token", &e.0, token_fix(&e.0));
            report.skip("servers", "needs a working token");
            check_discord(&mut report, config.discord.as_ref()).await;
            return ExitCode::FAILURE;
        }
    };
    check_data_dir(&mut report, &config);
    report.ok(
        "plex token",
        format!("signed in as {}", session.owner.username),
    );
    check_servers(&mut report, &config, &session).await;
    if deep {
        check_families(&mut report, &config, &session).await;
    }
    check_discord(&mut report, config.discord.as_ref()).await;
    if report.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn token_fix(problem: &str) -> &'static str {
    if problem.contains("two-factor") {
        "pass --mfa-code or set PLEX_2FA_CODE, or use `sharesync login`"
    } else if problem.contains("could not talk") || problem.contains("did not answer") {
        "check the network and plex.url / PLEX_TV_URL"
    } else {
        "run `sharesync login`, or set PLEX_ACCOUNT_TOKEN to a fresh token"
    }
}

fn check_data_dir(report: &mut Report, config: &Config) {
    let dir = &config.data_dir;
    match std::fs::create_dir_all(dir)
        .map_err(|e| e.to_string())
        .and_then(|_| Store::open(config.database_file()).map_err(|e| e.to_string()))
        .and_then(|store| store.check_writable().map_err(|e| e.to_string()))
    {
        Ok(()) => report.ok(
            "data dir",
            format!(
                "{} is writable; store: {}",
                dir.display(),
                config.database_file().display()
            ),
        ),
        Err(e) => report.fail(
            "data dir",
            format!("{}: {e}", dir.display()),
            "make the directory writable by this user, or set data_dir / SHARESYNC_DATA_DIR",
        ),
    }
}

async fn check_servers(report: &mut Report, config: &Config, session: &Session) {
    let servers = match session.client.owned_servers().await {
        Ok(s) => s,
        Err(e) => {
            report.fail("servers", e.to_string(), token_fix(&e.to_string()));
            return;
        }
    };
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    if names.is_empty() {
        report.fail(
            "servers",
            "this account owns no Plex servers",
            "sign in with the account that owns the servers",
        );
        return;
    }
    report.ok("servers", names.join(", "));
    if config.pairs.is_empty() {
        report.skip(
            "pairs",
            "none configured (add a [[pair]] or set PLEX_SERVER_SOURCE and PLEX_SERVER_DEST)",
        );
    }
    for pair in &config.pairs {
        let check = format!("pair {}", pair.name);
        match pair_matches(session, pair).await {
            Ok(line) => report.ok(&check, line),
            Err(e) => report.fail(
                &check,
                e,
                "fix the pair's source/dest names (see `sharesync servers`)",
            ),
        }
    }
}

/// How the pair's libraries match, by planning for one imaginary account that sees every
/// source library and nothing on the destination: the planner's own matching, no extra reads.
async fn pair_matches(session: &Session, pair: &PairConfig) -> Result<String, String> {
    let (source, dest) = session
        .pair_servers(pair)
        .await
        .map_err(|e| e.to_string())?;
    let source = session
        .client
        .server(&source)
        .await
        .map_err(|e| e.to_string())?;
    let dest = session
        .client
        .server(&dest)
        .await
        .map_err(|e| e.to_string())?;
    let probe = AccountId(0);
    let sharing = |server: Server, access: Option<Access>| ServerSharing {
        server,
        shares: access
            .map(|access| {
                let share = Share {
                    id: ShareId(0),
                    account: probe,
                    state: ShareState::Accepted,
                    access,
                    // Known (default) restrictions: a probe with none would not be planned.
                    settings: Some(Default::default()),
                };
                BTreeMap::from([(probe, share)])
            })
            .unwrap_or_default(),
    };
    let (source_name, dest_name, total) = (
        source.name.clone(),
        dest.name.clone(),
        source.libraries.len(),
    );
    let state = SharingState {
        accounts: BTreeMap::from([(
            probe,
            Account {
                id: probe,
                username: None,
                email: None,
                title: "probe".into(),
                kind: AccountKind::Friend,
            },
        )]),
        source: sharing(source, Some(Access::All)),
        dest: sharing(dest, None),
    };
    let options = PlanOptions {
        new_share: true,
        ..pair.plan_options(vec![])
    };
    let p = plan(&state, &options).map_err(|e| e.to_string())?;
    let matched = p.users.first().map(|u| u.add.len()).unwrap_or(0);
    let mut line = format!("{source_name} → {dest_name}: {matched} of {total} libraries match");
    if let Some(u) = p.users.first() {
        for note in &u.notes {
            line.push_str(&format!("; {note}"));
        }
    }
    for w in &p.warnings {
        line.push_str(&format!("; warning: {w}"));
    }
    if matched == 0 {
        return Err(line + " (nothing would ever be granted)");
    }
    Ok(line)
}

async fn check_discord(report: &mut Report, discord: Option<&DiscordConfig>) {
    let Some(d) = discord else {
        report.skip(
            "discord",
            "not configured (the bot needs a [discord] section; see docs/discord.md)",
        );
        return;
    };
    let Some(token) = &d.token else {
        report.fail(
            "discord",
            "no bot token",
            "set discord.token or DISCORD_TOKEN (Developer Portal → Bot → Reset Token)",
        );
        return;
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("an HTTP client builds");
    let base = d.api_url.trim_end_matches('/');
    let auth = format!("Bot {}", token.expose_secret());
    let me = http
        .get(format!("{base}/api/v10/users/@me"))
        .header("Authorization", &auth)
        .send()
        .await;
    match me {
        Ok(r) if r.status().is_success() => {
            let name = r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["username"].as_str().map(str::to_string))
                .unwrap_or_else(|| "the bot".into());
            report.ok("discord", format!("token accepted ({name})"));
        }
        Ok(r) => {
            report.fail(
                "discord",
                format!("Discord rejected the bot token ({})", r.status()),
                "reset the token in the Developer Portal and set discord.token / DISCORD_TOKEN",
            );
            return;
        }
        Err(e) => {
            report.fail(
                "discord",
                format!("cannot reach Discord: {}", e.without_url()),
                "check the network and discord.api_url",
            );
            return;
        }
    }
    if d.admin_role_ids.is_empty() {
        report.fail(
            "admin roles",
            "no admin role ids: nobody could use the bot",
            "set discord.admin_role_ids to the roles allowed to sync",
        );
        return;
    }
    let mut found = std::collections::BTreeSet::new();
    for guild in &d.guild_ids {
        let roles = http
            .get(format!("{base}/api/v10/guilds/{guild}/roles"))
            .header("Authorization", &auth)
            .send()
            .await;
        if let Ok(r) = roles {
            if let Ok(serde_json::Value::Array(roles)) = r.json::<serde_json::Value>().await {
                for role in roles {
                    if let Some(id) = role["id"].as_str().and_then(|i| i.parse::<u64>().ok()) {
                        found.insert(id);
                    }
                }
            }
        }
    }
    let missing: Vec<String> = d
        .admin_role_ids
        .iter()
        .filter(|id| !found.contains(id))
        .map(u64::to_string)
        .collect();
    if missing.is_empty() {
        report.ok(
            "admin roles",
            format!("{} role(s) found", d.admin_role_ids.len()),
        );
    } else {
        report.fail(
            "admin roles",
            format!(
                "role id(s) {} not found in guild(s) {:?}",
                missing.join(", "),
                d.guild_ids
            ),
            "copy the role id with Developer Mode (right-click the role → Copy ID); check discord.guild_ids",
        );
    }
}

/// Exit 0 only when the store is writable and the bot has reported in recently.
pub fn health(config: &Config) -> ExitCode {
    let store = Store::open(config.database_file()).and_then(|s| s.check_writable());
    if let Err(e) = store {
        eprintln!("unhealthy: the store is not writable: {e}");
        return ExitCode::FAILURE;
    }
    let beat = config
        .data_dir
        .join(sharesync_commands::discord::HEARTBEAT_FILE);
    let age = std::fs::metadata(&beat)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok());
    match age {
        Some(age) if age <= HEARTBEAT_MAX_AGE => {
            println!("healthy: store writable, bot connected");
            ExitCode::SUCCESS
        }
        Some(age) => {
            eprintln!("unhealthy: the bot last reported {}s ago", age.as_secs());
            ExitCode::FAILURE
        }
        None => {
            eprintln!("unhealthy: the bot is not running or has not connected to Discord");
            ExitCode::FAILURE
        }
    }
}

/// The servers the deep check reads: those of the configured pairs, else every owned server.
async fn servers_to_check(config: &Config, session: &Session) -> Result<Vec<ServerRef>, String> {
    let mut servers: Vec<ServerRef> = Vec::new();
    for pair in &config.pairs {
        let (source, dest) = session
            .pair_servers(pair)
            .await
            .map_err(|e| e.to_string())?;
        for s in [source, dest] {
            if !servers.iter().any(|k| k.machine_id == s.machine_id) {
                servers.push(s);
            }
        }
    }
    if servers.is_empty() {
        servers = session
            .client
            .owned_servers()
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(servers)
}

/// `--deep`: the same state through v2 and legacy, every disagreement a failure of its own.
async fn check_families(report: &mut Report, config: &Config, session: &Session) {
    const CHECK: &str = "deep check";
    let servers = match servers_to_check(config, session).await {
        Ok(s) => s,
        Err(e) => {
            report.fail(CHECK, e, "fix the pairs first (see above)");
            return;
        }
    };
    let store = match Store::open(config.database_file()) {
        Ok(s) => s,
        Err(e) => {
            report.fail(CHECK, e.to_string(), "fix the data directory (see above)");
            return;
        }
    };
    match deep_check(&session.client, &store, &servers, &super::runs::trigger()).await {
        Ok(check) => {
            for (server, disagreements) in &check.servers {
                if disagreements.is_empty() {
                    report.ok(CHECK, format!("{}: v2 and legacy agree", server.name));
                }
                for d in disagreements {
                    report.fail(
                        CHECK,
                        format!("{}: {d}", server.name),
                        format!(
                            "plex.tv's API families disagree, so one answers wrongly: compare with Plex Web (Manage Library Access); sharesync reads through plex.api = \"{}\", switch it if that family is the wrong one, and hold scheduled applies until they agree",
                            config.plex.api
                        ),
                    );
                }
            }
        }
        Err(e) => report.fail(CHECK, e.to_string(), token_fix(&e.to_string())),
    }
}
