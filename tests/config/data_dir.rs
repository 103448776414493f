//! Where the store lives: the platform's data directory, an earlier store, a relative
//! `data_dir`, no home directory.

use super::*;

/// This process's directories, but working in `working` (never the checkout, which may hold a
/// leftover ./data store).
fn working_in(working: &std::path::Path) -> Directories {
    Directories {
        working: working.to_path_buf(),
        ..Directories::of_process().unwrap()
    }
}

#[test]
fn the_default_data_dir_is_the_platforms_data_directory() {
    let working = tempfile::tempdir().unwrap();
    let c = Config::load_in(None, &env(&[]), &working_in(working.path())).unwrap();
    let expected = dirs_data_dir();
    assert_eq!(c.data_dir, expected);
    assert!(c.data_dir.is_absolute(), "{}", c.data_dir.display());
    assert_eq!(c.database_file(), expected.join("sharesync.sqlite"));
}

/// What XDG says, computed here from the variables (the crate only finds a home without $HOME).
fn dirs_data_dir() -> std::path::PathBuf {
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .or_else(dirs::home_dir)
        .expect("a home directory");
    xdg.unwrap_or_else(|| home.join(".local/share"))
        .join("sharesync")
}

#[test]
fn an_earlier_data_dir_holding_only_a_saved_login_is_still_used() {
    for file in ["plex-token", "client-identifier", "sharesync.sqlite"] {
        let working = tempfile::tempdir().unwrap();
        let platform = tempfile::tempdir().unwrap();
        std::fs::create_dir(working.path().join("data")).unwrap();
        std::fs::write(working.path().join("data").join(file), "x").unwrap();
        let dirs = Directories {
            working: working.path().to_path_buf(),
            platform_data: Some(platform.path().to_path_buf()),
        };
        let c = Config::load_in(None, &env(&[]), &dirs).unwrap();
        assert_eq!(c.data_dir, working.path().join("data"), "{file}");
        assert!(
            matches!(&c.notices[..], [ConfigNotice::LegacyDataDir { .. }]),
            "{file}: {:?}",
            c.notices
        );
    }
    // An empty ./data is no store.
    let working = tempfile::tempdir().unwrap();
    let platform = tempfile::tempdir().unwrap();
    std::fs::create_dir(working.path().join("data")).unwrap();
    let dirs = Directories {
        working: working.path().to_path_buf(),
        platform_data: Some(platform.path().to_path_buf()),
    };
    let c = Config::load_in(None, &env(&[]), &dirs).unwrap();
    assert_eq!(c.data_dir, platform.path().join("sharesync"));
    assert!(c.notices.is_empty(), "{:?}", c.notices);
}

#[test]
fn a_relative_data_dir_is_relative_to_the_config_file_or_from_the_environment_to_the_working_directory(
) {
    let config_dir = tempfile::tempdir().unwrap();
    let working = tempfile::tempdir().unwrap();
    let file = config_dir.path().join("sharesync.toml");
    std::fs::write(&file, "data_dir = \"data\"\n").unwrap();
    let dirs = working_in(working.path());
    let c = Config::load_in(Some(&file), &env(&[]), &dirs).unwrap();
    assert_eq!(c.data_dir, config_dir.path().join("data"));
    // A relative --config path too.
    let c = Config::load_in(
        Some(std::path::Path::new("sharesync.toml")),
        &env(&[]),
        &working_in(config_dir.path()),
    )
    .unwrap();
    assert_eq!(c.data_dir, config_dir.path().join("data"));
    let c = Config::load_in(Some(&file), &env(&[("SHARESYNC_DATA_DIR", "state")]), &dirs).unwrap();
    assert_eq!(c.data_dir, working.path().join("state"));
}

#[test]
fn with_no_home_directory_the_store_is_in_the_working_directory_with_a_notice() {
    let working = tempfile::tempdir().unwrap();
    let dirs = Directories {
        working: working.path().to_path_buf(),
        platform_data: None,
    };
    let c = Config::load_in(None, &env(&[]), &dirs).unwrap();
    assert_eq!(c.data_dir, working.path().join("data"));
    assert!(c.data_dir.is_absolute());
    let notice = match &c.notices[..] {
        [n @ ConfigNotice::NoHomeDataDir { .. }] => n.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(notice.contains("SHARESYNC_DATA_DIR"), "{notice}");
}
