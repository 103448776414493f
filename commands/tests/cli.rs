//! The built `sharesync` binary against the simulated plex.tv on loopback: the demo, the JSON
//! plan, and every failure a user can cause giving one clear line and a non-zero exit.

use assert_cmd::Command;
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario};

/// A sandbox on its own runtime, so the synchronous binary runs can talk to it.
struct Fake {
    sandbox: Sandbox,
    _runtime: tokio::runtime::Runtime,
}

fn fake() -> Fake {
    fake_with(Scenario::demo())
}

fn fake_with(scenario: Scenario) -> Fake {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime.block_on(Sandbox::start(scenario)).unwrap();
    Fake {
        sandbox,
        _runtime: runtime,
    }
}

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
fn bad_token_is_one_clear_line() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let out = against(&fake, &dir, "not-a-token")
        .args(["sync", "--source", "noodle", "--dest", "doodoo"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "sharesync login");
    assert!(!stderr_of(&out).contains("not-a-token"));
}

#[test]
fn unknown_server_lists_the_owned_servers() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let out = against(&fake, &dir, &fake.sandbox.owner_token())
        .args(["sync", "--source", "noodle", "--dest", "nosuch"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "'nosuch'");
    let err = stderr_of(&out);
    assert!(err.contains("noodle") && err.contains("doodoo"), "{err}");
    assert!(
        !err.contains("friends-server"),
        "lists only owned servers: {err}"
    );

    let out = against(&fake, &dir, &fake.sandbox.owner_token())
        .args(["sync", "--source", "noodle", "--dest", "Noodle"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "same server");
}

#[test]
fn unknown_user_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir)
        .args(["sync", "--sandbox", "--only-user", "nobody-here"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "'nobody-here'");
}

#[test]
fn malformed_config_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sharesync.toml"),
        "[limits]\nconcurrency = \"lots\"\n",
    )
    .unwrap();
    let out = sharesync(&dir)
        .args(["sync", "--sandbox"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "limits.concurrency");
}

#[test]
fn malformed_plex_tv_response_is_one_clear_line() {
    let fake = fake();
    fake.sandbox.inject(Fault {
        target: FaultTarget::PathContains("shared_servers".into()),
        kind: FaultKind::MalformedBody,
        times: 1000,
    });
    let dir = tempfile::tempdir().unwrap();
    let out = against(&fake, &dir, &fake.sandbox.owner_token())
        .args(["sync", "--source", "noodle", "--dest", "doodoo"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "malformed");
}

#[test]
fn no_credentials_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir)
        .env("PLEX_TV_URL", "http://127.0.0.1:9")
        .args(["sync", "--source", "a", "--dest", "b"])
        .output()
        .unwrap();
    assert_one_clear_line(&out, "PLEX_ACCOUNT_TOKEN");
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

fn doctor_config(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("doctor.toml");
    std::fs::write(
        &path,
        "[[pair]]\nname = \"main\"\nsource = \"noodle\"\ndest = \"doodoo\"\naliases = { \"Movies 4K\" = \"4K Movies\" }\n",
    )
    .unwrap();
    path
}

#[test]
fn doctor_passes_every_check_against_the_simulated_plex_tv() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let config = doctor_config(&dir);
    let out = against(&fake, &dir, &fake.sandbox.owner_token())
        .args(["doctor", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", stderr_of(&out));
    for check in ["config", "data dir", "plex token", "servers", "pair main"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok") && l.contains(check)),
            "no ok line for {check}:\n{text}"
        );
    }
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("5 of 7 libraries match"), "{text}");
}

#[test]
fn doctor_names_the_fix_for_a_bad_token() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let config = doctor_config(&dir);
    let out = against(&fake, &dir, "revoked-token")
        .args(["doctor", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let fail = text
        .lines()
        .position(|l| l.starts_with("FAIL") && l.contains("plex token"))
        .unwrap_or_else(|| panic!("no failing token line:\n{text}"));
    let fix = text.lines().nth(fail + 1).unwrap();
    assert!(
        fix.contains("fix:") && fix.contains("sharesync login"),
        "{text}"
    );
    assert!(
        !text.contains("revoked-token"),
        "the token is never printed"
    );
}

#[test]
fn doctor_reports_a_bad_config_as_a_failed_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "[limits]\nconcurrency = 0\n").unwrap();
    let out = sharesync(&dir)
        .args(["doctor", "--config", "bad.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.starts_with("FAIL  config") && text.contains("limits.concurrency"),
        "{text}"
    );
}

#[test]
fn health_fails_without_a_connected_bot() {
    let dir = tempfile::tempdir().unwrap();
    let out = sharesync(&dir).arg("health").output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("bot is not running"),
        "{}",
        stderr_of(&out)
    );
    // A fresh heartbeat and a writable store: healthy.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/bot-heartbeat"), "").unwrap();
    let out = sharesync(&dir).arg("health").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
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

