//! Runs, per-account results and grants: the executor's record.
//!
//! A grant row is one library for one account in one run. It is written as `intent` *before*
//! the request that carries it and moved to its outcome after, so a crash leaves an accurate
//! record: a row still at `intent` (shown as `interrupted` once the run is known to have
//! stopped) is a request that may or may not have reached plex.tv.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{now_text, parse_time, time_text, Store, StoreError};
use crate::model::{AccountId, LibraryId, MachineId, ServerRef, ShareId};

pub(super) const SCHEMA_V1: &str = r#"
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT NOT NULL CHECK (kind IN ('apply', 'undo')),
    undo_of           INTEGER REFERENCES runs(id),
    pair              TEXT NOT NULL,
    source_machine_id TEXT NOT NULL,
    source_name       TEXT NOT NULL,
    dest_machine_id   TEXT NOT NULL,
    dest_name         TEXT NOT NULL,
    trigger           TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    heartbeat_at      TEXT NOT NULL,
    finished_at       TEXT,
    status            TEXT NOT NULL
                      CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    summary           TEXT,
    error             TEXT
);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE run_accounts (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    account_id    INTEGER NOT NULL,
    account_name  TEXT NOT NULL,
    planned       TEXT NOT NULL,
    result        TEXT CHECK (result IN ('applied', 'partial', 'failed', 'skipped')),
    reason        TEXT,
    share_id      INTEGER,
    created_share INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id)
);

CREATE TABLE grants (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id            INTEGER NOT NULL REFERENCES runs(id),
    account_id        INTEGER NOT NULL,
    account_name      TEXT NOT NULL,
    server_machine_id TEXT NOT NULL,
    server_name       TEXT NOT NULL,
    share_id          INTEGER,
    library_id        INTEGER NOT NULL,
    library_title     TEXT NOT NULL,
    action            TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    state             TEXT NOT NULL
                      CHECK (state IN ('intent', 'applied', 'failed', 'verified', 'missing', 'interrupted')),
    reason            TEXT,
    created_share     INTEGER NOT NULL DEFAULT 0,
    attempts          INTEGER NOT NULL DEFAULT 1,
    undone_by         INTEGER REFERENCES runs(id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX grants_by_run ON grants(run_id);
CREATE INDEX grants_by_server_state ON grants(server_machine_id, state);
"#;

/// A run's number in the record (what `sharesync runs` and `sharesync undo` take).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for RunId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().trim_start_matches('#').parse().map(RunId)
    }
}

/// A grant row's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GrantId(pub i64);

/// Who or what started a run: `cli:<local user>`, `discord:<user id>`, `schedule:<name>`.
/// Never a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Trigger(String);

impl Trigger {
    pub fn cli(user: &str) -> Trigger {
        Trigger(format!("cli:{}", user.trim()))
    }
    pub fn discord(user_id: u64) -> Trigger {
        Trigger(format!("discord:{user_id}"))
    }
    pub fn schedule(name: &str) -> Trigger {
        Trigger(format!("schedule:{}", name.trim()))
    }
    /// A label read back from the record.
    pub fn parse(stored: &str) -> Trigger {
        Trigger(stored.to_string())
    }
    /// Any other `kind:who` label (tests, tools).
    pub fn other(kind: &str, who: &str) -> Trigger {
        Trigger(format!("{}:{}", kind.trim(), who.trim()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(StoreError::Corrupt(format!(
                        "{} '{}'", stringify!($name), other
                    ))),
                }
            }
        }
    };
}

text_enum!(
    /// An apply of a plan, or the undo of an earlier run (the only path that removes access).
    RunKind { Apply => "apply", Undo => "undo" }
);
text_enum!(
    RunStatus {
        Running => "running",
        Finished => "finished",
        /// Stopped part way (future dropped, process killed); its open intents are marked
        /// interrupted.
        Interrupted => "interrupted",
        /// Stopped by an error that ends the whole run (a rejected token).
        Failed => "failed",
    }
);
text_enum!(
    /// One account's result in a run.
    AccountResult {
        /// Every planned library is present after the run.
        Applied => "applied",
        /// Some are.
        Partial => "partial",
        /// None are; `reason` holds plex.tv's own words.
        Failed => "failed",
        /// Nothing was sent for this account; `reason` says why.
        Skipped => "skipped",
    }
);
text_enum!(
    GrantAction { Add => "add", Remove => "remove" }
);
text_enum!(
    /// intent → applied | failed(reason), then verified | missing after the read-back.
    GrantState {
        /// Recorded before the request; no answer yet.
        Intent => "intent",
        /// plex.tv accepted the request (or a re-read showed it had landed).
        Applied => "applied",
        Failed => "failed",
        /// The read-back after the run shows it in place.
        Verified => "verified",
        /// The read-back after the run does not show it.
        Missing => "missing",
        /// The run stopped between intent and outcome: the request may or may not have landed.
        Interrupted => "interrupted",
    }
);

