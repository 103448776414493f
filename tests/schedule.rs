//! Scheduled syncs (src/schedule): `run_due` driven at fixed instants against the simulated
//! plex.tv over loopback, with the schedule state in a real SQLite file.

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use sharesync::apply::{DestLease, LeaseSettings, WriteLimiter};
use sharesync::config::Config;
use sharesync::cron::{CronExpr, TimeZone};
use sharesync::model::ServerRef;
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::schedule::{Outcome, ScheduledRun, Scheduler};
use sharesync::session::SharedSession;
use sharesync::store::Store;

#[path = "schedule/guards.rs"]
mod guards;
#[path = "schedule/occurrences.rs"]
mod occurrences;
#[path = "schedule/runner.rs"]
mod runner;
mod support;

use support::{is_write, server_ref};

struct Env {
    sandbox: Sandbox,
    config: Config,
    store: Store,
    _dir: tempfile::TempDir,
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn env(schedule: &str) -> Env {
    env_with(Scenario::demo(), schedule).await
}

async fn env_with(scenario: Scenario, schedule: &str) -> Env {
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(&sandbox, &dir, &sandbox.owner_token(), schedule);
    let store = Store::open(config.database_file()).unwrap();
    Env {
        sandbox,
        config,
        store,
        _dir: dir,
    }
}

fn config_for(sandbox: &Sandbox, dir: &tempfile::TempDir, token: &str, schedule: &str) -> Config {
    Config::from_toml_str(&format!(
        r#"
data_dir = "{dir}"
[plex]
token = "{token}"
url = "{url}"
[limits]
writes_per_second = 0
[[pair]]
name = "main"
source = "noodle"
dest = "doodoo"
aliases = {{ "Movies 4K" = "4K Movies" }}
[[schedule]]
name = "nightly"
pair = "main"
{schedule}
"#,
        dir = dir.path().display(),
        url = sandbox.url(),
    ))
    .unwrap()
}

impl Env {
    /// A scheduler as a process started at `started_at` would make it.
    fn scheduler(&self, started_at: DateTime<Utc>) -> Scheduler {
        Scheduler::new(
            self.config.clone(),
            self.store.clone(),
            Arc::new(SharedSession::new(self.config.clone())),
            Arc::new(WriteLimiter::new(&self.config.limits)),
            started_at,
        )
    }

    fn writes(&self) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| is_write(r))
            .count()
    }

    /// The destination's stored baseline (its last good read's size).
    fn baseline_size(&self) -> sharesync::guard::ReadSize {
        self.store
            .read_baseline(&self.dest().machine_id)
            .unwrap()
            .expect("a baseline")
            .size
    }

    fn dest(&self) -> ServerRef {
        server_ref(&self.sandbox.world(), "doodoo")
    }
}

/// Runs what is due at `now` (RFC 3339) and checks that nothing was.
async fn nothing_due(scheduler: &Scheduler, now: &str) {
    let runs = scheduler.run_due(at(now)).await.unwrap();
    assert!(runs.is_empty(), "nothing is due at {now}: {runs:?}");
}

fn one(runs: Vec<ScheduledRun>) -> ScheduledRun {
    assert_eq!(runs.len(), 1, "expected exactly one run: {runs:?}");
    runs.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_rejected_token_fails_once_with_the_fix_and_writes_nothing() {
    let sandbox = Sandbox::start(Scenario::demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(
        &sandbox,
        &dir,
        "revoked-token",
        "cron = \"0 3 * * *\"\nmode = \"apply\"",
    );
    let store = Store::open(config.database_file()).unwrap();
    let s = Scheduler::new(
        config.clone(),
        store,
        Arc::new(SharedSession::new(config.clone())),
        Arc::new(WriteLimiter::new(&config.limits)),
        at("2026-01-10T02:00:00Z"),
    );
    s.run_due(at("2026-01-10T02:00:00Z")).await.unwrap();
    let run = one(s.run_due(at("2026-01-10T03:00:05Z")).await.unwrap());
    assert!(
        matches!(run.outcome, Outcome::TokenRejected),
        "{:?}",
        run.outcome
    );
    assert_eq!(run.summary(), "failed: plex.tv rejected the Plex token");
    assert!(run.worth_announcing());
    // Not retried every tick: the next attempt is the next occurrence.
    nothing_due(&s, "2026-01-10T03:00:20Z").await;
    assert!(!sandbox.requests().iter().any(is_write));
    // The next occurrence reports it again, from memory: the rejected token is not sent again.
    let asked = sandbox.requests().len();
    let next = one(s.run_due(at("2026-01-11T03:00:05Z")).await.unwrap());
    assert!(matches!(next.outcome, Outcome::TokenRejected));
    assert_eq!(
        sandbox.requests().len(),
        asked,
        "no request with a rejected token"
    );
}

#[test]
fn bad_cron_and_time_zones_fail_at_start_with_the_key() {
    let base = "[[pair]]\nname = \"main\"\nsource = \"a\"\ndest = \"b\"\n[[schedule]]\nname = \"n\"\npair = \"main\"\n";
    for (entry, key, words) in [
        ("cron = \"0 3 * *\"", "schedule[0].cron", "4 fields"),
        (
            "cron = \"0 25 * * *\"",
            "schedule[0].cron",
            "not a cron expression",
        ),
        ("cron = \"0 3 * * * *\"", "schedule[0].cron", "6 fields"),
        (
            "cron = \"0 3 * * *\"\ntimezone = \"Mars/Olympus\"",
            "schedule[0].timezone",
            "IANA",
        ),
        (
            "cron = \"0 3 * * *\"\nmode = \"sometimes\"",
            "schedule[0].mode",
            "report",
        ),
    ] {
        let err = Config::from_toml_str(&format!("{base}{entry}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains(words), "{entry}: {err}");
    }
    let ok = Config::from_toml_str(&format!("{base}cron = \"@daily\"\n")).unwrap();
    let s = &ok.schedules[0];
    assert_eq!(
        s.cron.next_after(s.timezone, at("2026-01-10T12:00:00Z")),
        Some(Utc.with_ymd_and_hms(2026, 1, 11, 0, 0, 0).unwrap())
    );
}

/// A password session whose token check fails for a passing reason (plex.tv answered 503 just
/// after the sign-in) keeps the token it signed in for: the next call checks that token again
/// and never signs in a second time (plex.tv locks out addresses that sign in again and again,
/// and a two-factor code works once).
#[tokio::test]
async fn a_failed_token_check_after_the_sign_in_does_not_sign_in_again() {
    use sharesync::sandbox::{Fault, FaultKind, FaultTarget};
    let sandbox = Sandbox::start(Scenario::demo()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml_str(&format!(
        "data_dir = \"{dir}\"\n[plex]\nusername = \"sandbox-owner\"\npassword = \"sandbox-password\"\nurl = \"{url}\"\n",
        dir = dir.path().display(),
        url = sandbox.url(),
    ))
    .unwrap();
    let session = SharedSession::new(config);
    // The first check and every retry it makes.
    sandbox.inject(Fault::new(
        FaultTarget::Reads,
        FaultKind::ServerError(503),
        4,
    ));
    assert!(session.get().await.is_err(), "the token check met a 503");
    let owner = session
        .get()
        .await
        .expect("the next call checks the token again");
    assert_eq!(owner.owner.username, "sandbox-owner");
    let sign_ins = sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/users/signin"))
        .count();
    assert_eq!(sign_ins, 1, "one sign-in for the process");
}
