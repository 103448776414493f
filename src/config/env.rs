//! The environment layered over the file: `SHARESYNC_<SECTION>__<KEY>`, `SHARESYNC_<KEY>` and
//! the seed script's `PLEX_*` / `DISCORD_*` variables.

use std::collections::BTreeMap;

use super::error::{ConfigError, ConfigNotice};
use super::keys::{ENV_PREFIX, SECRET_KEYS, TOP_LEVEL_ENV_KEYS};

/// Where variables come from; tests pass a map instead of the process environment.
pub trait Env {
    /// The variable `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable whose name starts with `prefix`, with its value.
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)>;
    /// `SHARESYNC_` variables the front end reads itself (left out of `vars_with_prefix`), so a
    /// warning about an unknown one can list them.
    fn front_end_variables(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The process environment.
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

/// Layer the environment over the file's table. Returns which config key (`section.key`) each
/// `SHARESYNC_` variable set, so errors can name the variable.
pub(super) fn apply_env(
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
