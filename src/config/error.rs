//! What stops loading the configuration, and what it notices without stopping.

use std::path::PathBuf;

use super::keys::{known_variables, SECTIONS};

/// Why the configuration cannot be loaded: the key or variable and the reason, never a
/// secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// `line` only, never the line's text: it may hold a secret.
    #[error("config file {path} is not valid TOML at line {line}: {reason}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line of the first error.
        line: usize,
        /// What TOML found wrong.
        reason: String,
    },
    /// A key's value is invalid.
    #[error("config key `{key}` is invalid: {reason}")]
    Invalid {
        /// The key (`section.key`).
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// A variable's value is invalid.
    #[error("environment variable {var} is invalid: {reason}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// The working directory is gone or unreadable.
    #[error(
        "cannot read the working directory: {source}; run sharesync from a directory that exists"
    )]
    WorkingDir {
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
}

pub(super) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Something about the configuration a person should know, which does not stop sharesync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigNotice {
    /// A `SHARESYNC_<WORD>` variable that is no config key: ignored. `front_end` are the ones
    /// the front end reads itself ([`Env::front_end_variables`]), also listed as known.
    #[error("environment variable {var} is not a sharesync setting and is ignored; the known ones are {} and SHARESYNC_<SECTION>__<KEY> for the sections {} (e.g. SHARESYNC_LIMITS__CONCURRENCY)", known_variables(front_end), SECTIONS.join(", "))]
    UnknownVariable {
        /// The variable.
        var: String,
        /// The variables the front end reads itself.
        front_end: Vec<String>,
    },
    /// No data_dir is set and the working directory holds an earlier version's store: it is used.
    #[error("using the store in {} (where earlier versions kept it); to keep it there set data_dir = \"{}\" or SHARESYNC_DATA_DIR, or move the directory to {}", legacy.display(), legacy.display(), default.display())]
    LegacyDataDir {
        /// The earlier version's store, which is used.
        legacy: PathBuf,
        /// Where it would be otherwise.
        default: PathBuf,
    },
    /// No data_dir is set and there is no home directory to find the platform's data directory.
    #[error("no home directory (HOME is not set and the user has none), so the store is in {}; set data_dir or SHARESYNC_DATA_DIR to keep it elsewhere", dir.display())]
    NoHomeDataDir {
        /// Where the store is.
        dir: PathBuf,
    },
}
