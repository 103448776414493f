//! Loading: the file (or `sharesync.toml`), the environment over it, the typed result checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::env::{apply_env, Env};
use super::error::{invalid, ConfigError};
use super::files::{unconfigured_data_dir, Directories, DEFAULT_CONFIG_FILE};
use super::keys::SECRET_KEYS;
use super::settings::Config;

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
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(invalid(key, format!("'{url}' is not an http(s) URL"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys::{SECTIONS, TOP_LEVEL_ENV_KEYS};

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
