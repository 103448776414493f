//! Typed configuration: one TOML file, then environment variables (`SHARESYNC_<SECTION>__<KEY>`
//! and the seed script's `PLEX_*` variables). Front ends load `.env` before calling [`Config::load`].
//! An invalid file fails here, with the key and the reason (never a secret's value).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::plan::PlanOptions;
use crate::plex::ApiFamily;

pub const DEFAULT_CONFIG_FILE: &str = "sharesync.toml";

/// The store's directory before it moved to the platform's data directory (relative to the
/// working directory); a store found there is still used, never silently forked.
pub const LEGACY_DATA_DIR: &str = "data";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    /// `line` only, never the line's text: it may hold a secret.
    #[error("config file {path} is not valid TOML at line {line}: {reason}")]
    Syntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("config key `{key}` is invalid: {reason}")]
    Invalid { key: String, reason: String },
    #[error("environment variable {var} is invalid: {reason}")]
    Env { var: String, reason: String },
    #[error(
        "cannot read the working directory: {reason}; run sharesync from a directory that exists"
    )]
    WorkingDir { reason: String },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Something about the configuration a person should know, which does not stop sharesync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigNotice {
    /// A `SHARESYNC_<WORD>` variable that is no config key: ignored. `front_end` are the ones
    /// the front end reads itself ([`Env::front_end_variables`]), also listed as known.
    #[error("environment variable {var} is not a sharesync setting and is ignored; the known ones are {} and SHARESYNC_<SECTION>__<KEY> for the sections {} (e.g. SHARESYNC_LIMITS__CONCURRENCY)", known_variables(front_end), SECTIONS.join(", "))]
    UnknownVariable { var: String, front_end: Vec<String> },
    /// No data_dir is set and the working directory holds an earlier version's store: it is used.
    #[error("using the store in {} (where earlier versions kept it); to keep it there set data_dir = \"{}\" or SHARESYNC_DATA_DIR, or move the directory to {}", legacy.display(), legacy.display(), default.display())]
    LegacyDataDir { legacy: PathBuf, default: PathBuf },
    /// No data_dir is set and there is no home directory to find the platform's data directory.
    #[error("no home directory (HOME is not set and the user has none), so the store is in {}; set data_dir or SHARESYNC_DATA_DIR to keep it elsewhere", dir.display())]
    NoHomeDataDir { dir: PathBuf },
}

/// The directories loading depends on: what relative paths are relative to, and where the
/// platform keeps a user's data. A parameter so tests do not depend on where they run.
#[derive(Debug, Clone)]
pub struct Directories {
    pub working: PathBuf,
    /// `$XDG_DATA_HOME`, `~/.local/share`, …; None with no home directory at all.
    pub platform_data: Option<PathBuf>,
}

impl Directories {
    /// This process's working directory and the platform's data directory.
    pub fn of_process() -> Result<Directories, ConfigError> {
        let working = std::env::current_dir().map_err(|e| ConfigError::WorkingDir {
            reason: e.to_string(),
        })?;
        Ok(Directories {
            working,
            platform_data: dirs::data_dir(),
        })
    }
}

/// The top-level keys that are not sections: the only ones a `SHARESYNC_<KEY>` variable sets.
const TOP_LEVEL_ENV_KEYS: &[&str] = &["data_dir"];
/// The sections a `SHARESYNC_<SECTION>__<KEY>` variable can set.
const SECTIONS: &[&str] = &["plex", "limits", "discord"];
/// Keys whose values are secrets: kept as strings from the environment, never shown in errors.
const SECRET_KEYS: &[&str] = &[
    "plex.token",
    "plex.password",
    "plex.mfa_code",
    "discord.token",
];

