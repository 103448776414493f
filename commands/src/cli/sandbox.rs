//! `--sandbox`: the simulated plex.tv, in-process, so a newcomer sees a real plan with no
//! credentials. The real client talks real HTTP to it on loopback.

use std::path::Path;

use secrecy::SecretString;
use sharesync::config::{Config, PairConfig};
use sharesync::sandbox::{Sandbox, Scenario};

use super::failure::Failure;

/// A running sandbox and its data directory, deleted when the run ends (it holds a token).
pub struct SandboxRun {
    sandbox: Sandbox,
    _data_dir: tempfile::TempDir,
}

impl std::ops::Deref for SandboxRun {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

pub async fn start(config: &mut Config, scenario: Option<&Path>) -> Result<SandboxRun, Failure> {
    let scenario = match scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::demo(),
    };
    let sandbox = Sandbox::start(scenario)
        .await
        .map_err(|e| Failure(format!("cannot start the sandbox: {e}")))?;
    config.plex.url = Some(sandbox.url());
    config.plex.token = Some(SecretString::from(sandbox.owner_token()));
    config.plex.username = None;
    config.plex.password = None;
    // Keep the sandbox's identifier, token and database out of the real data directory.
    let data_dir = tempfile::Builder::new()
        .prefix("sharesync-sandbox-")
        .tempdir()
        .map_err(|e| {
            Failure(format!(
                "cannot make the sandbox's temporary directory: {e}"
            ))
        })?;
    config.data_dir = data_dir.path().to_path_buf();
    // The sandbox's servers are noodle and doodoo; a real config's pairs name other servers.
    config.pairs = vec![PairConfig {
        aliases: [("Movies 4K".to_string(), "4K Movies".to_string())].into(),
        ..PairConfig::between("sandbox", "noodle", "doodoo")
    }];
    Ok(SandboxRun {
        sandbox,
        _data_dir: data_dir,
    })
}