/// What `start_run` needs.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub kind: RunKind,
    pub undo_of: Option<RunId>,
    pub pair: &'a str,
    pub source: &'a ServerRef,
    pub dest: &'a ServerRef,
    pub trigger: &'a Trigger,
}

/// Counted at the end of a run (stored as JSON in `runs.summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Accounts the plan (or the undo) had to change.
    pub accounts_planned: usize,
    /// Accounts whose every planned change is in place.
    pub accounts_updated: usize,
    pub accounts_partial: usize,
    pub accounts_failed: usize,
    pub accounts_skipped: usize,
    /// Library grants added (for an undo: removed) and confirmed by the read-back.
    pub libraries_changed: usize,
    /// Write requests sent to plex.tv (retries included).
    pub write_requests: u64,
    /// All plex.tv requests this run made (reads included).
    pub requests: u64,
    /// The read-back after writing succeeded.
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub kind: RunKind,
    pub undo_of: Option<RunId>,
    pub pair: String,
    pub source: ServerRef,
    pub dest: ServerRef,
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub summary: Option<RunSummary>,
    pub error: Option<String>,
}

/// One account's line in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub account_id: AccountId,
    pub account_name: String,
    /// The plan's outcome for it (`grant`, `new_share`, `pending`) or `undo`.
    pub planned: String,
    /// `None` while the run is working on it.
    pub result: Option<AccountResult>,
    pub reason: Option<String>,
    pub share_id: Option<ShareId>,
    pub created_share: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub id: GrantId,
    pub run_id: RunId,
    pub account_id: AccountId,
    pub account_name: String,
    pub server: ServerRef,
    pub share_id: Option<ShareId>,
    pub library_id: LibraryId,
    pub library_title: String,
    pub action: GrantAction,
    pub state: GrantState,
    pub reason: Option<String>,
    /// The request that carried this grant created the share.
    pub created_share: bool,
    /// Requests sent for it (retries included).
    pub attempts: u32,
    /// The undo run that removed it.
    pub undone_by: Option<RunId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Found in place only by a later read (its request failed, or its run was cut off): it
    /// may have been granted some other way, so undo leaves it.
    pub unconfirmed: bool,
}

/// A run with its per-account results and grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunRecord,
    pub accounts: Vec<AccountRecord>,
    pub grants: Vec<GrantRecord>,
}

/// The libraries one request is about to carry for one account.
#[derive(Debug, Clone)]
pub struct GrantIntent<'a> {
    pub run: RunId,
    pub account_id: AccountId,
    pub account_name: &'a str,
    pub server: &'a ServerRef,
    /// `None` when the request creates the share.
    pub share_id: Option<ShareId>,
    /// (global id, title) of each library added (or removed).
    pub libraries: &'a [(LibraryId, String)],
    pub action: GrantAction,
    pub created_share: bool,
}

fn id_i64(v: u64) -> i64 {
    v as i64
}

fn id_u64(v: i64) -> u64 {
    v as u64
}

const RUN_COLUMNS: &str =
    "id, kind, undo_of, pair, source_machine_id, source_name, dest_machine_id, \
     dest_name, trigger, started_at, finished_at, status, summary, error";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<Result<RunRecord, StoreError>> {
    let kind: String = row.get(1)?;
    let started: String = row.get(9)?;
    let finished: Option<String> = row.get(10)?;
    let status: String = row.get(11)?;
    let summary: Option<String> = row.get(12)?;
    let build = || -> Result<RunRecord, StoreError> {
        Ok(RunRecord {
            id: RunId(row.get(0)?),
            kind: kind.parse()?,
            undo_of: row.get::<_, Option<i64>>(2)?.map(RunId),
            pair: row.get(3)?,
            source: ServerRef {
                machine_id: MachineId(row.get(4)?),
                name: row.get(5)?,
            },
            dest: ServerRef {
                machine_id: MachineId(row.get(6)?),
                name: row.get(7)?,
            },
            trigger: row.get(8)?,
            started_at: parse_time(&started)?,
            finished_at: finished.as_deref().map(parse_time).transpose()?,
            status: status.parse()?,
            summary: summary
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("run summary: {e}")))?,
            error: row.get(13)?,
        })
    };
    Ok(build())
}

