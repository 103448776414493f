//! What the guard rails keep between runs: each server's last good read (its size) and the deep
//! checks' results.

use std::fmt;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{now_text, parse_time, Store, StoreError, Trigger};
use crate::model::{MachineId, ServerRef, ServerSharing};

pub(super) const SCHEMA_V3_GUARD_RAILS: &str = r#"
CREATE TABLE read_baselines (
    machine_id    TEXT PRIMARY KEY,
    server_name   TEXT NOT NULL,
    accounts      INTEGER NOT NULL,
    shares        INTEGER NOT NULL,
    libraries     INTEGER NOT NULL,
    recorded_at   TEXT NOT NULL,
    -- Who accepted this size as a real change (a trigger); NULL: a read or a run recorded it.
    accepted_by   TEXT
);

CREATE TABLE deep_checks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    checked_at    TEXT NOT NULL,
    checked_by    TEXT NOT NULL,
    disagreements INTEGER NOT NULL,
    summary       TEXT NOT NULL
);

-- The refusal (ReadLooksWrong::key) a schedule last posted, written once the post went out.
CREATE TABLE announced_refusals (
    schedule      TEXT PRIMARY KEY,
    refusal       TEXT NOT NULL
);
"#;

/// A server's read, in the numbers the guard compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSize {
    /// Accounts that see at least one library.
    pub accounts: usize,
    /// Shares of any kind (pending ones too).
    pub shares: usize,
    /// Libraries in the catalogue.
    pub libraries: usize,
}

impl ReadSize {
    /// The numbers of `sharing`.
    pub fn of(sharing: &ServerSharing) -> ReadSize {
        ReadSize {
            accounts: sharing.accounts_with_access(),
            shares: sharing.shares.len(),
            libraries: sharing.server.libraries.len(),
        }
    }
}

/// The last good read of a server, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The server.
    pub server: ServerRef,
    /// Its size.
    pub size: ReadSize,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who accepted this size as a real change; `None`: a read or a run recorded it.
    pub accepted_by: Option<String>,
}

impl fmt::Display for ReadSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} shares, {} accounts with access, {} libraries",
            self.shares, self.accounts, self.libraries
        )
    }
}

/// One `doctor --deep` cross-check of the API families, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepCheckRecord {
    /// When it ran.
    pub checked_at: DateTime<Utc>,
    /// Who ran it.
    pub checked_by: String,
    /// 0: the families agree.
    pub disagreements: usize,
    /// One line: "agree" or the disagreements, shortened.
    pub summary: String,
}

fn count(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// A server's last good read; `None` before the first.
    pub fn read_baseline(&self, server: &MachineId) -> Result<Option<Baseline>, StoreError> {
        type Row = (String, i64, i64, i64, String, Option<String>);
        let row: Option<Row> = self
            .lock()
            .query_row(
                "SELECT server_name, accounts, shares, libraries, recorded_at, accepted_by
                 FROM read_baselines WHERE machine_id = ?1",
                params![server.0],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((name, accounts, shares, libraries, at, accepted_by)) = row else {
            return Ok(None);
        };
        let n = |v: i64| usize::try_from(v).map_err(|_| StoreError::Corrupt(format!("count {v}")));
        Ok(Some(Baseline {
            server: ServerRef {
                name,
                machine_id: server.clone(),
            },
            size: ReadSize {
                accounts: n(accounts)?,
                shares: n(shares)?,
                libraries: n(libraries)?,
            },
            recorded_at: parse_time(&at)?,
            accepted_by,
        }))
    }

    /// Make `size` the server's last good read; `accepted_by`: who accepted it as a real change.
    pub fn record_baseline(
        &self,
        server: &ServerRef,
        size: &ReadSize,
        accepted_by: Option<&str>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO read_baselines
                 (machine_id, server_name, accounts, shares, libraries, recorded_at, accepted_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(machine_id) DO UPDATE SET server_name = ?2, accounts = ?3, shares = ?4,
                 libraries = ?5, recorded_at = ?6, accepted_by = ?7",
            params![
                server.machine_id.0,
                server.name,
                count(size.accounts),
                count(size.shares),
                count(size.libraries),
                now_text(),
                accepted_by
            ],
        )?;
        Ok(())
    }

    /// Record one deep check.
    pub fn record_deep_check(
        &self,
        by: &Trigger,
        disagreements: usize,
        summary: &str,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO deep_checks (checked_at, checked_by, disagreements, summary)
             VALUES (?1, ?2, ?3, ?4)",
            params![now_text(), by.as_str(), count(disagreements), summary],
        )?;
        Ok(())
    }

    /// The newest deep check; `None` before the first.
    pub fn last_deep_check(&self) -> Result<Option<DeepCheckRecord>, StoreError> {
        let row: Option<(String, String, i64, String)> = self
            .lock()
            .query_row(
                "SELECT checked_at, checked_by, disagreements, summary
                 FROM deep_checks ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((at, by, disagreements, summary)) = row else {
            return Ok(None);
        };
        Ok(Some(DeepCheckRecord {
            checked_at: parse_time(&at)?,
            checked_by: by,
            disagreements: usize::try_from(disagreements).unwrap_or(0),
            summary,
        }))
    }

    /// The refusal a schedule last posted; `None` when its last read passed.
    pub fn announced_refusal(&self, schedule: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT refusal FROM announced_refusals WHERE schedule = ?1",
                params![schedule],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Record that a schedule's refusal was posted (`Some`), or that its read passed (`None`).
    pub fn set_announced_refusal(
        &self,
        schedule: &str,
        refusal: Option<&str>,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        match refusal {
            Some(key) => conn.execute(
                "INSERT INTO announced_refusals (schedule, refusal) VALUES (?1, ?2)
                 ON CONFLICT(schedule) DO UPDATE SET refusal = ?2",
                params![schedule, key],
            )?,
            None => conn.execute(
                "DELETE FROM announced_refusals WHERE schedule = ?1",
                params![schedule],
            )?,
        };
        Ok(())
    }
}