/// Accents (one precomposed, one decomposed) and CJK in server, library, account, pair and
/// schedule names: the tables must still line up on a terminal.
const WIDE_SCENARIO: &str = r#"
[owner]
username = "owner"

[[server]]
name = "東京"
libraries = [
  { title = "Pel\u0069\u0301culas", type = "movie" },
  { title = "映画コレクション", type = "movie" },
  { title = "TV", type = "show" },
]

[[server]]
name = "doodoo"
libraries = [
  { title = "Pel\u00EDculas", type = "movie" },
  { title = "映画コレクション", type = "movie" },
  { title = "TV", type = "show" },
]

[[account]]
username = "山田"

[[share]]
server = "東京"
account = "山田"
libraries = ["Pel\u0069\u0301culas", "映画コレクション"]

[[share]]
server = "doodoo"
account = "山田"
libraries = ["TV"]
"#;

/// Where `needle` starts in `line`, in terminal columns.
fn column_of(line: &str, needle: &str) -> usize {
    let at = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
    unicode_width::UnicodeWidthStr::width(&line[..at])
}

/// Every row's cells start in the terminal column of their header (left-aligned columns).
fn assert_aligned(header: &str, rows: &[(&str, &[&str])], columns: &[&str], text: &str) {
    for (line, cells) in rows {
        for (column, cell) in columns.iter().zip(cells.iter()) {
            assert_eq!(
                column_of(line, cell),
                column_of(header, column),
                "{cell:?} is not under {column:?}:\n{text}"
            );
        }
    }
}

