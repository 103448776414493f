//! Opening the database: creating it owner-only, WAL mode, migrations, and marking runs a dead
//! process left `running` as interrupted.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use super::db::Store;
use super::error::StoreError;
use super::migrate;

/// A run whose process has not touched it for this long is taken to have died (killed,
/// power loss) and is shown as interrupted.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(10 * 60);

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
                make_private(&file).map_err(|e| fail(e.to_string()))?;
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

/// Narrow an existing file to its owner (0600 on Unix; elsewhere left as it is).
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
