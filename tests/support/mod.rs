//! Setup the engine's test crates share: a plex.tv client signed in to the simulated plex.tv as
//! its owner, servers by name, and the share writes in its request log. Each crate uses a part.
#![allow(dead_code)]

use std::time::Duration;

use secrecy::SecretString;
use sharesync::model::{MachineId, ServerRef};
use sharesync::plex::{ApiFamily, ClientOptions};
use sharesync::sandbox::{RecordedRequest, Sandbox, World};

/// Both API families: the tests that talk to plex.tv run in each.
pub const FAMILIES: [ApiFamily; 2] = [ApiFamily::V2, ApiFamily::Legacy];

/// The client identifier the tests' clients send.
pub const CLIENT_ID: &str = "client-test-0001";

/// Options for a client of `family` talking to `sandbox` with the owner's token.
pub fn client_options(sandbox: &Sandbox, family: ApiFamily) -> ClientOptions {
    let mut o = ClientOptions::new(CLIENT_ID);
    o.base_url = Some(sandbox.url());
    o.family = family;
    o.token = Some(SecretString::from(sandbox.owner_token()));
    o.timeout = Duration::from_secs(10);
    o
}

/// The server called `name` in `world`, as the engine refers to it.
pub fn server_ref(world: &World, name: &str) -> ServerRef {
    let s = world.server_by_name(name).unwrap();
    ServerRef {
        name: s.name.clone(),
        machine_id: MachineId(s.machine_id.clone()),
    }
}

/// A request that creates, updates or deletes a share.
pub fn is_write(r: &RecordedRequest) -> bool {
    r.method != "GET" && r.path.contains("shared_servers")
}
