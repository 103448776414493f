//! The simulated plex.tv for the front ends' tests: on its own runtime for the tests that run
//! the built binary, and what a test reads back from the store about it. Each test crate uses a
//! part.
#![allow(dead_code)]

use std::path::Path;

use sharesync::guard::baseline::Baseline;
use sharesync::model::MachineId;
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::store::Store;

/// A sandbox on its own runtime, so the synchronous binary runs can talk to it.
pub struct Fake {
    pub sandbox: Sandbox,
    _runtime: tokio::runtime::Runtime,
}

/// The demo scenario, served.
pub fn fake() -> Fake {
    fake_with(Scenario::demo())
}

/// `scenario`, served.
pub fn fake_with(scenario: Scenario) -> Fake {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime.block_on(Sandbox::start(scenario)).unwrap();
    Fake {
        sandbox,
        _runtime: runtime,
    }
}

/// The read baseline the store in `database` holds for `sandbox`'s server called `server`.
pub fn stored_baseline(database: &Path, sandbox: &Sandbox, server: &str) -> Baseline {
    let store = Store::open(database).unwrap();
    let machine_id = sandbox
        .world()
        .server_by_name(server)
        .unwrap()
        .machine_id
        .clone();
    store
        .read_baseline(&MachineId(machine_id))
        .unwrap()
        .expect("a stored baseline")
}
