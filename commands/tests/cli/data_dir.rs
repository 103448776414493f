//! The data directory and the environment: where the store is, an earlier version's store,
//! which variables are read, and what a run leaves behind.

use super::*;

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
