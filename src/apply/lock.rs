//! One run at a time per destination server: the lock every front end (a Discord button, a
//! schedule) takes before applying, so two runs never interleave their writes to one server.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::model::{MachineId, ServerRef};
use crate::store::{RunId, Store, StoreError};

/// Destinations with a run in flight in this process. Cheap to clone; clones share the set.
#[derive(Debug, Clone, Default)]
pub struct DestLocks {
    held: Arc<Mutex<HashSet<MachineId>>>,
}

/// Held while a run on one destination is in flight; dropping it lets the next run start.
#[derive(Debug)]
pub struct DestGuard {
    held: Arc<Mutex<HashSet<MachineId>>>,
    dest: MachineId,
}

/// Why a destination cannot take a run now.
#[derive(Debug, thiserror::Error)]
pub enum Busy {
    #[error("a run on {0} is already in progress; wait for it to finish")]
    Here(String),
    #[error("run {run} on {dest} is still in progress (started elsewhere, such as the CLI); wait for it to finish")]
    Recorded { dest: String, run: RunId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DestLocks {
    /// Take `dest` for one run: refused while this process runs on it, or while the record
    /// shows a run in progress there (another process: the CLI beside the bot).
    pub fn acquire(&self, store: &Store, dest: &ServerRef) -> Result<DestGuard, Busy> {
        let guard = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            if !held.insert(dest.machine_id.clone()) {
                return Err(Busy::Here(dest.name.clone()));
            }
            DestGuard {
                held: self.held.clone(),
                dest: dest.machine_id.clone(),
            }
        };
        if let Some(run) = store.run_in_progress_on(&dest.machine_id)? {
            return Err(Busy::Recorded {
                dest: dest.name.clone(),
                run,
            });
        }
        Ok(guard)
    }
}

impl Drop for DestGuard {
    fn drop(&mut self) {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.dest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_per_destination_until_the_guard_drops() {
        let store = Store::open_in_memory().unwrap();
        let locks = DestLocks::default();
        let a = ServerRef {
            name: "doodoo".into(),
            machine_id: MachineId("d".into()),
        };
        let b = ServerRef {
            name: "other".into(),
            machine_id: MachineId("o".into()),
        };
        let held = locks.acquire(&store, &a).unwrap();
        assert!(matches!(
            locks.clone().acquire(&store, &a),
            Err(Busy::Here(_))
        ));
        let _other = locks.acquire(&store, &b).unwrap();
        drop(held);
        locks.acquire(&store, &a).unwrap();
    }
}