const GRANT_COLUMNS: &str =
    "id, run_id, account_id, account_name, server_machine_id, server_name, \
     share_id, library_id, library_title, action, state, reason, created_share, attempts, \
     undone_by, created_at, updated_at, unconfirmed";

fn grant_from_row(row: &Row<'_>) -> rusqlite::Result<Result<GrantRecord, StoreError>> {
    let action: String = row.get(9)?;
    let state: String = row.get(10)?;
    let created: String = row.get(15)?;
    let updated: String = row.get(16)?;
    let build = || -> Result<GrantRecord, StoreError> {
        Ok(GrantRecord {
            id: GrantId(row.get(0)?),
            run_id: RunId(row.get(1)?),
            account_id: AccountId(id_u64(row.get(2)?)),
            account_name: row.get(3)?,
            server: ServerRef {
                machine_id: MachineId(row.get(4)?),
                name: row.get(5)?,
            },
            share_id: row.get::<_, Option<i64>>(6)?.map(|v| ShareId(id_u64(v))),
            library_id: LibraryId(id_u64(row.get(7)?)),
            library_title: row.get(8)?,
            action: action.parse()?,
            state: state.parse()?,
            reason: row.get(11)?,
            created_share: row.get(12)?,
            attempts: row.get(13)?,
            undone_by: row.get::<_, Option<i64>>(14)?.map(RunId),
            created_at: parse_time(&created)?,
            updated_at: parse_time(&updated)?,
            unconfirmed: row.get(17)?,
        })
    };
    Ok(build())
}

impl Store {
    /// Record the start of a run (status `running`) without a destination lease (the executor
    /// starts its runs with [`Store::start_leased_run`]).
    pub fn start_run(&self, new: &NewRun<'_>) -> Result<RunId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let run = insert_run(&tx, new)?;
        tx.commit()?;
        Ok(run)
    }