/// The single-word variables: the top-level keys', then the front end's own.
fn known_variables(front_end: &[String]) -> String {
    TOP_LEVEL_ENV_KEYS
        .iter()
        .map(|k| format!("{ENV_PREFIX}{}", k.to_uppercase()))
        .chain(front_end.iter().cloned())
        .collect::<Vec<_>>()
        .join(", ")
}

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
    #[serde(default)]
    pub plex: PlexConfig,
    #[serde(default, rename = "pair")]
    pub pairs: Vec<PairConfig>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub discord: Option<DiscordConfig>,
    #[serde(default, rename = "schedule")]
    pub schedules: Vec<ScheduleConfig>,
}

/// The platform's data directory for a user: `$XDG_DATA_HOME/sharesync`, else
/// `~/.local/share/sharesync` (macOS and Windows: their own); `./data` only with no home at all.
/// [`Config::load`] replaces it (with a notice when there is no home).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("sharesync"))
        .unwrap_or_else(|| {
            std::env::current_dir()
                .unwrap_or_default()
                .join(LEGACY_DATA_DIR)
        })
}

/// The data directory when none is configured: an earlier version's `./data` store if there is
/// one (with a notice), else the platform's data directory, else (no home) `./data`, absolute.
fn unconfigured_data_dir(dirs: &Directories, notices: &mut Vec<ConfigNotice>) -> PathBuf {
    let legacy = dirs.working.join(LEGACY_DATA_DIR);
    let Some(platform) = &dirs.platform_data else {
        notices.push(ConfigNotice::NoHomeDataDir {
            dir: legacy.clone(),
        });
        return legacy;
    };
    let default = platform.join("sharesync");
    // `login` and a dry run write only the token and the client identifier: those are a store too.
    let is_store = [DATABASE_FILE, TOKEN_FILE, CLIENT_ID_FILE]
        .iter()
        .any(|f| legacy.join(f).is_file());
    if legacy != default && is_store {
        notices.push(ConfigNotice::LegacyDataDir {
            legacy: legacy.clone(),
            default,
        });
        return legacy;
    }
    default
}

const DATABASE_FILE: &str = "sharesync.sqlite";
const TOKEN_FILE: &str = "plex-token";
const CLIENT_ID_FILE: &str = "client-identifier";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlexConfig {
    pub token: Option<SecretString>,
    /// Replaces both https://plex.tv and https://clients.plex.tv.
    pub url: Option<String>,
    #[serde(default = "default_api")]
    pub api: ApiFamily,
    pub username: Option<String>,
    pub password: Option<SecretString>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    pub name: String,
    /// Server name or machineIdentifier.
    pub source: String,
    pub dest: String,
    #[serde(default = "yes")]
    pub new_share: bool,
    /// New shares carry the source share's restrictions; false: plex.tv's defaults.
    #[serde(default = "yes")]
    pub copy_restrictions: bool,
    #[serde(default)]
    pub require_same_type: bool,
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Writes per second to plex.tv; 0 turns the limiter off.
    #[serde(default = "default_wps")]
    pub writes_per_second: f64,
    /// Writes in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Most accounts one run may update (0: no limit). See [`crate::guard::blast`].
    #[serde(default = "default_max_accounts")]
    pub max_accounts_per_run: usize,
    /// Most destination shares (each an invitation) one run may create (0: no limit).
    #[serde(default = "default_max_new_shares")]
    pub max_new_shares_per_run: usize,
    /// Most of the source's accounts one run may update, 0..=1 (0: no limit); never refuses a
    /// run of [`crate::guard::blast::FRACTION_FLOOR`] accounts or fewer.
    #[serde(default = "default_max_fraction")]
    pub max_fraction: f64,
    /// A destination lease with no heartbeat for this long is taken to be a dead process's and
    /// taken over (its holder renews it every few seconds, even while waiting out a
    /// `Retry-After`).
    #[serde(default = "default_lease_timeout")]
    pub lease_timeout_seconds: u64,
    /// A write is computed from a read of its share at most this old; an older one is read
    /// again (that one share, one request) just before the write.
    #[serde(default = "default_max_snapshot_age")]
    pub max_snapshot_age_seconds: f64,
}