#[test]
fn tables_line_up_with_accents_and_cjk() {
    let fake = fake_with(Scenario::from_toml_str(WIDE_SCENARIO).unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sharesync.toml"),
        "[[pair]]\nname = \"películas\"\nsource = \"東京\"\ndest = \"doodoo\"\n\
         [[schedule]]\nname = \"毎晩の同期\"\npair = \"películas\"\ncron = \"0 3 * * *\"\n\
         [[schedule]]\nname = \"weekly\"\npair = \"películas\"\ncron = \"@weekly\"\n",
    )
    .unwrap();
    let token = fake.sandbox.owner_token();
    let stdout = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };

    let text = stdout(against(&fake, &dir, &token).arg("servers"));
    let lines: Vec<&str> = text.lines().collect();
    let tokyo = lines.iter().position(|l| l.starts_with("東京")).unwrap();
    let header = lines[tokyo + 1];
    let rows: Vec<(&str, &[&str])> = vec![
        (lines[tokyo + 2], &["Pel\u{69}\u{301}culas", "movie"]),
        (lines[tokyo + 3], &["映画コレクション", "movie"]),
        (lines[tokyo + 4], &["TV", "show"]),
    ];
    assert_aligned(header, &rows, &["library", "type"], &text);
    // The numbers are right-aligned: every id ends in the header's last column of "id".
    let id_end = column_of(header, "id") + 2;
    for (line, _) in &rows {
        let end = line[..line.trim_end().rfind(' ').unwrap()].trim_end();
        assert_eq!(unicode_width::UnicodeWidthStr::width(end), id_end, "{text}");
    }

    stdout(
        against(&fake, &dir, &token)
            .env("USER", "José")
            .args(["sync", "--apply"])
            .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0"),
    );
    stdout(
        against(&fake, &dir, &token)
            .env("USER", "山田")
            .args(["sync", "--apply", "--source", "doodoo", "--dest", "東京"])
            .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0"),
    );
    let text = stdout(against(&fake, &dir, &token).arg("runs"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Runs recorded in "), "{text}");
    assert!(
        lines[0].contains(&*dir.path().join("data").to_string_lossy()),
        "{text}"
    );
    let rows: Vec<(&str, &[&str])> = vec![
        (lines[2], &["#2", "apply", "doodoo -> 東京", "cli:山田"]),
        (lines[3], &["#1", "apply", "東京 -> doodoo", "cli:José"]),
    ];
    assert_aligned(lines[1], &rows, &["run", "kind", "servers", "by"], &text);

    let text = stdout(against(&fake, &dir, &token).arg("schedules"));
    let lines: Vec<&str> = text.lines().collect();
    let rows: Vec<(&str, &[&str])> = vec![
        (
            lines[1],
            &["毎晩の同期", "películas", "report", "0 3 * * *"],
        ),
        (
            lines.iter().find(|l| l.starts_with("weekly")).unwrap(),
            &["weekly", "películas", "report", "@weekly"],
        ),
    ];
    assert_aligned(
        lines[0],
        &rows,
        &["schedule", "pair", "mode", "cron"],
        &text,
    );
}

#[test]
fn the_data_directory_is_the_platforms_and_doctor_and_runs_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    let run = |args: &[&str]| {
        sharesync(&dir)
            .env_remove("SHARESYNC_DATA_DIR")
            .env("XDG_DATA_HOME", &xdg)
            .env("HOME", dir.path().join("home"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["runs"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let store = xdg.join("sharesync/sharesync.sqlite");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains(&*store.to_string_lossy()), "{text}");
    let out = run(&["doctor", "--non-interactive"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok    data dir") && l.contains(&*store.to_string_lossy())),
        "{text}"
    );
    assert!(
        store.is_file(),
        "doctor opened the store in the data directory"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing in the working directory"
    );

    // Without XDG_DATA_HOME: ~/.local/share/sharesync.
    let out = sharesync(&dir)
        .env_remove("SHARESYNC_DATA_DIR")
        .env("HOME", dir.path().join("home"))
        .arg("runs")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let home_store = dir
        .path()
        .join("home/.local/share/sharesync/sharesync.sqlite");
    assert!(text.contains(&*home_store.to_string_lossy()), "{text}");
}

#[test]
fn an_earlier_versions_store_in_the_working_directory_is_used_with_a_note() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    // Earlier versions kept the store in ./data: make one with a run in it.
    let out = against(&fake, &dir, &fake.sandbox.owner_token())
        .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0")
        .args(["sync", "--apply", "--source", "noodle", "--dest", "doodoo"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(dir.path().join("data/sharesync.sqlite").is_file());

    let out = sharesync(&dir)
        .env_remove("SHARESYNC_DATA_DIR")
        .env("XDG_DATA_HOME", &xdg)
        .arg("runs")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("#1"), "run 1 is found:\n{text}");
    let err = stderr_of(&out);
    assert!(
        err.contains("using the store in")
            && err.contains(&*xdg.join("sharesync").to_string_lossy()),
        "{err}"
    );
    assert!(!xdg.join("sharesync").exists(), "no second store: {err}");
}

#[test]
fn variables_the_command_line_reads_are_not_config_keys_and_unknown_ones_warn() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("elsewhere.toml"),
        "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n\
         [[schedule]]\nname = \"from-elsewhere\"\npair = \"main\"\ncron = \"@daily\"\n",
    )
    .unwrap();
    let out = sharesync(&dir)
        .env("SHARESYNC_CONFIG", dir.path().join("elsewhere.toml"))
        .env("SHARESYNC_LOG", "warn")
        .env("SHARESYNC_LOG_FORMAT", "json")
        .env("SHARESYNC_TOKEN", "918273645")
        .arg("schedules")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listed.contains("from-elsewhere"),
        "SHARESYNC_CONFIG is used: {listed}"
    );
    let err = stderr_of(&out);
    let warnings: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    let message = warnings[0]["fields"]["message"].as_str().unwrap();
    assert!(
        message.contains("SHARESYNC_TOKEN is not a sharesync setting")
            && message.contains("SHARESYNC_<SECTION>__<KEY>"),
        "{message}"
    );
    // The known ones include the command line's own.
    let known = message.split("the known ones are ").nth(1).unwrap();
    for name in [
        "SHARESYNC_DATA_DIR",
        "SHARESYNC_CONFIG",
        "SHARESYNC_LOG,",
        "SHARESYNC_LOG_FORMAT",
    ] {
        assert!(known.contains(name), "{name} missing: {message}");
    }
    assert!(
        !err.contains("918273645"),
        "a variable's value is never shown"
    );

    // A misspelt section variable still stops start-up, naming the variable and the key.
    let out = sharesync(&dir)
        .env("SHARESYNC_PLEX__TOKN", "918273645")
        .arg("schedules")
        .output()
        .unwrap();
    assert_one_clear_line(&out, "SHARESYNC_PLEX__TOKN");
    assert!(stderr_of(&out).contains("plex.tokn"), "{}", stderr_of(&out));
}

#[test]
fn a_run_that_is_not_in_the_store_names_the_store() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("data/sharesync.sqlite");
    for args in [&["runs", "7"][..], &["undo", "7", "--yes"][..]] {
        let out = against(&fake, &dir, &fake.sandbox.owner_token())
            .args(args)
            .output()
            .unwrap();
        assert_one_clear_line(&out, "no run 7 in the record at ");
        assert!(
            stderr_of(&out).contains(&*store.to_string_lossy()),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
}

#[test]
fn runs_on_a_fresh_data_directory_creates_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("data/sharesync.sqlite");
    let out = sharesync(&dir).arg("runs").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains(&format!(
            "No runs recorded yet (store: {})",
            store.display()
        )),
        "{text}"
    );
    let out = sharesync(&dir).args(["runs", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    let out = sharesync(&dir).args(["runs", "3"]).output().unwrap();
    assert_one_clear_line(&out, "no run 3 in the record at ");
    assert!(
        !dir.path().join("data").exists(),
        "reading the record created the data directory"
    );
}

#[test]
fn a_sandbox_run_leaves_no_directory_behind() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for args in [&["sync", "--sandbox"][..], &["login", "--sandbox"][..]] {
        let out = sharesync(&dir)
            .env("TMPDIR", tmp.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}
