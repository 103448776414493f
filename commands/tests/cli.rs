//! The built `sharesync` binary against the simulated plex.tv on loopback: the demo, the JSON
//! plan, and every failure a user can cause giving one clear line and a non-zero exit.

use assert_cmd::Command;
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Scenario};

#[path = "cli/data_dir.rs"]
mod data_dir;
#[path = "cli/doctor.rs"]
mod doctor;
#[path = "cli/errors.rs"]
mod errors;
// Only the plex.tv part of the support: these tests run no bot.
#[path = "support/plex.rs"]
mod plex_support;
#[path = "cli/tables.rs"]
mod tables;

use plex_support::{fake, fake_with, Fake};

/// The binary in an empty directory with a clean environment (no real config, no .env) and
/// its data directory at `dir/data`.
fn sharesync(dir: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("sharesync").unwrap();
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHARESYNC_DATA_DIR", dir.path().join("data"));
    cmd
}

fn against(fake: &Fake, dir: &tempfile::TempDir, token: &str) -> Command {
    let mut cmd = sharesync(dir);
    cmd.env("PLEX_TV_URL", fake.sandbox.url())
        .env("PLEX_ACCOUNT_TOKEN", token)
        .env("SHARESYNC_PLEX__TIMEOUT_SECONDS", "5");
    cmd
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn assert_one_clear_line(out: &std::process::Output, needle: &str) {
    assert!(!out.status.success(), "expected failure");
    let err = stderr_of(out);
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn sandbox_demo_prints_the_seed_scripts_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir)
        .args(["sync", "--sandbox"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Source server: noodle (",
        "Destination server: doodoo (",
        "Mode: DRY RUN (no changes will be made)",
        "Scanning users and planning updates:",
        "Summary:",
        "Users updated: ",
        "Library grants added on destination: ",
        "Use --apply to push updates.",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(text.contains("Will add on dest for user"), "{text}");
    // Restrictions: the demo's alice has a looser share on doodoo than on noodle,
    // and new shares say what they will carry.
    for line in [
        "      less restricted on doodoo than on noodle: filterMovies none (on noodle: 'contentRating!=R')",
        "      restrictions of the new share: ",
        "  Less restricted on doodoo than on noodle (never changed by sharesync): 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn sandbox_json_is_plan_schema_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir)
        .args(["sync", "--sandbox", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(plan["schema"], 1);
    assert_eq!(plan["source"]["name"], "noodle");
    assert_eq!(plan["dest"]["name"], "doodoo");
    assert!(plan["source"]["machine_identifier"].as_str().unwrap().len() >= 32);
    let users = plan["users"].as_array().unwrap();
    assert!(!users.is_empty());
    let keys = [
        "account_id",
        "username",
        "email",
        "title",
        "kind",
        "outcome",
        "source_libraries",
        "add",
        "notes",
    ];
    // Additive (schema 1): present only when they have something to say.
    let optional = ["restrictions", "less_restricted"];
    let mut grants = 0;
    for u in users {
        let obj = u.as_object().unwrap();
        for k in keys {
            assert!(obj.contains_key(k), "{k} missing in {u}");
        }
        for k in obj.keys() {
            assert!(
                keys.contains(&k.as_str()) || optional.contains(&k.as_str()),
                "unexpected {k} in {u}"
            );
        }
        // A new share shows the restrictions it will carry.
        assert_eq!(
            u["outcome"] == "new_share",
            obj.contains_key("restrictions"),
            "{u}"
        );
        assert!(["friend", "managed"].contains(&u["kind"].as_str().unwrap()));
        let add: Vec<&str> = u["add"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut sorted = add.clone();
        sorted.sort();
        assert_eq!(add, sorted, "add is sorted");
        grants += add.len();
    }
    assert_eq!(plan["summary"]["grants_to_add"], grants);
    // Every outcome of the demo scenario shows up.
    let outcomes: std::collections::BTreeSet<&str> = users
        .iter()
        .map(|u| u["outcome"].as_str().unwrap())
        .collect();
    for o in [
        "grant",
        "new_share",
        "in_sync",
        "dest_all",
        "pending",
        "no_match",
    ] {
        assert!(outcomes.contains(o), "demo lacks {o}: {outcomes:?}");
    }
    // --only-user narrows to one account.
    let out = sharesync(&dir)
        .args(["sync", "--sandbox", "--json", "--only-user", "ALICE"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["users"].as_array().unwrap().len(), 1);
}

#[test]
fn a_real_plex_tv_url_gets_the_same_plan() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let out = against(&fake, &dir, &fake.sandbox.owner_token())
        .args(["sync", "--source", "NOODLE", "--dest", "doodoo", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["dest"]["name"], "doodoo");
    // The client identifier was generated once and kept beside the data.
    let id = std::fs::read_to_string(dir.path().join("data/client-identifier")).unwrap();
    let sent: Vec<_> = fake
        .sandbox
        .requests()
        .iter()
        .map(|r| r.headers.get("x-plex-client-identifier").cloned())
        .collect();
    assert!(
        sent.iter().all(|h| h.as_deref() == Some(id.trim())),
        "{sent:?}"
    );
}

#[test]
fn servers_lists_ids_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir)
        .args(["servers", "--sandbox", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let servers: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"noodle") && names.contains(&"doodoo"),
        "{names:?}"
    );
    for lib in servers[0]["libraries"].as_array().unwrap() {
        assert_ne!(lib["id"], lib["key"]);
    }
}

#[test]
fn login_saves_a_token_only_the_owner_can_read() {
    // Against the simulated plex.tv (a --sandbox login's directory is deleted when it ends).
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sharesync"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHARESYNC_DATA_DIR", dir.path().join("data"))
        .env("PLEX_TV_URL", fake.sandbox.url())
        .arg("login")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The person enters the code at plex.tv/link once sharesync printed it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let pin = loop {
        if let Some(id) = fake.sandbox.world().pins.keys().next_back().copied() {
            break id;
        }
        assert!(std::time::Instant::now() < deadline, "no PIN was created");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    fake.sandbox.approve_pin(pin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("enter the code"), "{text}");
    assert!(text.contains("Signed in as"), "{text}");
    let path = text
        .split("Token saved to ")
        .nth(1)
        .and_then(|rest| rest.split(" (").next())
        .expect("path printed");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "token file mode {mode:o}");
}

/// The commands `sharesync --help` lists, and the ones README's command table names, agree.
#[test]
fn readme_lists_exactly_the_binarys_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let from_help: std::collections::BTreeSet<String> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    let readme = include_str!("../../README.md");
    let from_readme: std::collections::BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `sharesync "))
        .filter_map(|rest| rest.split(['`', ' ']).next())
        .map(str::to_string)
        .collect();
    assert_eq!(
        from_help, from_readme,
        "README's command table and --help differ"
    );
}

#[test]
fn bot_with_an_incomplete_discord_config_names_every_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sharesync.toml"),
        "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n[discord]\nguild_ids = [1]\n",
    )
    .unwrap();
    let out = sharesync(&dir).arg("bot").output().unwrap();
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(err.contains("config key `discord.token`"), "{err}");
    assert!(err.contains("config key `discord.admin_role_ids`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn schedules_lists_the_next_occurrences_in_their_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sharesync.toml"),
        "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n\
         [[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"30 4 * * *\"\ntimezone = \"Asia/Kolkata\"\nmode = \"apply\"\n",
    )
    .unwrap();
    let out = sharesync(&dir)
        .args(["schedules", "--next", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text.lines().nth(1).unwrap_or_default();
    for cell in [
        "nightly",
        "main",
        "apply, quiet when in sync",
        "30 4 * * * in Asia/Kolkata",
    ] {
        assert!(row.contains(cell), "{cell:?} missing in:\n{text}");
    }
    // 04:30 in Kolkata (UTC+5:30) is 23:00 UTC the day before.
    assert_eq!(text.matches("04:30 IST (23:00 UTC)").count(), 2, "{text}");
    assert!(row.ends_with("never run"), "{text}");
    assert!(
        !dir.path().join("data").exists(),
        "listing created a database"
    );
}

#[test]
fn a_bad_cron_expression_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sharesync.toml"),
        "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n\
         [[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"every night\"\n",
    )
    .unwrap();
    let out = sharesync(&dir).arg("schedules").output().unwrap();
    assert_one_clear_line(&out, "schedule[0].cron");
}