fn default_wps() -> f64 {
    2.0
}
fn default_concurrency() -> usize {
    2
}
fn default_max_accounts() -> usize {
    200
}
fn default_max_new_shares() -> usize {
    50
}
fn default_max_fraction() -> f64 {
    0.5
}
fn default_lease_timeout() -> u64 {
    60
}
fn default_max_snapshot_age() -> f64 {
    5.0
}

impl Limits {
    /// The defaults without the blast-radius limits (executor tests and benchmarks, which
    /// write to hundreds of accounts on purpose).
    pub fn no_blast_limits() -> Limits {
        Limits {
            max_accounts_per_run: 0,
            max_new_shares_per_run: 0,
            max_fraction: 0.0,
            ..Limits::default()
        }
    }

    pub fn max_snapshot_age(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.max_snapshot_age_seconds).unwrap_or_default()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            writes_per_second: default_wps(),
            concurrency: default_concurrency(),
            max_accounts_per_run: default_max_accounts(),
            max_new_shares_per_run: default_max_new_shares(),
            max_fraction: default_max_fraction(),
            lease_timeout_seconds: default_lease_timeout(),
            max_snapshot_age_seconds: default_max_snapshot_age(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    pub token: Option<SecretString>,
    #[serde(default = "default_discord_url")]
    pub api_url: String,
    #[serde(default)]
    pub guild_ids: Vec<u64>,
    #[serde(default)]
    pub admin_role_ids: Vec<u64>,
    pub notify_channel_id: Option<u64>,
    #[serde(default)]
    pub allowed_channel_ids: Vec<u64>,
    #[serde(default = "default_plan_ttl")]
    pub plan_ttl_minutes: u64,
}

fn default_discord_url() -> String {
    "https://discord.com".into()
}
fn default_plan_ttl() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub name: String,
    pub pair: String,
    pub cron: crate::schedule::CronExpr,
    #[serde(default)]
    pub timezone: crate::schedule::TimeZone,
    #[serde(default)]
    pub mode: ScheduleMode,
    pub channel_id: Option<u64>,
    #[serde(default = "yes")]
    pub quiet_when_in_sync: bool,
    /// After downtime, run a missed occurrence once.
    #[serde(default = "yes")]
    pub catch_up: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleMode {
    #[default]
    Report,
    Apply,
    /// Cross-check the pair's servers through both API families (`doctor --deep`); no plan.
    Check,
}

impl ScheduleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleMode::Report => "report",
            ScheduleMode::Apply => "apply",
            ScheduleMode::Check => "check",
        }
    }
}

/// Where variables come from; tests pass a map instead of the process environment.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)>;
    /// `SHARESYNC_` variables the front end reads itself (left out of `vars_with_prefix`), so a
    /// warning about an unknown one can list them.
    fn front_end_variables(&self) -> Vec<String> {
        Vec::new()
    }
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        std::env::vars()
            .filter(|(k, _)| k.starts_with(prefix))
            .collect()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.is_empty())
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

const ENV_PREFIX: &str = "SHARESYNC_";

impl Config {
    /// Load `path` (or `sharesync.toml` if it exists when `path` is None), then the environment.
    pub fn load(path: Option<&Path>, env: &dyn Env) -> Result<Config, ConfigError> {
        Config::load_in(path, env, &Directories::of_process()?)
    }

