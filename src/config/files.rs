//! Where things are kept: the config file's default name, the data directory (and an earlier
//! version's), and the files in it.

use std::path::PathBuf;

use super::error::{ConfigError, ConfigNotice};

/// The config file read when none is named (relative to the working directory).
pub const DEFAULT_CONFIG_FILE: &str = "sharesync.toml";

/// The store's directory before it moved to the platform's data directory (relative to the
/// working directory); a store found there is still used, never silently forked.
pub const LEGACY_DATA_DIR: &str = "data";

/// The directories loading depends on: what relative paths are relative to, and where the
/// platform keeps a user's data. A parameter so tests do not depend on where they run.
#[derive(Debug, Clone)]
pub struct Directories {
    /// What relative paths are relative to.
    pub working: PathBuf,
    /// `$XDG_DATA_HOME`, `~/.local/share`, …; None with no home directory at all.
    pub platform_data: Option<PathBuf>,
}

impl Directories {
    /// This process's working directory and the platform's data directory.
    pub fn of_process() -> Result<Directories, ConfigError> {
        let working =
            std::env::current_dir().map_err(|source| ConfigError::WorkingDir { source })?;
        Ok(Directories {
            working,
            platform_data: dirs::data_dir(),
        })
    }
}

/// The platform's data directory for a user: `$XDG_DATA_HOME/sharesync`, else
/// `~/.local/share/sharesync` (macOS and Windows: their own); `./data` only with no home at all.
/// [`Config::load`] replaces it (with a notice when there is no home).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("sharesync"))
        .unwrap_or_else(|| {
            std::env::current_dir()
                .unwrap_or_default()
                .join(LEGACY_DATA_DIR)
        })
}

/// The data directory when none is configured: an earlier version's `./data` store if there is
/// one (with a notice), else the platform's data directory, else (no home) `./data`, absolute.
pub(super) fn unconfigured_data_dir(
    dirs: &Directories,
    notices: &mut Vec<ConfigNotice>,
) -> PathBuf {
    let legacy = dirs.working.join(LEGACY_DATA_DIR);
    let Some(platform) = &dirs.platform_data else {
        notices.push(ConfigNotice::NoHomeDataDir {
            dir: legacy.clone(),
        });
        return legacy;
    };
    let default = platform.join("sharesync");
    // `login` and a dry run write only the token and the client identifier: those are a store too.
    let is_store = [DATABASE_FILE, TOKEN_FILE, CLIENT_ID_FILE]
        .iter()
        .any(|f| legacy.join(f).is_file());
    if legacy != default && is_store {
        notices.push(ConfigNotice::LegacyDataDir {
            legacy: legacy.clone(),
            default,
        });
        return legacy;
    }
    default
}

pub(super) const DATABASE_FILE: &str = "sharesync.sqlite";
pub(super) const TOKEN_FILE: &str = "plex-token";
pub(super) const CLIENT_ID_FILE: &str = "client-identifier";
