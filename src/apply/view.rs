//! The executor's view of the destination: the latest read of who sees what there, shared by
//! every account's write. Re-reads are one `read_server_sharing` for the whole server (a fixed
//! number of requests, whatever the number of accounts), and concurrent callers that need a read
//! newer than some instant share one.

use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use crate::model::{ServerRef, ServerSharing};
use crate::plex::{PlexClient, PlexError};

/// One read of the destination.
#[derive(Debug)]
pub struct Snapshot {
    pub sharing: ServerSharing,
    /// When the read that produced it was started: it reflects every write answered before.
    pub started: Instant,
}

pub struct DestView<'a> {
    client: &'a PlexClient,
    dest: &'a ServerRef,
    current: Mutex<Arc<Snapshot>>,
    reading: tokio::sync::Mutex<()>,
}

impl<'a> DestView<'a> {
    pub fn new(client: &'a PlexClient, dest: &'a ServerRef, first: Snapshot) -> Self {
        DestView {
            client,
            dest,
            current: Mutex::new(Arc::new(first)),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A snapshot whose read started at or after `since`: the current one if it qualifies,
    /// else a new read (one at a time; waiters reuse it).
    pub async fn fresh_since(&self, since: Instant) -> Result<Arc<Snapshot>, PlexError> {
        let _one_reader = self.reading.lock().await;
        let current = self.current();
        if current.started >= since {
            return Ok(current);
        }
        let started = Instant::now();
        let (_accounts, sharing) = self.client.read_server_sharing(self.dest).await?;
        let snapshot = Arc::new(Snapshot { sharing, started });
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = snapshot.clone();
        Ok(snapshot)
    }
}
