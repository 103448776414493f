//! Runs, per-account results and grants: the executor's record.
//!
//! A grant row is one library for one account in one run. It is written as `intent` *before*
//! the request that carries it and moved to its outcome after, so a crash leaves an accurate
//! record: a row still at `intent` (shown as `interrupted` once the run is known to have
//! stopped) is a request that may or may not have reached plex.tv.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::ids::{id_i64, GrantId, RunId};
use super::records::{
    AccountRecord, AccountResult, GrantIntent, GrantState, NewRun, RunStatus, RunSummary,
};
use super::{now_text, time_text, Store, StoreError};
use crate::model::ShareId;

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
