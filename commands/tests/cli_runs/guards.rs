//! The guards before a write: blast-radius limits and a read that lost most shares, refused
//! until accepted.

use super::*;

/// `sync --apply` with the limit variable `limit` set: refused before any write, naming `reason`,
/// that nothing was written and `--allow-large`. Returns the standard output (the plan).
fn refused_over_limit(
    fake: &Fake,
    dir: &tempfile::TempDir,
    limit: (&str, &str),
    reason: &str,
) -> String {
    let (ok, out, err) = run(sharesync(fake, dir)
        .env(limit.0, limit.1)
        .args(["sync", "--apply"]));
    assert!(!ok, "over the limit must fail: {out}");
    assert_eq!(writes(fake), 0, "nothing written over the limit");
    for words in [reason, "Nothing was written", "--allow-large"] {
        assert!(err.contains(words), "{words:?} not in {err}");
    }
    out
}

#[test]
fn over_a_limit_the_cli_refuses_and_allow_large_applies() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    // The demo plan updates 5 accounts.
    let out = refused_over_limit(
        &fake,
        &dir,
        ("SHARESYNC_LIMITS__MAX_ACCOUNTS_PER_RUN", "4"),
        "5 accounts to update, limits.max_accounts_per_run is 4",
    );
    assert!(
        out.contains("Will share doodoo with user 'erin'"),
        "the plan is shown: {out}"
    );

    // A saved plan is held to the same limit.
    let (ok, _, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_NEW_SHARES_PER_RUN", "1")
        .args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    let (ok, _, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_NEW_SHARES_PER_RUN", "1")
        .args(["apply", "plan.json"]));
    assert!(!ok);
    assert!(
        err.contains("2 new shares to create, limits.max_new_shares_per_run is 1"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);

    let (ok, out, err) = run(sharesync(&fake, &dir)
        .env("SHARESYNC_LIMITS__MAX_ACCOUNTS_PER_RUN", "4")
        .args(["sync", "--apply", "--allow-large"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Failures: 0"), "{out}");
    assert!(writes(&fake) > 0);
}

#[test]
fn over_the_fraction_limit_the_cli_refuses() {
    // More than ten accounts to update, so the fraction counts.
    let fake = fake_with(Scenario::generated(40, 4, 3));
    let dir = tempfile::tempdir().unwrap();
    refused_over_limit(
        &fake,
        &dir,
        ("SHARESYNC_LIMITS__MAX_FRACTION", "0.1"),
        "accounts to update, limits.max_fraction is 0.1 (at most 10 per run)",
    );
}

#[test]
fn a_read_that_lost_most_shares_is_refused_until_accepted() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(ok, "the first read is the baseline: {err}");
    let taken = fake.sandbox.with_world(|w| w.take_shares("doodoo", 0));
    // Invites to an address without an account are not shares of an account.
    let before = taken.iter().filter(|s| s.account_id.is_some()).count();
    assert!(before >= 6);
    fake.sandbox.clear_requests();

    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(!ok, "{out}");
    assert_eq!(writes(&fake), 0, "nothing written");
    assert!(out.is_empty(), "nothing planned: {out}");
    for words in [
        format!("doodoo: {before} shares at the last good read, 0 now"),
        "plex.tv may be answering wrongly".into(),
        "sharesync doctor --deep".into(),
        "Nothing was planned or written.".into(),
        "sharesync sync --accept-change".into(),
    ] {
        assert!(err.contains(&words), "{words:?} not in {err}");
    }

    // The change is real: accepted, it is the baseline and later runs plan from it.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--accept-change"]));
    assert!(ok, "{err}");
    assert!(
        err.contains("Accepted as doodoo's new baseline: 0 shares"),
        "{err}"
    );
    assert!(out.contains("Will share doodoo with user 'alice'"), "{out}");
    let (ok, _, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(ok, "{err}");
    assert_eq!(writes(&fake), 0);

    // Who accepted is kept with the baseline and named when a later read falls below it.
    let database = dir.path().join("data/sharesync.sqlite");
    let baseline = stored_baseline(&database, &fake.sandbox, "noodle");
    assert_eq!(baseline.accepted_by.as_deref(), Some("cli:tester"));
    fake.sandbox.with_world(|w| w.take_shares("noodle", 0));
    let (ok, _, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(!ok);
    assert!(
        err.contains("noodle: ") && err.contains(", accepted by cli:tester)"),
        "{err}"
    );
}

#[test]
fn a_saved_plan_is_not_applied_from_a_read_that_lost_most_shares() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    fake.sandbox.with_world(|w| w.take_shares("doodoo", 0));
    fake.sandbox.clear_requests();

    // `apply FILE` from cron: its own fresh read is held to the baselines.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(!ok, "{out}");
    assert_eq!(writes(&fake), 0, "nothing written");
    for words in [
        "doodoo: ",
        "plex.tv may be answering wrongly",
        "sharesync sync --accept-change",
    ] {
        assert!(err.contains(words), "{words:?} not in {err}");
    }
    assert!(
        !err.contains("plan changed"),
        "refused as a bad read: {err}"
    );
    let (_, runs, _) = run(sharesync(&fake, &dir).arg("runs"));
    assert!(!runs.contains("apply"), "no run recorded: {runs}");
}

#[test]
fn accept_change_is_refused_with_apply() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) =
        run(sharesync(&fake, &dir).args(["sync", "--apply", "--allow-large", "--accept-change"]));
    assert!(!ok, "{out}");
    assert!(err.contains("--accept-change"), "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(
        fake.sandbox.requests().is_empty(),
        "nothing read or written"
    );
}
