//! Schema migrations, applied in order by the `user_version` pragma. Append only: a released
//! migration is never edited, a new concern adds the next number.

use rusqlite::Connection;

use super::error::StoreError;

/// One step: the version it brings the database to, and its SQL.
struct Migration {
    version: i64,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: super::runs::SCHEMA_V1,
    },
    Migration {
        version: 2,
        sql: super::plans::SCHEMA_V2,
    },
    Migration {
        version: 3,
        sql: super::guard::SCHEMA_V3_GUARD_RAILS,
    },
    Migration {
        version: 4,
        sql: super::lease::SCHEMA_V4_LEASE,
    },
];

/// The newest schema this build knows.
pub const SCHEMA_VERSION: i64 = 4;

/// Bring the database to [`SCHEMA_VERSION`]. One `BEGIN IMMEDIATE` transaction that reads the
/// version inside it: two processes opening a new data directory at once (the bot and a CLI)
/// migrate it once; the second waits, then finds nothing to do.
pub(super) fn migrate(conn: &mut Connection, shown: &str) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: shown.to_string(),
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sql)?;
        // PRAGMA takes no bound parameters; the version is a constant of this build.
        tx.execute_batch(&format!("PRAGMA user_version = {}", m.version))?;
        tracing::debug!(version = m.version, "database migrated");
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_end_at_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
