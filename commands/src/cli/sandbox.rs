//! `--sandbox`: the simulated plex.tv, in-process, so a newcomer sees a real plan with no
//! credentials. The real client talks real HTTP to it on loopback.

use std::path::Path;

use secrecy::SecretString;
use sharesync::config::{Config, PairConfig};
use sharesync::sandbox::{Sandbox, Scenario};

use super::Failure;

pub async fn start(config: &mut Config, scenario: Option<&Path>) -> Result<Sandbox, Failure> {
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
    config.data_dir =
        std::env::temp_dir().join(format!("sharesync-sandbox-{}", std::process::id()));
    // The sandbox's servers are noodle and doodoo; a real config's pairs name other servers.
    config.pairs = vec![PairConfig {
        aliases: [("Movies 4K".to_string(), "4K Movies".to_string())].into(),
        ..PairConfig::between("sandbox", "noodle", "doodoo")
    }];
    Ok(sandbox)
}
