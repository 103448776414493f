//! The built `sharesync` binary's apply path against one simulated plex.tv that outlives the
//! processes: `sync --save-plan`, `apply FILE` (stale-checked), `sync --apply`, `runs`,
//! `runs RUN`, and `undo RUN` (refused without confirmation off a terminal, done with --yes).
//! Several processes on one data directory: one writer per destination (the lease), a killed
//! run recorded as interrupted, an undo refused while an apply holds the destination.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use sharesync::sandbox::Scenario;
use sharesync::store::Store;

#[path = "cli_runs/guards.rs"]
mod guards;
#[path = "cli_runs/processes.rs"]
mod processes;
#[path = "cli_runs/runner.rs"]
mod runner;
// Only the plex.tv part of the support: these tests run no bot.
#[path = "support/plex.rs"]
mod plex_support;

use plex_support::{fake, fake_with, stored_baseline, Fake};

/// The binary in `dir` (its data directory is `dir/data`) against the fake, no real config.
fn sharesync(fake: &Fake, dir: &tempfile::TempDir) -> Command {
    Command::from_std(process(fake, dir))
}

/// [`sharesync`] as a process to start and leave running.
fn process(fake: &Fake, dir: &tempfile::TempDir) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharesync"));
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHARESYNC_DATA_DIR", dir.path().join("data"))
        .env("USER", "tester")
        .env("PLEX_TV_URL", fake.sandbox.url())
        .env("PLEX_ACCOUNT_TOKEN", fake.sandbox.owner_token())
        .env("PLEX_SERVER_SOURCE", "noodle")
        .env("PLEX_SERVER_DEST", "doodoo")
        .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0");
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn writes(fake: &Fake) -> usize {
    fake.sandbox
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

fn runs_json(fake: &Fake, dir: &tempfile::TempDir) -> Vec<serde_json::Value> {
    let (ok, out, err) = run(sharesync(fake, dir).args(["runs", "--json"]));
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn save_apply_list_show_and_undo() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();

    // A reviewed plan, then a change on plex.tv: the saved plan is stale, nothing is written.
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode();
        // Plans and the record hold e-mail addresses.
        assert_eq!(mode(dir.path().join("plan.json")) & 0o777, 0o600);
    }
    let before = fake.sandbox.world();
    let mid = before.server_by_name("doodoo").unwrap().machine_id.clone();
    let alice = before.account_by_name("alice").unwrap().id;
    let extra = before
        .server_by_name("doodoo")
        .unwrap()
        .libraries
        .iter()
        .map(|l| l.id)
        .find(|id| {
            !before
                .visible_section_ids(&mid, alice)
                .unwrap_or_default()
                .contains(id)
        })
        .unwrap();
    let original = fake.sandbox.with_world(|w| {
        let share = w
            .shares
            .values_mut()
            .find(|s| s.machine_id == mid && s.account_id == Some(alice))
            .unwrap();
        let original = share.section_ids.clone();
        share.section_ids.insert(extra);
        original
    });
    fake.sandbox.clear_requests();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(!ok, "a stale plan must not apply: {out}");
    assert!(
        err.contains("nothing was written") && err.contains("alice"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);

    // Put it back: the saved plan is current again and applies.
    fake.sandbox.with_world(|w| {
        let share = w
            .shares
            .values_mut()
            .find(|s| s.machine_id == mid && s.account_id == Some(alice))
            .unwrap();
        share.section_ids = original;
    });
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "plan.json"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Summary (run 1):"), "{out}");
    assert!(out.contains("Failures: 0"), "{out}");
    assert!(
        err.contains("alice: written"),
        "plain progress lines off a terminal: {err}"
    );
    let applied_writes = writes(&fake);
    assert!(applied_writes > 0);

    // Converged: `sync --apply` has nothing to do and writes nothing.
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(ok, "{err}");
    assert!(out.contains("Nothing to apply"), "{out}");
    assert_eq!(writes(&fake), applied_writes);

    // The record.
    let (ok, out, _) = run(sharesync(&fake, &dir).arg("runs"));
    assert!(ok);
    assert!(
        out.contains("#1") && out.contains("finished") && out.contains("cli:tester"),
        "{out}"
    );
    let (ok, out, _) = run(sharesync(&fake, &dir).args(["runs", "1"]));
    assert!(ok);
    assert!(out.contains("alice (grant): applied"), "{out}");
    assert!(out.contains("[verified]"), "{out}");
    let (ok, out, _) = run(sharesync(&fake, &dir).args(["runs", "1", "--json"]));
    assert!(ok);
    let detail: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(detail["run"]["status"], "finished");

    // Undo asks first; off a terminal without --yes it refuses and changes nothing.
    let world = fake.sandbox.world();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["undo", "1"]));
    assert!(!ok);
    assert!(out.contains("REMOVES access"), "{out}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(fake.sandbox.world(), world);

    let (ok, out, err) = run(sharesync(&fake, &dir).args(["undo", "1", "--yes"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Library grants removed:"), "{out}");
    let after = fake.sandbox.world();
    for (id, share) in &before.shares {
        // Back to the start: every share the run touched holds what it held before.
        if share.machine_id == mid {
            let now = after
                .shares
                .get(id)
                .expect("pre-existing shares are never deleted");
            assert_eq!(now.section_ids, share.section_ids, "share {id}");
            assert_eq!(now.all_libraries, share.all_libraries);
        }
    }
    assert_eq!(
        after.shares_on(&mid).count(),
        before.shares_on(&mid).count(),
        "shares the run created are deleted"
    );
    let (_, out, _) = run(sharesync(&fake, &dir).arg("runs"));
    assert!(out.contains("undo of run 1"), "{out}");
}

#[test]
fn a_dry_run_plans_when_the_store_cannot_be_opened() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be: the store cannot be opened. (File modes
    // would not do: tests may run as root, who writes anyway.)
    std::fs::create_dir_all(dir.path().join("data/sharesync.sqlite")).unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).arg("sync"));
    assert!(ok, "{err}");
    assert!(out.contains("Will share doodoo with user 'erin'"), "{out}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(err.contains("last good reads"), "{err}");
    assert_eq!(writes(&fake), 0);

    // Applying needs the store (the run is recorded): refused, nothing written.
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--apply"]));
    assert!(!ok);
    assert!(err.contains("sharesync.sqlite"), "{err}");
    assert_eq!(writes(&fake), 0);
}

#[test]
fn doctor_deep_names_every_disagreement_between_the_api_families() {
    use sharesync::sandbox::LegacyDrift;
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["doctor", "--deep"]));
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("ok    deep check   noodle: v2 and legacy agree"),
        "{out}"
    );
    assert!(
        out.contains("ok    deep check   doodoo: v2 and legacy agree"),
        "{out}"
    );

    // The switch: legacy misreports four of doodoo's shares, each in another way.
    let world = fake.sandbox.world();
    let doodoo = world.server_by_name("doodoo").unwrap().clone();
    let share_of = |name: &str| {
        let id = world.account_by_name(name).unwrap().id;
        world.share_for(&doodoo.machine_id, id).unwrap().clone()
    };
    let (alice, bob, carol, dave) = (
        share_of("alice"),
        share_of("bob"),
        share_of("carol"),
        share_of("dave"),
    );
    assert!(carol.all_libraries && dave.pending && !bob.all_libraries);
    let music = doodoo.section_by_title("Music").unwrap().id;
    fake.sandbox.with_world(|w| {
        w.legacy_drift.insert(alice.id, LegacyDrift::Hidden);
        w.legacy_drift
            .insert(bob.id, LegacyDrift::Libraries([music].into()));
        w.legacy_drift
            .insert(carol.id, LegacyDrift::Libraries([music].into()));
        w.legacy_drift.insert(dave.id, LegacyDrift::Pending(false));
    });
    fake.sandbox.clear_requests();
    let (ok, out, _) = run(sharesync(&fake, &dir).args(["doctor", "--deep"]));
    assert!(!ok, "disagreements fail the doctor: {out}");
    for words in [
        "FAIL  deep check   doodoo: alice has a share through v2 only (legacy does not list it)",
        "FAIL  deep check   doodoo: bob sees [",
        "] through v2 but [Music] through legacy",
        "FAIL  deep check   doodoo: carol has all libraries through v2 but a list through legacy: [Music]",
        "FAIL  deep check   doodoo: dave's share is pending through v2 but accepted through legacy",
        "ok    deep check   noodle: v2 and legacy agree",
        "plex.api = \"v2\"",
    ] {
        assert!(out.contains(words), "{words:?} not in {out}");
    }
    assert_eq!(out.matches("FAIL  deep check").count(), 4, "{out}");
    assert_eq!(writes(&fake), 0, "a check never writes");
    let families: std::collections::BTreeSet<bool> = fake
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.contains("shared_servers") || r.path.ends_with("/api/users"))
        .map(|r| r.path.starts_with("/api/v2/"))
        .collect();
    assert_eq!(families.len(), 2, "read through both families");
}

