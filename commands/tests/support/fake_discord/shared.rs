//! What the fake's REST routes and gateway connections share: the calls recorded, the messages
//! kept, and the connections open.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::{mpsc, Notify};

/// A file the bot attached: (filename, content).
pub type Attachment = (String, Vec<u8>);

/// One thing the bot did: a REST call, a gateway frame it sent (`method` "WS", `path` the op
/// name), or a dispatch the test sent (`method` "DISPATCH").
#[derive(Debug, Clone)]
pub struct Call {
    pub index: usize,
    pub method: String,
    /// Without the `/api/v10` prefix.
    pub path: String,
    pub body: Value,
    /// Multipart attachments.
    pub files: Vec<Attachment>,
}

impl Call {
    pub fn is(&self, method: &str, path_contains: &str) -> bool {
        self.method == method && self.path.contains(path_contains)
    }
}

#[derive(Default)]
pub(super) struct Shared {
    pub(super) calls: Mutex<Vec<Call>>,
    pub(super) changed: Notify,
    pub(super) next_id: AtomicU64,
    /// Gateway connections, newest last.
    pub(super) conns: Mutex<Vec<mpsc::UnboundedSender<(String, Value)>>>,
    pub(super) messages: Mutex<HashMap<u64, Value>>,
    /// Interaction token → the message its response created or (for a component) is attached to.
    pub(super) by_token: Mutex<HashMap<String, u64>>,
    /// Tokens whose response was "thinking…" (type 5) and not yet filled by a follow-up.
    pub(super) deferred: Mutex<std::collections::HashSet<String>>,
    pub(super) addr: Mutex<Option<SocketAddr>>,
}

/// Records a call and wakes whoever waits for one.
pub(super) fn record(
    shared: &Shared,
    method: &str,
    path: &str,
    body: Value,
    files: Vec<(String, Vec<u8>)>,
) {
    let mut calls = shared.calls.lock().unwrap();
    let index = calls.len();
    calls.push(Call {
        index,
        method: method.to_string(),
        path: path.to_string(),
        body,
        files,
    });
    drop(calls);
    shared.changed.notify_waiters();
}