    /// [`Config::load`] with the given directories. A relative `data_dir` is relative to the
    /// config file's directory when the file sets it (so every command finds the same store
    /// wherever it runs), to the working directory when the environment does.
    pub fn load_in(
        path: Option<&Path>,
        env: &dyn Env,
        dirs: &Directories,
    ) -> Result<Config, ConfigError> {
        let (file, text) = match path {
            Some(p) => (p.to_path_buf(), Some(read(&dirs.working.join(p))?)),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                let full = dirs.working.join(&p);
                let text = if full.exists() {
                    Some(read(&full)?)
                } else {
                    None
                };
                (p, text)
            }
        };
        let mut table: toml::Table = match text {
            Some(t) => parse_table(&file, &t)?,
            None => toml::Table::new(),
        };
        let mut notices = Vec::new();
        let from_env = apply_env(&mut table, env, &mut notices)?;
        let data_dir_set = table.contains_key("data_dir");
        let mut config = deserialize(table, &from_env)?;
        if !data_dir_set {
            config.data_dir = unconfigured_data_dir(dirs, &mut notices);
        } else if config.data_dir.is_relative() {
            let base = match from_env.contains_key("data_dir") {
                true => dirs.working.clone(),
                false => dirs
                    .working
                    .join(&file)
                    .parent()
                    .map_or_else(|| dirs.working.clone(), Path::to_path_buf),
            };
            config.data_dir = base.join(&config.data_dir);
        }
        config.notices = notices;
        config.validate()?;
        Ok(config)
    }

    /// Parse a TOML string with no environment (tests, examples).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let table = parse_table(Path::new("<string>"), text)?;
        let config = deserialize(table, &BTreeMap::new())?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(self.limits.writes_per_second >= 0.0 && self.limits.writes_per_second.is_finite()) {
            return Err(invalid(
                "limits.writes_per_second",
                "must be a number >= 0 (0 turns the limiter off)",
            ));
        }
        if !(0.0..=1.0).contains(&self.limits.max_fraction) {
            return Err(invalid(
                "limits.max_fraction",
                "must be a number from 0 to 1 (0.5: a run may update half the source's accounts; 0 turns it off)",
            ));
        }
        if self.limits.concurrency == 0 {
            return Err(invalid("limits.concurrency", "must be at least 1"));
        }
        if !(self.limits.max_snapshot_age_seconds >= 0.0
            && self.limits.max_snapshot_age_seconds.is_finite())
        {
            return Err(invalid(
                "limits.max_snapshot_age_seconds",
                "must be a number >= 0 (0 reads each share again just before its write)",
            ));
        }
        if self.limits.lease_timeout_seconds < 3 {
            return Err(invalid(
                "limits.lease_timeout_seconds",
                "must be at least 3 (a live holder renews its lease every second or more)",
            ));
        }
        if self.plex.timeout_seconds == 0 {
            return Err(invalid("plex.timeout_seconds", "must be at least 1"));
        }
        if let Some(url) = &self.plex.url {
            check_url("plex.url", url)?;
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, pair) in self.pairs.iter().enumerate() {
            let key = |k: &str| format!("pair[{i}].{k}");
            if pair.name.trim().is_empty() {
                return Err(invalid(key("name"), "must not be empty"));
            }
            if !names.insert(pair.name.to_lowercase()) {
                return Err(invalid(
                    key("name"),
                    format!("'{}' is used by two pairs", pair.name),
                ));
            }
            if pair.source.trim().is_empty() || pair.dest.trim().is_empty() {
                return Err(invalid(key("source"), "source and dest must name a server"));
            }
            if pair.source.trim().eq_ignore_ascii_case(pair.dest.trim()) {
                return Err(invalid(key("dest"), "source and dest are the same server"));
            }
        }
        if let Some(d) = &self.discord {
            check_url("discord.api_url", &d.api_url)?;
            if d.plan_ttl_minutes == 0 {
                return Err(invalid("discord.plan_ttl_minutes", "must be at least 1"));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in self.schedules.iter().enumerate() {
            if s.name.trim().is_empty() {
                return Err(invalid(format!("schedule[{i}].name"), "must not be empty"));
            }
            if !names.insert(s.name.to_lowercase()) {
                return Err(invalid(
                    format!("schedule[{i}].name"),
                    format!("'{}' is used by two schedules", s.name),
                ));
            }
            if s.channel_id == Some(0) {
                return Err(invalid(
                    format!("schedule[{i}].channel_id"),
                    "must be a Discord channel id (right-click the channel → Copy ID)",
                ));
            }
            if !self.pairs.iter().any(|p| p.name == s.pair) {
                return Err(invalid(
                    format!("schedule[{i}].pair"),
                    format!("no [[pair]] is named '{}'", s.pair),
                ));
            }
        }
        Ok(())
    }

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

    pub fn token_file(&self) -> PathBuf {
        self.data_dir.join(TOKEN_FILE)
    }
    pub fn client_id_file(&self) -> PathBuf {
        self.data_dir.join(CLIENT_ID_FILE)
    }
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }
}

