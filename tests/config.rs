//! Configuration: file, then environment (SHARESYNC_… and the seed script's variables);
//! invalid input fails with the key and the reason.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use sharesync::config::{Config, ConfigError, ConfigNotice, Directories};
use sharesync::plex::ApiFamily;

#[path = "config/data_dir.rs"]
mod data_dir;

fn env(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sharesync.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(Some(&path), &env(vars))
}

const FULL: &str = r#"
data_dir = "state"

[plex]
token = "file-token"
url = "http://127.0.0.1:9"
api = "legacy"

[[pair]]
name = "main"
source = "noodle"
dest = "doodoo"
new_share = false
copy_restrictions = false
aliases = { "Movies 4K" = "4K Movies" }
exclude = ["Home Videos"]

[limits]
writes_per_second = 1.5
concurrency = 3

[discord]
token = "discord-token"
api_url = "http://127.0.0.1:10"
guild_ids = [123]
admin_role_ids = [456]
notify_channel_id = 789
allowed_channel_ids = []
plan_ttl_minutes = 30

[[schedule]]
name = "nightly"
pair = "main"
cron = "0 3 * * *"
timezone = "UTC"
mode = "report"
quiet_when_in_sync = true
"#;

#[test]
fn every_documented_key_loads() {
    let c = load(FULL, &[]).unwrap();
    assert!(c.data_dir.is_absolute() && c.data_dir.ends_with("state"));
    assert_eq!(c.plex.token.as_ref().unwrap().expose_secret(), "file-token");
    assert_eq!(c.plex.api, ApiFamily::Legacy);
    let pair = c.pair(Some("MAIN")).unwrap();
    assert!(!pair.new_share);
    assert!(!pair.copy_restrictions);
    assert!(!pair.plan_options(vec![]).copy_restrictions);
    assert_eq!(pair.aliases["Movies 4K"], "4K Movies");
    assert_eq!(c.limits.concurrency, 3);
    assert_eq!(c.discord.as_ref().unwrap().admin_role_ids, vec![456]);
    assert_eq!(c.schedules[0].name, "nightly");
}

#[test]
fn the_example_config_is_valid() {
    let text = include_str!("../config/sharesync.example.toml");
    let c = Config::from_toml_str(text).unwrap();
    assert_eq!(c.pairs.len(), 1);
}

#[test]
fn a_pair_copies_restrictions_unless_told_not_to() {
    let c = Config::from_toml_str(
        "[plex]\ntoken = \"t\"\n[[pair]]\nname = \"p\"\nsource = \"a\"\ndest = \"b\"\n",
    )
    .unwrap();
    assert!(c.pairs[0].copy_restrictions);
    assert!(c.pairs[0].plan_options(vec![]).copy_restrictions);
}

/// Every key is in the example, and the commented ones parse (unknown keys are refused, so a
/// misspelt key in the example fails here) once uncommented.
#[test]
fn the_example_config_documents_every_key() {
    let text = include_str!("../config/sharesync.example.toml");
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with('[') || rest.split(" = ").count() > 1 => rest,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let c = Config::from_toml_str(&uncommented).unwrap();
    let d = c.discord.as_ref().expect("[discord]");
    assert_eq!(d.admin_role_ids, vec![234567890123456789]);
    assert_eq!(c.schedules[0].cron.to_string(), "0 3 * * *");
    let sections = [
        ("", &["data_dir"][..]),
        (
            "[plex]",
            &[
                "token",
                "url",
                "api",
                "username",
                "password",
                "mfa_code",
                "timeout_seconds",
            ],
        ),
        (
            "[[pair]]",
            &[
                "name",
                "source",
                "dest",
                "new_share",
                "copy_restrictions",
                "require_same_type",
                "aliases",
                "exclude",
            ],
        ),
        (
            "[limits]",
            &[
                "writes_per_second",
                "concurrency",
                "max_accounts_per_run",
                "max_new_shares_per_run",
                "max_fraction",
            ],
        ),
        (
            "[discord]",
            &[
                "token",
                "api_url",
                "guild_ids",
                "admin_role_ids",
                "notify_channel_id",
                "allowed_channel_ids",
                "plan_ttl_minutes",
            ],
        ),
        (
            "[[schedule]]",
            &[
                "name",
                "pair",
                "cron",
                "timezone",
                "mode",
                "channel_id",
                "quiet_when_in_sync",
                "catch_up",
            ],
        ),
    ];
    for (section, keys) in sections {
        let start = uncommented.find(section).expect(section) + section.len();
        let rest = &uncommented[start..];
        let body = &rest[..rest.find("\n[").unwrap_or(rest.len())];
        for key in keys {
            assert!(
                body.lines().any(|l| l.starts_with(&format!("{key} = "))),
                "{section} {key} is not in the example config"
            );
        }
    }
}

