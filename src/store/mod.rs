//! The record: a SQLite file under the data directory (`Config::database_file()`), WAL mode,
//! schema versions by the `user_version` pragma.
//!
//! One file per concern, each owning its tables and its part of the API on [`Store`]:
//! * `migrate.rs` — the ordered schema migrations (every concern appends its own).
//! * `runs.rs`    — runs, per-account results and grants (the executor's record).
//! * `guard.rs`   — each server's last good read and the deep checks (the guard rails).
//! * `lease.rs`   — one lease per destination server: who may write to it now.
//! * `plans.rs`   — plans waiting for an admin's button, member → Plex account links, and
//!   schedule state.
//!
//! Nothing here ever stores a secret: no Plex token, no Discord token, no `accessToken`. Runs
//! record *who* triggered them (`cli:alice`, `discord:1234`, `schedule:nightly`), never *how* they
//! were authenticated.

mod guard;
mod lease;
mod migrate;
mod plans;
mod runs;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

pub use guard::DeepCheckRecord;
pub use lease::{LeaseProcess, LeaseRecord, LeaseTake};
pub use migrate::SCHEMA_VERSION;
pub use plans::{Link, NewPlan, PlanStatus, ScheduleState, StoredPlan};
pub use runs::{
    AccountRecord, AccountResult, GrantAction, GrantId, GrantIntent, GrantRecord, GrantState,
    NewRun, RunDetail, RunId, RunKind, RunRecord, RunStatus, RunSummary, Trigger,
};

/// A run whose process has not touched it for this long is taken to have died (killed,
/// power loss) and is shown as interrupted.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the database {path} was written by a newer sharesync (schema {found}, this build knows {known}); upgrade sharesync")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("no run {0} in the record")]
    RunNotFound(RunId),
    #[error("another process took over the destination {0} (this one looked dead to it); this run stopped")]
    LeaseLost(String),
    #[error("the record holds a value this build cannot read ({0})")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}

/// The database. Cheap to clone (one connection behind a mutex, shared); every call is one
/// short transaction, so holding it from async code is fine. Never held across an `.await`.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating it and its directory if needed) and migrate the database at `path`.
    /// Runs left `running` by a process that stopped touching them [`ABANDONED_AFTER`] ago are
    /// marked interrupted.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let fail = |reason: String| StoreError::Open {
            path: shown.clone(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        // It holds e-mail addresses: created owner-only. SQLite gives the -wal and -shm files
        // it creates the database file's permissions.
        create_private(path).map_err(|e| fail(e.to_string()))?;
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail(e.to_string()))?;
        // Switching a new file to WAL needs it to itself for a moment, and SQLite does not wait
        // for that on its own: another process opening the same new data directory at the same
        // time (the bot and a CLI) answers "locked", so wait a little and try again.
        let mut tries = 0;
        let mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if tries < 100
                        && matches!(
                            e.code,
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        ) =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other.map_err(|e| fail(e.to_string()))?,
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail(format!("cannot switch to WAL mode (got {mode})")));
        }
        // Files an older sharesync left readable by others are narrowed.
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                crate::session::make_private(&file).map_err(|e| fail(e.to_string()))?;
            }
        }
        Self::finish_open(conn, &shown)
    }

    /// A private database in memory (tests, `--sandbox`).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::finish_open(conn, ":memory:")
    }

    fn finish_open(mut conn: Connection, shown: &str) -> Result<Store, StoreError> {
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        migrate::migrate(&mut conn, shown)?;
        let store = Store {
            conn: Arc::new(Mutex::new(conn)),
        };
        store.recover_abandoned(ABANDONED_AFTER)?;
        Ok(store)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Prove the database accepts writes (health checks): take the write lock, then let go.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        self.lock().execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?;
        Ok(())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (every call is one
        // transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Create `path` empty and owner-only if it does not exist (SQLite then opens it as a new
/// database).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Timestamps are stored as RFC 3339 UTC text with milliseconds, so they sort as text.
pub(crate) fn now_text() -> String {
    time_text(Utc::now())
}

pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp '{s}': {e}")))
}
