//! The executor (src/apply) against the simulated plex.tv over loopback HTTP, with the record in
//! a real SQLite file. Every test runs for both API families and ends with `check_wire`, which
//! reads the simulated plex.tv's request log and world: no empty library list, no local key, no
//! settings changed, and nobody lost a library.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use sharesync::apply::{
    apply, plan_undo, undo, ApplyError, ApplyJob, Progress, RetryPolicy, RunReport, UndoAction,
    UndoJob,
};
use sharesync::config::Limits;
use sharesync::model::{AccountId, ServerRef};
use sharesync::plan::{plan, Outcome, Plan, PlanOptions};
use sharesync::plex::{ApiFamily, PlexClient};
use sharesync::sandbox::{
    Fault, FaultKind, FaultTarget, RecordedRequest, Sandbox, Scenario, ScenarioBuilder,
    SettingsRecord, SettingsSpec, ShareRecord, World,
};
use sharesync::session::find_server;
use sharesync::store::{AccountResult, GrantAction, GrantState, RunStatus, Store, Trigger};

mod support;

#[path = "apply/checks.rs"]
mod checks;
#[path = "apply/faults.rs"]
mod faults;
#[path = "apply/fresh_reads.rs"]
mod fresh_reads;
#[path = "apply/property.rs"]
mod property;
#[path = "apply/restrictions.rs"]
mod restrictions;
#[path = "apply/runner.rs"]
mod runner;
#[path = "apply/runs.rs"]
mod runs;
#[path = "apply/undo.rs"]
mod undo;

use checks::*;
use support::{client_options, is_write, FAMILIES};

#[path = "apply/mutants.rs"]
mod mutants;

#[path = "apply/mutants_lease.rs"]
mod mutants_lease;

struct Env {
    sandbox: Sandbox,
    client: PlexClient,
    store: Store,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
    source: ServerRef,
    dest: ServerRef,
    /// The world when the test started (for `check_wire`).
    start: World,
    family: ApiFamily,
    options: PlanOptions,
    limits: Limits,
    trigger: Trigger,
}

fn client_for(sandbox: &Sandbox, family: ApiFamily, timeout: Duration) -> PlexClient {
    let mut opts = client_options(sandbox, family);
    opts.timeout = timeout;
    opts.read_retries = 6;
    PlexClient::new(opts).expect("client")
}

async fn env(scenario: Scenario, family: ApiFamily) -> Env {
    env_with(scenario, family, Duration::from_secs(10)).await
}

async fn env_with(scenario: Scenario, family: ApiFamily, timeout: Duration) -> Env {
    let sandbox = Sandbox::start(scenario).await.expect("sandbox");
    let client = client_for(&sandbox, family, timeout);
    let servers = client.owned_servers().await.expect("servers");
    let source = find_server(&servers, "noodle").expect("noodle");
    let dest = find_server(&servers, "doodoo").expect("doodoo");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/sharesync.sqlite");
    let store = Store::open(&db).unwrap();
    let start = sandbox.world();
    Env {
        sandbox,
        client,
        store,
        db,
        _dir: dir,
        source,
        dest,
        start,
        family,
        options: PlanOptions::default(),
        limits: Limits {
            writes_per_second: 0.0,
            concurrency: 4,
            ..Limits::no_blast_limits()
        },
        trigger: Trigger::cli("tester"),
    }
}

impl Env {
    async fn plan(&self) -> Plan {
        let state = self
            .client
            .read_sharing(&self.source, &self.dest)
            .await
            .expect("read");
        plan(&state, &self.options).expect("plan")
    }

    fn job<'a>(&'a self, approved: &'a Plan) -> ApplyJob<'a> {
        let mut job = ApplyJob::new(
            "main",
            &self.source,
            &self.dest,
            approved,
            &self.options,
            &self.limits,
            &self.trigger,
        );
        job.retry = RetryPolicy::fast();
        job
    }

