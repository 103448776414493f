//! Every failure a user can cause gives one clear line and a non-zero exit.

use super::*;

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
