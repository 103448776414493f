//! What can go wrong with the record.

use super::ids::RunId;

/// An error reading or writing the database.
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
    Sqlite(#[from] rusqlite::Error),
    #[error("no run {0} in the record")]
    RunNotFound(RunId),
    #[error("another process took over the destination {0} (this one looked dead to it); this run stopped")]
    LeaseLost(String),
    #[error("the record holds a value this build cannot read ({0})")]
    Corrupt(String),
}