/// A plan saved before plans showed restrictions loads but never applies (its approval did not
/// see them); one whose restrictions object lacks a filter does not load at all.
#[test]
fn a_plan_without_restrictions_is_refused() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    let new_share = plan["users"]
        .as_array()
        .unwrap()
        .iter()
        .position(|u| u["outcome"] == "new_share")
        .expect("the demo plans a new share");
    assert!(plan["users"][new_share]["restrictions"].is_object());

    // An old plan: no `restrictions` on its new shares.
    let mut old = plan.clone();
    for u in old["users"].as_array_mut().unwrap() {
        u.as_object_mut().unwrap().remove("restrictions");
    }
    std::fs::write(dir.path().join("old.json"), old.to_string()).unwrap();
    fake.sandbox.clear_requests();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "old.json"]));
    assert!(!ok, "{out}");
    assert!(
        err.contains("restrictions not shown in the approved plan")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);

    // An incomplete restrictions object.
    let mut partial = plan.clone();
    partial["users"][new_share]["restrictions"]
        .as_object_mut()
        .unwrap()
        .remove("filter_movies");
    std::fs::write(dir.path().join("partial.json"), partial.to_string()).unwrap();
    let (ok, out, err) = run(sharesync(&fake, &dir).args(["apply", "partial.json"]));
    assert!(!ok, "{out}");
    assert!(
        err.contains("not a complete sharesync plan") && err.contains("filter_movies"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);
}

/// `apply FILE` with a plan made for other servers than the pair's (here: the pair reversed)
/// is refused before anything is read for a stale check or written.
#[test]
fn apply_refuses_a_plan_for_other_servers_than_the_pairs() {
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(sharesync(&fake, &dir).args(["sync", "--save-plan", "plan.json"]));
    assert!(ok, "{err}");
    let (ok, out, err) = run(sharesync(&fake, &dir)
        .env("PLEX_SERVER_SOURCE", "doodoo")
        .env("PLEX_SERVER_DEST", "noodle")
        .args(["apply", "plan.json"]));
    assert!(!ok, "{out}");
    assert!(
        err.contains("is a plan from noodle to doodoo") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(writes(&fake), 0);
    assert!(runs_json(&fake, &dir).is_empty());
}
