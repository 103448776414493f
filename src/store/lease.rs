//! Destination leases: one row per destination server while a run (or its stale check) is in
//! progress on it, shared by every process on the database (the bot, a schedule, the CLI).
//!
//! Taking a lease is one `BEGIN IMMEDIATE` transaction (check, then insert), so two processes
//! never both hold one destination. The holder renews `heartbeat_at` every few seconds; a lease
//! whose holder is judged dead (the caller decides: same host and its pid gone, or no heartbeat
//! for the configured time) is taken over, and the run it recorded is marked `interrupted` in the
//! same transaction, so the record never shows a dead run as `running`.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::runs::{close_intents, insert_run};
use super::{now_text, parse_time, NewRun, RunId, Store, StoreError, Trigger};
use crate::model::{MachineId, ServerRef};

pub(super) const SCHEMA_V4_LEASE: &str = r#"
CREATE TABLE dest_leases (
    dest_machine_id TEXT PRIMARY KEY,
    dest_name       TEXT NOT NULL,
    holder          TEXT NOT NULL,
    pid             INTEGER NOT NULL,
    host            TEXT NOT NULL,
    instance        TEXT NOT NULL,
    started_by      TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    heartbeat_at    TEXT NOT NULL,
    run_id          INTEGER REFERENCES runs(id)
);

-- A grant found in place only by a later read (its request failed or its run was cut off):
-- it may have been granted some other way, so undo does not remove it.
ALTER TABLE grants ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
"#;

/// The process that holds (or asks for) a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseProcess {
    /// Its process id.
    pub pid: u32,
    /// Its host name.
    pub host: String,
    /// Random per process start: a reused pid (pid 1 in every container) is told apart by it.
    pub instance: String,
}

/// A lease as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The destination server.
    pub dest: ServerRef,
    /// Unique per lease; only its taker renews or releases it.
    pub holder: String,
    /// Who holds it.
    pub process: LeaseProcess,
    /// `cli:alice`, `discord:1234`, `schedule:nightly`.
    pub started_by: String,
    /// When it was taken.
    pub started_at: DateTime<Utc>,
    /// When its holder last renewed it.
    pub heartbeat_at: DateTime<Utc>,
    /// The run it holds the destination for; `None` while its stale check reads.
    pub run: Option<RunId>,
}

/// What [`Store::take_lease`] came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseTake {
    /// Taken; `took_over` is a dead holder's lease it replaced (its run is now interrupted).
    Taken {
        /// A dead holder's lease it replaced.
        took_over: Option<LeaseRecord>,
    },
    /// A live holder has it.
    Busy(LeaseRecord),
}

const LEASE_COLUMNS: &str = "dest_machine_id, dest_name, holder, pid, host, instance, \
     started_by, started_at, heartbeat_at, run_id";

fn lease_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(LeaseRecord, String, String)> {
    Ok((
        LeaseRecord {
            dest: ServerRef {
                machine_id: MachineId(row.get(0)?),
                name: row.get(1)?,
            },
            holder: row.get(2)?,
            process: LeaseProcess {
                pid: row.get(3)?,
                host: row.get(4)?,
                instance: row.get(5)?,
            },
            started_by: row.get(6)?,
            started_at: DateTime::<Utc>::MIN_UTC,
            heartbeat_at: DateTime::<Utc>::MIN_UTC,
            run: row.get::<_, Option<i64>>(9)?.map(RunId),
        },
        row.get(7)?,
        row.get(8)?,
    ))
}

fn finish_lease(raw: (LeaseRecord, String, String)) -> Result<LeaseRecord, StoreError> {
    let (mut lease, started, heartbeat) = raw;
    lease.started_at = parse_time(&started)?;
    lease.heartbeat_at = parse_time(&heartbeat)?;
    Ok(lease)
}

