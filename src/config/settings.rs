//! The typed configuration: the whole file ([`Config`]) and its sections other than `[limits]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::error::{invalid, ConfigError, ConfigNotice};
use super::files::{default_data_dir, CLIENT_ID_FILE, DATABASE_FILE, TOKEN_FILE};
use super::limits::Limits;
use crate::plan::PlanOptions;
use crate::plex::ApiFamily;

/// The whole configuration, as loaded (file, then environment).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SQLite file, client identifier, saved token. Default: [`default_data_dir`], or an
    /// earlier version's `./data` store when there is one.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// What loading noticed (unknown variables, an earlier version's store); front ends show them.
    #[serde(skip)]
    pub notices: Vec<ConfigNotice>,
    /// `[plex]`.
    #[serde(default)]
    pub plex: PlexConfig,
    /// Every `[[pair]]`.
    #[serde(default, rename = "pair")]
    pub pairs: Vec<PairConfig>,
    /// `[limits]`.
    #[serde(default)]
    pub limits: Limits,
    /// `[discord]`, when the bot is configured.
    #[serde(default)]
    pub discord: Option<DiscordConfig>,
    /// Every `[[schedule]]`.
    #[serde(default, rename = "schedule")]
    pub schedules: Vec<ScheduleConfig>,
}

/// The `[plex]` section: credentials and how to reach plex.tv.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlexConfig {
    /// The account token (a secret).
    pub token: Option<SecretString>,
    /// Replaces both https://plex.tv and https://clients.plex.tv.
    pub url: Option<String>,
    /// The API family to start with (`v2` or `legacy`).
    #[serde(default = "default_api")]
    pub api: ApiFamily,
    /// Username or e-mail for signing in.
    pub username: Option<String>,
    /// Password for signing in (a secret).
    pub password: Option<SecretString>,
    /// A two-factor code for signing in.
    pub mfa_code: Option<String>,
    /// Seconds before a plex.tv request is abandoned.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_api() -> ApiFamily {
    ApiFamily::V2
}
fn default_timeout() -> u64 {
    30
}

impl Default for PlexConfig {
    fn default() -> Self {
        PlexConfig {
            token: None,
            url: None,
            api: default_api(),
            username: None,
            password: None,
            mfa_code: None,
            timeout_seconds: default_timeout(),
        }
    }
}

/// One `[[pair]]`: a source server synced to a destination by library name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    /// The pair's name (unique, case-insensitive).
    pub name: String,
    /// Server name or machineIdentifier.
    pub source: String,
    /// Server name or machineIdentifier.
    pub dest: String,
    /// Create a destination share for an account that has none.
    #[serde(default = "yes")]
    pub new_share: bool,
    /// New shares carry the source share's restrictions; false: plex.tv's defaults.
    #[serde(default = "yes")]
    pub copy_restrictions: bool,
    /// Refuse to match libraries whose types differ.
    #[serde(default)]
    pub require_same_type: bool,
    /// Source title → destination title, for libraries named differently.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Titles (on either side) never synced.
    #[serde(default)]
    pub exclude: Vec<String>,
}

fn yes() -> bool {
    true
}

impl PairConfig {
    /// A pair with every option at its default (what a config file gets when it sets none).
    pub fn between(name: &str, source: &str, dest: &str) -> PairConfig {
        PairConfig {
            name: name.into(),
            source: source.into(),
            dest: dest.into(),
            new_share: true,
            copy_restrictions: true,
            require_same_type: false,
            aliases: BTreeMap::new(),
            exclude: Vec::new(),
        }
    }

    /// The planner's options for this pair, limited to `only_accounts` (empty: all).
    pub fn plan_options(&self, only_accounts: Vec<String>) -> PlanOptions {
        PlanOptions {
            new_share: self.new_share,
            copy_restrictions: self.copy_restrictions,
            require_same_type: self.require_same_type,
            aliases: self.aliases.clone(),
            exclude: self.exclude.clone(),
            only_accounts,
        }
    }
}

/// The `[discord]` section: the bot's token, guilds, roles and channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The bot token (a secret).
    pub token: Option<SecretString>,
    /// Where Discord's API is (a fake one in tests).
    #[serde(default = "default_discord_url")]
    pub api_url: String,
    /// Guilds (Discord servers) the commands are registered and answered in.
    #[serde(default)]
    pub guild_ids: Vec<u64>,
    /// Roles whose members may use the commands and buttons.
    #[serde(default)]
    pub admin_role_ids: Vec<u64>,
    /// Where announcements go.
    pub notify_channel_id: Option<u64>,
    /// Channels the commands answer in (empty: any).
    #[serde(default)]
    pub allowed_channel_ids: Vec<u64>,
    /// How long a posted plan can be confirmed.
    #[serde(default = "default_plan_ttl")]
    pub plan_ttl_minutes: u64,
}

fn default_discord_url() -> String {
    "https://discord.com".into()
}
fn default_plan_ttl() -> u64 {
    30
}

/// One `[[schedule]]`: a pair planned (and maybe applied or checked) when its cron fires.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// The schedule's name (unique, case-insensitive).
    pub name: String,
    /// The `[[pair]]` it syncs.
    pub pair: String,
    /// When it fires.
    pub cron: crate::cron::CronExpr,
    /// The time zone `cron` is read in.
    #[serde(default)]
    pub timezone: crate::cron::TimeZone,
    /// What it does when it fires.
    #[serde(default)]
    pub mode: ScheduleMode,
    /// Where the bot posts its results (else `notify_channel_id`).
    pub channel_id: Option<u64>,
    /// Post nothing when there is nothing to grant.
    #[serde(default = "yes")]
    pub quiet_when_in_sync: bool,
    /// After downtime, run a missed occurrence once.
    #[serde(default = "yes")]
    pub catch_up: bool,
}

/// What a schedule does when it fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleMode {
    /// Plan and post the plan for approval.
    #[default]
    Report,
    /// Plan and apply.
    Apply,
    /// Cross-check the pair's servers through both API families (`doctor --deep`); no plan.
    Check,
}

impl ScheduleMode {
    /// The config value.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleMode::Report => "report",
            ScheduleMode::Apply => "apply",
            ScheduleMode::Check => "check",
        }
    }
}

impl Config {
    /// The pair to sync: by name, or the only one configured.
    pub fn pair(&self, name: Option<&str>) -> Result<&PairConfig, ConfigError> {
        match name {
            Some(n) => self
                .pairs
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(n))
                .ok_or_else(|| {
                    let known: Vec<&str> = self.pairs.iter().map(|p| p.name.as_str()).collect();
                    invalid(
                        "pair",
                        format!(
                            "no pair is named '{n}'; configured pairs: {}",
                            if known.is_empty() { "none".into() } else { known.join(", ") }
                        ),
                    )
                }),
            None => match self.pairs.as_slice() {
                [one] => Ok(one),
                [] => Err(invalid(
                    "pair",
                    "no source and destination: pass --source and --dest, set PLEX_SERVER_SOURCE and PLEX_SERVER_DEST, or add a [[pair]] to the config",
                )),
                many => Err(invalid(
                    "pair",
                    format!(
                        "several pairs are configured ({}); pick one with --pair",
                        many.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
            },
        }
    }

    /// Where a login saves the account token.
    pub fn token_file(&self) -> PathBuf {
        self.data_dir.join(TOKEN_FILE)
    }
    /// Where the stable client identifier is kept.
    pub fn client_id_file(&self) -> PathBuf {
        self.data_dir.join(CLIENT_ID_FILE)
    }
    /// The SQLite record.
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }
}
