//! Scenarios: the starting state of a sandbox, from TOML (`config/sandbox-scenario.toml`
//! documents the format), from a [`ScenarioBuilder`], or generated at scale.

mod builder;
mod generate;
mod resolve;
mod spec;

pub use builder::ScenarioBuilder;
pub use spec::{LibraryRef, SettingsSpec};

use std::path::PathBuf;

use super::world::World;

/// A scenario that cannot be used, naming the offending key (`share[3].libraries[1]`).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, or not the scenario format.
    #[error("scenario: {key}: {message}")]
    Parse {
        /// Where (`share[3].libraries[1]`).
        key: String,
        /// What is wrong there.
        message: String,
    },
    /// Well-formed but inconsistent (an unknown name, an id used twice, …).
    #[error("scenario: {key}: {message}")]
    Invalid {
        /// Where (`share[3].libraries[1]`).
        key: String,
        /// What is wrong there.
        message: String,
    },
}

/// The starting state of a sandbox (auth tokens are issued when it starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    world: World,
}

impl Scenario {
    /// The state a sandbox started from this scenario begins with (no tokens yet).
    pub fn world(&self) -> &World {
        &self.world
    }

    pub(crate) fn into_world(self) -> World {
        self.world
    }
}