/// Mark a dead holder's run interrupted and drop its lease (inside the caller's transaction).
fn end_dead_lease(tx: &rusqlite::Transaction<'_>, dead: &LeaseRecord) -> Result<(), StoreError> {
    let now = now_text();
    if let Some(run) = dead.run {
        let why = format!(
            "the process running it stopped (pid {} on {}; last sign of life {})",
            dead.process.pid,
            dead.process.host,
            dead.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let changed = tx.execute(
            "UPDATE runs SET status = 'interrupted', error = ?2, finished_at = ?3 \
             WHERE id = ?1 AND status = 'running'",
            params![run.0, why, now],
        )?;
        if changed > 0 {
            close_intents(tx, run, &now)?;
        }
    }
    tx.execute(
        "DELETE FROM dest_leases WHERE dest_machine_id = ?1 AND holder = ?2",
        params![dead.dest.machine_id.0, dead.holder],
    )?;
    Ok(())
}

impl Store {
    /// Take `dest` for `holder` (one transaction: check, then insert). A lease held by a
    /// process `is_dead` judges gone is taken over and its run marked interrupted.
    pub fn take_lease(
        &self,
        dest: &ServerRef,
        holder: &str,
        process: &LeaseProcess,
        started_by: &Trigger,
        is_dead: &dyn Fn(&LeaseRecord) -> bool,
    ) -> Result<LeaseTake, StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                &format!("SELECT {LEASE_COLUMNS} FROM dest_leases WHERE dest_machine_id = ?1"),
                params![dest.machine_id.0],
                lease_from_row,
            )
            .optional()?
            .map(finish_lease)
            .transpose()?;
        let took_over = match existing {
            Some(live) if !is_dead(&live) => return Ok(LeaseTake::Busy(live)),
            Some(dead) => {
                end_dead_lease(&tx, &dead)?;
                Some(dead)
            }
            None => None,
        };
        tx.execute(
            &format!(
                "INSERT INTO dest_leases ({LEASE_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, NULL)"
            ),
            params![
                dest.machine_id.0,
                dest.name,
                holder,
                process.pid,
                process.host,
                process.instance,
                started_by.as_str(),
                now,
            ],
        )?;
        tx.commit()?;
        Ok(LeaseTake::Taken { took_over })
    }

    /// Say the holder (and its run) is alive. `false`: the lease is no longer this holder's (it
    /// was judged dead and taken over).
    pub fn renew_lease(&self, dest: &MachineId, holder: &str) -> Result<bool, StoreError> {
        let now = now_text();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let held = tx.execute(
            "UPDATE dest_leases SET heartbeat_at = ?3 WHERE dest_machine_id = ?1 AND holder = ?2",
            params![dest.0, holder, now],
        )? > 0;
        tx.execute(
            "UPDATE runs SET heartbeat_at = ?3 WHERE status = 'running' AND id = \
             (SELECT run_id FROM dest_leases WHERE dest_machine_id = ?1 AND holder = ?2)",
            params![dest.0, holder, now],
        )?;
        tx.commit()?;
        Ok(held)
    }

    /// Give the destination back (nothing happens if the lease is no longer this holder's).
    pub fn release_lease(&self, dest: &MachineId, holder: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "DELETE FROM dest_leases WHERE dest_machine_id = ?1 AND holder = ?2",
            params![dest.0, holder],
        )?;
        Ok(())
    }

    /// Record the start of a run under `holder`'s lease on `new.dest` (one transaction: the
    /// lease names the run from then on). Refused when the lease is no longer this holder's.
    pub fn start_leased_run(&self, new: &NewRun<'_>, holder: &str) -> Result<RunId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ours: bool = tx
            .query_row(
                "SELECT 1 FROM dest_leases WHERE dest_machine_id = ?1 AND holder = ?2",
                params![new.dest.machine_id.0, holder],
                |_| Ok(true),
            )
            .optional()?
            .unwrap_or(false);
        if !ours {
            return Err(StoreError::LeaseLost(new.dest.name.clone()));
        }
        let run = insert_run(&tx, new)?;
        tx.execute(
            "UPDATE dest_leases SET run_id = ?3 WHERE dest_machine_id = ?1 AND holder = ?2",
            params![new.dest.machine_id.0, holder, run.0],
        )?;
        tx.commit()?;
        Ok(run)
    }

    /// Every lease on record.
    pub fn leases(&self) -> Result<Vec<LeaseRecord>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare(&format!(
            "SELECT {LEASE_COLUMNS} FROM dest_leases ORDER BY dest_name"
        ))?;
        let rows = q.query_map([], lease_from_row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(finish_lease(r?)?);
        }
        Ok(out)
    }

    /// End every lease whose holder `is_dead` judges gone, marking its run interrupted (before
    /// `sharesync runs` lists them, and when the bot starts). Returns the leases ended.
    pub fn end_dead_leases(
        &self,
        is_dead: &dyn Fn(&LeaseRecord) -> bool,
    ) -> Result<Vec<LeaseRecord>, StoreError> {
        let mut ended = Vec::new();
        for seen in self.leases()? {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Judged again inside the transaction: the holder may have renewed meanwhile.
            let current = tx
                .query_row(
                    &format!(
                        "SELECT {LEASE_COLUMNS} FROM dest_leases \
                         WHERE dest_machine_id = ?1 AND holder = ?2"
                    ),
                    params![seen.dest.machine_id.0, seen.holder],
                    lease_from_row,
                )
                .optional()?
                .map(finish_lease)
                .transpose()?;
            if let Some(lease) = current.filter(|l| is_dead(l)) {
                end_dead_lease(&tx, &lease)?;
                tx.commit()?;
                ended.push(lease);
            }
        }
        Ok(ended)
    }
}