#[test]
fn environment_overrides_the_file() {
    let c = load(
        FULL,
        &[
            ("PLEX_ACCOUNT_TOKEN", "env-token"),
            ("SHARESYNC_LIMITS__CONCURRENCY", "7"),
            ("SHARESYNC_PLEX__API", "v2"),
            ("SHARESYNC_DATA_DIR", "/data"),
            ("PLEX_TV_URL", "http://127.0.0.1:11"),
        ],
    )
    .unwrap();
    assert_eq!(c.plex.token.unwrap().expose_secret(), "env-token");
    assert_eq!(c.limits.concurrency, 7);
    assert_eq!(c.plex.api, ApiFamily::V2);
    assert_eq!(c.data_dir.to_str(), Some("/data"));
    assert_eq!(c.plex.url.as_deref(), Some("http://127.0.0.1:11"));
}

#[test]
fn seed_variables_work_without_a_file() {
    let c = Config::load(
        Some(std::path::Path::new("/nonexistent/file.toml")),
        &env(&[]),
    );
    assert!(matches!(c, Err(ConfigError::Read { .. })));

    let c = load(
        "",
        &[
            ("PLEX_TOKEN", "t"),
            ("PLEX_SERVER_SOURCE", "noodle"),
            ("PLEX_SERVER_DEST", "doodoo"),
            ("PLEX_USERNAME", "me"),
            ("PLEX_2FA_CODE", "123456"),
        ],
    )
    .unwrap();
    let pair = c.pair(None).unwrap();
    assert_eq!(
        (pair.source.as_str(), pair.dest.as_str()),
        ("noodle", "doodoo")
    );
    assert_eq!(c.plex.username.as_deref(), Some("me"));
    assert_eq!(c.plex.mfa_code.as_deref(), Some("123456"));
}

#[test]
fn invalid_files_name_the_key_and_the_reason() {
    let err = |text: &str| load(text, &[]).unwrap_err().to_string();
    assert!(err("data_dir = ").contains("not valid TOML"));
    let e = err("[limits]\nconcurrency = \"many\"");
    assert!(e.contains("limits.concurrency"), "{e}");
    let e = err("[limits]\nconcurrency = 0");
    assert!(
        e.contains("limits.concurrency") && e.contains("at least 1"),
        "{e}"
    );
    let e = err("[limits]\nmax_fraction = 1.5");
    assert!(
        e.contains("limits.max_fraction") && e.contains("from 0 to 1"),
        "{e}"
    );
    let e = err("[plex]\ntokn = \"x\"");
    assert!(e.contains("plex") && e.contains("tokn"), "{e}");
    let e = err("[plex]\napi = \"v3\"");
    assert!(e.contains("plex.api"), "{e}");
    let e = err("[[pair]]\nname = \"a\"\nsource = \"x\"\ndest = \"X\"");
    assert!(
        e.contains("pair[0].dest") && e.contains("same server"),
        "{e}"
    );
    let e = err("[[schedule]]\nname = \"n\"\npair = \"nope\"\ncron = \"0 3 * * *\"");
    assert!(e.contains("schedule[0].pair"), "{e}");
    let e = err("[plex]\nurl = \"not a url\"");
    assert!(e.contains("plex.url"), "{e}");
    let e = load("", &[("SHARESYNC_A__B__C", "1")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("SHARESYNC_A__B__C"), "{e}");
}

#[test]
fn pair_selection_explains_what_to_do() {
    let none = load("", &[]).unwrap();
    assert!(none
        .pair(None)
        .unwrap_err()
        .to_string()
        .contains("--source"));
    let two = load(
        "[[pair]]\nname='a'\nsource='x'\ndest='y'\n[[pair]]\nname='b'\nsource='x'\ndest='z'",
        &[],
    )
    .unwrap();
    assert!(two.pair(None).unwrap_err().to_string().contains("--pair"));
    let e = two.pair(Some("c")).unwrap_err().to_string();
    assert!(e.contains("a, b"), "{e}");
}

#[test]
fn secrets_are_not_printed_by_debug() {
    let c = load(FULL, &[]).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("file-token"));
    assert!(!shown.contains("discord-token"));
}

