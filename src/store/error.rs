//! What can go wrong with the record.

use super::ids::RunId;

/// An error reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be opened or created.
    #[error("cannot open the database {path}: {reason}")]
    Open {
        /// The database file.
        path: String,
        /// Why it cannot be opened.
        reason: String,
    },
    /// A newer sharesync migrated the database.
    #[error("the database {path} was written by a newer sharesync (schema {found}, this build knows {known}); upgrade sharesync")]
    TooNew {
        /// The database file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// No run has this number.
    #[error("no run {0} in the record")]
    RunNotFound(RunId),
    /// This process lost the destination's lease.
    #[error("another process took over the destination {0} (this one looked dead to it); this run stopped")]
    LeaseLost(String),
    /// A stored value this build cannot read.
    #[error("the record holds a value this build cannot read ({0})")]
    Corrupt(String),
}
