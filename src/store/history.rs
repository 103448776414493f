//! Reading runs back: the newest runs, one run with its accounts and grants, and the grants
//! undo and the stale check look for.

use rusqlite::{params, OptionalExtension, Row};

use super::ids::{id_i64, id_u64, GrantId, RunId};
use super::records::{AccountRecord, GrantRecord, RunDetail, RunRecord};
use super::{parse_time, Store, StoreError};
use crate::model::{AccountId, LibraryId, MachineId, ServerRef, ShareId};

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

    /// Every account's line in a run, by name.
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