    /// Say the run is still alive (see [`super::ABANDONED_AFTER`]).
    pub fn heartbeat(&self, run: RunId) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1 AND status = 'running'",
            params![run.0, now_text()],
        )?;
        Ok(())
    }

    /// Insert or replace accounts' lines in a run (one transaction).
    pub fn record_accounts(
        &self,
        run: RunId,
        accounts: &[AccountRecord],
    ) -> Result<(), StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO run_accounts (run_id, account_id, account_name, planned, result, \
                 reason, share_id, created_share, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (run_id, account_id) DO UPDATE SET \
                 account_name = excluded.account_name, planned = excluded.planned, \
                 result = excluded.result, reason = excluded.reason, \
                 share_id = excluded.share_id, created_share = excluded.created_share, \
                 updated_at = excluded.updated_at",
            )?;
            for account in accounts {
                upsert.execute(params![
                    run.0,
                    id_i64(account.account_id.0),
                    account.account_name,
                    account.planned,
                    account.result.map(AccountResult::as_str),
                    account.reason,
                    account.share_id.map(|s| id_i64(s.0)),
                    account.created_share,
                    now,
                ])?;
            }
        }
        tx.execute(
            "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1 AND status = 'running'",
            params![run.0, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Write one `intent` row per library, BEFORE the request that carries them is sent.
    pub fn record_intent(&self, intent: &GrantIntent<'_>) -> Result<Vec<GrantId>, StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(intent.libraries.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO grants (run_id, account_id, account_name, server_machine_id, \
                 server_name, share_id, library_id, library_title, action, state, \
                 created_share, attempts, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'intent', ?10, 1, ?11, ?11)",
            )?;
            for (library, title) in intent.libraries {
                insert.execute(params![
                    intent.run.0,
                    id_i64(intent.account_id.0),
                    intent.account_name,
                    intent.server.machine_id.0,
                    intent.server.name,
                    intent.share_id.map(|s| id_i64(s.0)),
                    id_i64(library.0),
                    title,
                    intent.action.as_str(),
                    intent.created_share,
                    now,
                ])?;
                ids.push(GrantId(tx.last_insert_rowid()));
            }
        }
        tx.execute(
            "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1 AND status = 'running'",
            params![intent.run.0, now],
        )?;
        tx.commit()?;
        Ok(ids)
    }

    /// Before a retry of the same grants: count the request, and update what it targets (a
    /// retried create becomes an update once the share is seen to exist).
    pub fn record_attempt(
        &self,
        ids: &[GrantId],
        share_id: Option<ShareId>,
        created_share: bool,
    ) -> Result<(), StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE grants SET attempts = attempts + 1, share_id = ?2, created_share = ?3, \
                 updated_at = ?4 WHERE id = ?1",
            )?;
            for id in ids {
                update.execute(params![
                    id.0,
                    share_id.map(|s| id_i64(s.0)),
                    created_share,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// After the request (or the read-back): move grants to `state`, with plex.tv's words when
    /// it failed. A reason is appended to any earlier one (the history stays readable); `None`
    /// keeps the earlier reason. `share_id` fills in the share a create made.
    pub fn record_outcome(
        &self,
        ids: &[GrantId],
        state: GrantState,
        reason: Option<&str>,
        share_id: Option<ShareId>,
    ) -> Result<(), StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE grants SET state = ?2, \
                 reason = CASE WHEN ?3 IS NULL THEN reason WHEN reason IS NULL THEN ?3 \
                 ELSE reason || '; ' || ?3 END, \
                 share_id = COALESCE(?4, share_id), updated_at = ?5 WHERE id = ?1",
            )?;
            for id in ids {
                update.execute(params![
                    id.0,
                    state.as_str(),
                    reason,
                    share_id.map(|s| id_i64(s.0)),
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Mark grants as found in place without plex.tv confirming their request (see
    /// [`GrantRecord::unconfirmed`]).
    pub fn mark_unconfirmed(&self, ids: &[GrantId]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut update =
                tx.prepare_cached("UPDATE grants SET unconfirmed = 1 WHERE id = ?1")?;
            for id in ids {
                update.execute(params![id.0])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Mark grants as removed by the undo run `by`.
    pub fn mark_undone(&self, ids: &[GrantId], by: RunId) -> Result<(), StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE grants SET undone_by = ?2, updated_at = ?3 WHERE id = ?1",
            )?;
            for id in ids {
                update.execute(params![id.0, by.0, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Close a run. Grants still at `intent` become `interrupted` (their request's fate is
    /// unknown).
    pub fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        summary: &RunSummary,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = now_text();
        let summary = serde_json::to_string(summary)
            .map_err(|e| StoreError::Corrupt(format!("run summary: {e}")))?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE runs SET status = ?2, summary = ?3, error = ?4, finished_at = ?5, \
             heartbeat_at = ?5 WHERE id = ?1",
            params![run.0, status.as_str(), summary, error, now],
        )?;
        if changed == 0 {
            return Err(StoreError::RunNotFound(run));
        }
        close_intents(&tx, run, &now)?;
        tx.commit()?;
        Ok(())
    }

    /// Mark a run that stopped part way (its future was dropped, it panicked) as interrupted,
    /// if it is still `running`. Its open intents become `interrupted`.
    pub fn interrupt_run(&self, run: RunId, why: &str) -> Result<(), StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE runs SET status = 'interrupted', error = ?2, finished_at = ?3 \
             WHERE id = ?1 AND status = 'running'",
            params![run.0, why, now],
        )?;
        if changed > 0 {
            close_intents(&tx, run, &now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Mark runs nobody has touched for `older_than` as interrupted (their process died).
    /// Returns how many.
    pub fn recover_abandoned(&self, older_than: std::time::Duration) -> Result<usize, StoreError> {
        let cutoff = chrono::Duration::from_std(older_than)
            .ok()
            .and_then(|d| Utc::now().checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let stale: Vec<i64> = {
            let conn = self.lock();
            let mut q =
                conn.prepare("SELECT id FROM runs WHERE status = 'running' AND heartbeat_at < ?1")?;
            let ids = q
                .query_map(params![time_text(cutoff)], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids
        };
        for id in &stale {
            self.interrupt_run(
                RunId(*id),
                "the process running it stopped (no sign of life since)",
            )?;
        }
        Ok(stale.len())
    }

    /// The newest `limit` runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = q.query_map(params![limit as i64], run_from_row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// One run, its accounts and its grants.
    pub fn run(&self, id: RunId) -> Result<RunDetail, StoreError> {
        let run = {
            let conn = self.lock();
            conn.query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                params![id.0],
                run_from_row,
            )
            .optional()?
            .ok_or(StoreError::RunNotFound(id))??
        };
        let accounts = self.accounts_of_run(id)?;
        let grants = self.grants_of_run(id)?;
        Ok(RunDetail {
            run,
            accounts,
            grants,
        })
    }

    pub fn accounts_of_run(&self, id: RunId) -> Result<Vec<AccountRecord>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare(
            "SELECT account_id, account_name, planned, result, reason, share_id, created_share \
             FROM run_accounts WHERE run_id = ?1 ORDER BY account_name, account_id",
        )?;
        let rows = q.query_map(params![id.0], |row| {
            let result: Option<String> = row.get(3)?;
            Ok((
                AccountRecord {
                    account_id: AccountId(id_u64(row.get(0)?)),
                    account_name: row.get(1)?,
                    planned: row.get(2)?,
                    result: None,
                    reason: row.get(4)?,
                    share_id: row.get::<_, Option<i64>>(5)?.map(|v| ShareId(id_u64(v))),
                    created_share: row.get(6)?,
                },
                result,
            ))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (mut rec, result) = r?;
            rec.result = result.as_deref().map(str::parse).transpose()?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Every grant row of a run, in the order they were recorded.
    pub fn grants_of_run(&self, id: RunId) -> Result<Vec<GrantRecord>, StoreError> {
        self.query_grants(
            &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE run_id = ?1 ORDER BY id"),
            params![id.0],
        )
    }

    /// Grants on `server` whose run stopped between intent and outcome, oldest first.
    pub fn interrupted_grants(&self, server: &MachineId) -> Result<Vec<GrantRecord>, StoreError> {
        self.query_grants(
            &format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE server_machine_id = ?1 \
                 AND state = 'interrupted' ORDER BY id"
            ),
            params![server.0],
        )
    }

    /// A later run that added the same library for the same account on the same server and
    /// still stands (undo must not take back what a later run granted).
    pub fn added_later(&self, grant: &GrantRecord) -> Result<Option<RunId>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT run_id FROM grants WHERE server_machine_id = ?1 AND account_id = ?2 \
                 AND library_id = ?3 AND action = 'add' AND state IN ('applied', 'verified') \
                 AND undone_by IS NULL AND run_id > ?4 ORDER BY run_id LIMIT 1",
                params![
                    grant.server.machine_id.0,
                    id_i64(grant.account_id.0),
                    id_i64(grant.library_id.0),
                    grant.run_id.0
                ],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(RunId))
    }

    fn query_grants(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare(sql)?;
        let rows = q.query_map(args, grant_from_row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }
}

pub(super) fn insert_run(
    tx: &rusqlite::Transaction<'_>,
    new: &NewRun<'_>,
) -> Result<RunId, StoreError> {
    tx.execute(
        "INSERT INTO runs (kind, undo_of, pair, source_machine_id, source_name, \
         dest_machine_id, dest_name, trigger, started_at, heartbeat_at, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 'running')",
        params![
            new.kind.as_str(),
            new.undo_of.map(|r| r.0),
            new.pair,
            new.source.machine_id.0,
            new.source.name,
            new.dest.machine_id.0,
            new.dest.name,
            new.trigger.as_str(),
            now_text(),
        ],
    )?;
    Ok(RunId(tx.last_insert_rowid()))
}

pub(super) fn close_intents(
    tx: &rusqlite::Transaction<'_>,
    run: RunId,
    now: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE grants SET state = 'interrupted', \
         reason = 'the run stopped before plex.tv answered; the request may or may not have landed', \
         updated_at = ?2 WHERE run_id = ?1 AND state = 'intent'",
        params![run.0, now],
    )?;
    Ok(())
}
