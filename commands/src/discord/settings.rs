//! The bot's configuration, checked: every problem named with its key, not just the first.

use poise::serenity_prelude as serenity;
use secrecy::ExposeSecret;
use sharesync::config::Config;

use super::checks::Policy;

pub const PRODUCTION_API: &str = "https://discord.com";

/// What the bot needs from config, checked.
#[derive(Clone)]
pub struct BotSettings {
    pub(super) token: secrecy::SecretString,
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