#[test]
fn a_single_word_variable_that_is_no_key_is_a_warning_naming_the_known_keys() {
    let c = load(
        FULL,
        &[
            ("SHARESYNC_CONFIG", "/config/sharesync.toml"),
            ("SHARESYNC_LOG", "debug"),
            ("SHARESYNC_LOG_FORMAT", "json"),
            ("SHARESYNC_DATA_DIR", "/data"),
        ],
    )
    .unwrap();
    assert_eq!(c.data_dir.to_str(), Some("/data"));
    let warned: Vec<&str> = c
        .notices
        .iter()
        .map(|n| match n {
            ConfigNotice::UnknownVariable { var, .. } => var.as_str(),
            other => panic!("unexpected notice {other:?}"),
        })
        .collect();
    assert_eq!(
        warned,
        ["SHARESYNC_CONFIG", "SHARESYNC_LOG", "SHARESYNC_LOG_FORMAT"]
    );
    let text = c.notices[0].to_string();
    for known in [
        "SHARESYNC_CONFIG",
        "SHARESYNC_DATA_DIR",
        "SHARESYNC_<SECTION>__<KEY>",
        "plex, limits, discord",
    ] {
        assert!(text.contains(known), "{known} missing in: {text}");
    }
}

#[test]
fn a_typo_in_a_section_variable_stops_start_up_with_the_variable_key_and_reason() {
    let e = load(FULL, &[("SHARESYNC_PLEX__TOKN", "abc")]).unwrap_err();
    assert!(
        matches!(&e, ConfigError::Env { var, .. } if var == "SHARESYNC_PLEX__TOKN"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("plex.tokn") && text.contains("unknown field"),
        "{text}"
    );
    let e = load(FULL, &[("SHARESYNC_LIMITS__CONCURRENCY", "many")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SHARESYNC_LIMITS__CONCURRENCY") && e.contains("limits.concurrency"),
        "{e}"
    );
    let e = load(FULL, &[("SHARESYNC_PLXE__TOKEN", "abc")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SHARESYNC_PLXE__TOKEN") && e.contains("plxe"),
        "{e}"
    );
}

#[test]
fn numeric_secrets_work_and_never_appear_in_a_config_error() {
    let secrets = [
        ("SHARESYNC_PLEX__TOKEN", "918273645"),
        ("SHARESYNC_PLEX__PASSWORD", "564738291"),
        ("SHARESYNC_DISCORD__TOKEN", "192837465"),
    ];
    let c = load(FULL, &secrets).unwrap();
    assert_eq!(c.plex.token.unwrap().expose_secret(), "918273645");
    assert_eq!(c.plex.password.unwrap().expose_secret(), "564738291");
    assert_eq!(
        c.discord.unwrap().token.unwrap().expose_secret(),
        "192837465"
    );
    // With a secret set, every kind of error: a typo, a bad value, a bad variable.
    let mut errors = Vec::new();
    for bad in [
        ("SHARESYNC_PLEX__TOKN", "1"),
        ("SHARESYNC_PLEX__API", "918273645"),
        ("SHARESYNC_LIMITS__CONCURRENCY", "[564738291]"),
        ("SHARESYNC_A__B__C", "192837465"),
    ] {
        let mut vars = secrets.to_vec();
        vars.push(bad);
        errors.push(load(FULL, &vars).unwrap_err().to_string());
    }
    // A secret of the wrong type in the file names the key, not the value; and files that are
    // not TOML at all around a secret.
    for file in [
        "[plex]\ntoken = 918273645",
        "[plex]\npassword = [564738291]",
        "[discord]\ntoken = 192837465",
        "[plex]\ntoken = 918273645abc",
        "[plex]\npassword = \"564738291",
    ] {
        errors.push(load(file, &[]).unwrap_err().to_string());
    }
    assert!(errors[4].contains("plex.token"), "{}", errors[4]);
    for e in &errors {
        for (_, secret) in secrets {
            assert!(!e.contains(secret), "secret {secret} shown in: {e}");
        }
    }
}

#[test]
fn a_toml_syntax_error_names_the_line_but_never_its_text() {
    let e = load(
        "[plex]\nurl = \"http://127.0.0.1:9\"\ntoken = \"918273645\" 564738291\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not valid TOML at line 3"), "{e}");
    assert!(!e.contains("918273645") && !e.contains("564738291"), "{e}");
}