    async fn apply(&self, approved: &Plan) -> Result<RunReport, ApplyError> {
        apply(&self.client, &self.store, &self.job(approved), |_| {}).await
    }

    /// Plan from fresh state and apply it.
    async fn plan_and_apply(&self) -> (Plan, RunReport) {
        let p = self.plan().await;
        let r = self.apply(&p).await.expect("apply");
        (p, r)
    }

    fn writes(&self) -> Vec<RecordedRequest> {
        self.sandbox
            .requests()
            .into_iter()
            .filter(is_write)
            .collect()
    }

    fn mid(&self, server: &ServerRef) -> String {
        server.machine_id.0.clone()
    }

    fn section(&self, server: &str, title: &str) -> u64 {
        self.sandbox
            .world()
            .section_id(server, title)
            .unwrap_or_else(|| panic!("no {title} on {server}"))
    }

    fn account(&self, name: &str) -> u64 {
        self.sandbox
            .world()
            .account_by_name(name)
            .unwrap_or_else(|| panic!("no account {name}"))
            .id
    }

    /// The owner edits `account`'s share on the destination, as another admin would.
    fn edit_dest_share(&self, account: u64, edit: impl FnOnce(&mut ShareRecord)) {
        let mid = self.mid(&self.dest);
        self.sandbox.with_world(|w| {
            let share = w
                .shares
                .values_mut()
                .find(|s| s.machine_id == mid && s.account_id == Some(account))
                .unwrap();
            edit(share);
        });
    }

    /// `account`'s share on the destination now.
    fn dest_share(&self, account: &str) -> Option<sharesync::sandbox::ShareRecord> {
        self.sandbox
            .world()
            .share_for(&self.mid(&self.dest), self.account(account))
            .cloned()
    }

    fn visible(&self, server: &ServerRef, account: &str) -> Option<BTreeSet<u64>> {
        self.sandbox
            .world()
            .visible_section_ids(&server.machine_id.0, self.account(account))
    }

    fn titles(&self, server: &ServerRef, account: &str) -> Vec<String> {
        let world = self.sandbox.world();
        let srv = world.server(&server.machine_id.0).unwrap();
        let mut t: Vec<String> = self
            .visible(server, account)
            .unwrap_or_default()
            .iter()
            .filter_map(|id| srv.section(*id).map(|s| s.title.clone()))
            .collect();
        t.sort();
        t
    }
}

fn all_applied(report: &RunReport) {
    assert_eq!(report.count(AccountResult::Applied), 4, "{report:#?}");
    assert!(report.summary.verified);
}

/// A hand-made state: every plan outcome, settings and filters on the shares, a managed user.
fn small_scenario() -> Scenario {
    Scenario::builder()
        .server(
            "noodle",
            &[
                ("Movies", "movie"),
                ("TV Shows", "show"),
                ("Music", "artist"),
                ("Kids", "movie"),
            ],
        )
        .server(
            "doodoo",
            &[
                ("Kids", "movie"),
                ("Music", "artist"),
                ("TV Shows", "show"),
                ("Movies", "movie"),
            ],
        )
        .friend("alice")
        .friend("bob")
        .friend("carol")
        .friend("dave")
        .managed("Kiddo")
        .share("noodle", "alice", ["Movies", "TV Shows"])
        .share("doodoo", "alice", ["Music"])
        .settings(sharesync::sandbox::SettingsSpec {
            allow_sync: Some(true),
            filter_movies: Some("contentRating=G%2CPG".into()),
            allow_tuners: Some(2),
            ..Default::default()
        })
        .share_all("noodle", "bob")
        .share("noodle", "carol", ["Music"])
        .pending_share("doodoo", "carol", ["Kids"])
        .share("noodle", "dave", ["Movies"])
        .share_all("doodoo", "dave")
        .share("noodle", "Kiddo", ["Kids"])
        .build()
}