/// The typed config from the merged table. An error names the key, or the variable that set it;
/// a secret's value never appears in it.
fn deserialize(
    table: toml::Table,
    from_env: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    let secrets = secret_values(&table);
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        let reason = if SECRET_KEYS.contains(&key.as_str()) {
            "must be text in quotes (the value is a secret and is not shown)".to_string()
        } else {
            redact(e.inner().message(), &secrets)
        };
        // The variable that set this key, or that made up this unknown section.
        let section = format!("{key}.");
        let var = from_env.get(&key).or_else(|| {
            from_env
                .iter()
                .find_map(|(path, var)| path.starts_with(&section).then_some(var))
        });
        match var {
            Some(var) => ConfigError::Env {
                var: var.clone(),
                reason: format!("config key `{key}`: {reason}"),
            },
            None => invalid(key, reason),
        }
    })
}

fn secret_values(table: &toml::Table) -> Vec<String> {
    SECRET_KEYS
        .iter()
        .filter_map(|path| {
            let (section, key) = path.split_once('.')?;
            let value = table.get(section)?.get(key)?;
            Some(match value {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        })
        .filter(|v| !v.is_empty())
        .collect()
}

fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_string(), |t, secret| {
        t.replace(secret.as_str(), "<secret>")
    })
}

fn parse_table(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse().map_err(|e: toml::de::Error| {
        let at = e.span().map_or(0, |s| s.start.min(text.len()));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line: text.as_bytes()[..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1,
            reason: e.message().to_string(),
        }
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(invalid(key, format!("'{url}' is not an http(s) URL"))),
    }
}

/// Layer the environment over the file's table. Returns which config key (`section.key`) each
/// `SHARESYNC_` variable set, so errors can name the variable.
fn apply_env(
    table: &mut toml::Table,
    env: &dyn Env,
    notices: &mut Vec<ConfigNotice>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut from_env = BTreeMap::new();
    // The seed script's variables (and the documented short forms).
    let mut set = |section: Option<&str>, key: &str, value: toml::Value| {
        let target = match section {
            Some(s) => table
                .entry(s)
                .or_insert_with(|| toml::Value::Table(Default::default()))
                .as_table_mut(),
            None => Some(&mut *table),
        };
        if let Some(t) = target {
            t.insert(key.to_string(), value);
        }
    };
    let token = env
        .var("PLEX_ACCOUNT_TOKEN")
        .or_else(|| env.var("PLEX_TOKEN"));
    for (var, key, value) in [
        ("PLEX_ACCOUNT_TOKEN", "token", token),
        ("PLEX_TV_URL", "url", env.var("PLEX_TV_URL")),
        ("PLEX_USERNAME", "username", env.var("PLEX_USERNAME")),
        ("PLEX_PASSWORD", "password", env.var("PLEX_PASSWORD")),
        ("PLEX_2FA_CODE", "mfa_code", env.var("PLEX_2FA_CODE")),
    ] {
        let _ = var;
        if let Some(v) = value {
            set(Some("plex"), key, toml::Value::String(v));
        }
    }
    for (var, key) in [("DISCORD_TOKEN", "token"), ("DISCORD_API_URL", "api_url")] {
        if let Some(v) = env.var(var) {
            set(Some("discord"), key, toml::Value::String(v));
        }
    }

    // SHARESYNC_<SECTION>__<KEY> and SHARESYNC_<KEY> for top-level keys.
    let mut vars = env.vars_with_prefix(ENV_PREFIX);
    vars.sort();
    for (var, raw) in vars {
        let path: Vec<String> = var[ENV_PREFIX.len()..]
            .split("__")
            .map(|p| p.to_lowercase())
            .collect();
        let value = if SECRET_KEYS.contains(&path.join(".").as_str()) {
            // A numeric token or password is still text, and never echoed as a number.
            toml::Value::String(raw)
        } else {
            parse_env_value(&raw)
        };
        match path.as_slice() {
            [key] if TOP_LEVEL_ENV_KEYS.contains(&key.as_str()) => {
                from_env.insert(key.clone(), var);
                table.insert(key.clone(), value);
            }
            // Not a key: another program's variable, or one a front end reads itself.
            [_] => notices.push(ConfigNotice::UnknownVariable {
                var,
                front_end: env.front_end_variables(),
            }),
            [section, key] if !section.is_empty() && !key.is_empty() => {
                from_env.insert(format!("{section}.{key}"), var.clone());
                let entry = table
                    .entry(section.clone())
                    .or_insert_with(|| toml::Value::Table(Default::default()));
                match entry.as_table_mut() {
                    Some(t) => {
                        t.insert(key.clone(), value);
                    }
                    None => {
                        return Err(ConfigError::Env {
                            var,
                            reason: format!("`{section}` is not a section"),
                        })
                    }
                }
            }
            _ => {
                return Err(ConfigError::Env {
                    var,
                    reason: "expected SHARESYNC_<SECTION>__<KEY> or SHARESYNC_<KEY>".into(),
                })
            }
        }
    }

    // PLEX_SERVER_SOURCE / PLEX_SERVER_DEST make a pair when the file names none.
    let no_pairs = table
        .get("pair")
        .and_then(|p| p.as_array())
        .is_none_or(|a| a.is_empty());
    if let (true, Some(source), Some(dest)) = (
        no_pairs,
        env.var("PLEX_SERVER_SOURCE"),
        env.var("PLEX_SERVER_DEST"),
    ) {
        let mut pair = toml::Table::new();
        pair.insert("name".into(), "default".into());
        pair.insert("source".into(), source.into());
        pair.insert("dest".into(), dest.into());
        table.insert(
            "pair".into(),
            toml::Value::Array(vec![toml::Value::Table(pair)]),
        );
    }
    Ok(from_env)
}

/// An environment value as TOML when it parses as a number, bool or array, else a string.
fn parse_env_value(raw: &str) -> toml::Value {
    let trimmed = raw.trim();
    let looks_typed = trimmed.parse::<f64>().is_ok()
        || trimmed == "true"
        || trimmed == "false"
        || trimmed.starts_with('[');
    if looks_typed {
        if let Ok(t) = format!("v = {trimmed}").parse::<toml::Table>() {
            if let Some(v) = t.get("v") {
                return v.clone();
            }
        }
    }
    toml::Value::String(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-kept lists of what the environment can set cover every field of [`Config`].
    #[test]
    fn the_settable_keys_are_the_configs_fields() {
        // deny_unknown_fields: the error lists every field serde knows.
        let e = toml::from_str::<Config>("not_a_field = 1").unwrap_err();
        let message = e.message();
        let listed = message
            .split("expected one of ")
            .nth(1)
            .unwrap_or_else(|| panic!("{message}"));
        let mut fields: Vec<&str> = listed.split(", ").map(|f| f.trim_matches('`')).collect();
        // Arrays of tables, which no variable sets (PLEX_SERVER_SOURCE/DEST make a pair).
        let mut settable: Vec<&str> =
            [TOP_LEVEL_ENV_KEYS, SECTIONS, &["pair", "schedule"]].concat();
        fields.sort();
        settable.sort();
        assert_eq!(fields, settable);
    }
}
