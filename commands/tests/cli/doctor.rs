//! `doctor` and `health`: every check passes against the simulated plex.tv, and each failure
//! names its fix.

use super::*;

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
