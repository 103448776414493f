//! Approved-plan storage, account links and schedule state: what a front end keeps between an
//! admin seeing a plan and pressing its button (possibly after a restart), which chat member is
//! which Plex account, and when each schedule last fired.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension};

use super::{parse_time, time_text, RunId, Store, StoreError, Trigger};
use crate::model::MachineId;
use crate::plan::Plan;

pub(super) const SCHEMA_V2: &str = r#"
CREATE TABLE plans (
    id            TEXT PRIMARY KEY,
    pair          TEXT NOT NULL,
    only_accounts TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    status        TEXT NOT NULL
                  CHECK (status IN ('open', 'applying', 'applied', 'failed', 'cancelled', 'superseded')),
    dest_machine_id TEXT NOT NULL,
    plan_json     TEXT NOT NULL
);
CREATE INDEX plans_by_status ON plans(status, created_at);

CREATE TABLE links (
    member_id       INTEGER PRIMARY KEY,
    plex_account_id INTEGER NOT NULL,
    plex_name       TEXT NOT NULL,
    linked_by       TEXT NOT NULL,
    linked_at       TEXT NOT NULL
);

CREATE TABLE schedule_state (
    name         TEXT PRIMARY KEY,
    armed_at     TEXT NOT NULL,
    last_due     TEXT,
    last_started TEXT,
    last_finished TEXT,
    last_result  TEXT,
    last_run_id  INTEGER
);
"#;

/// Where a stored plan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    /// Waiting for an admin.
    Open,
    /// Confirmed; a run is in progress.
    Applying,
    /// Applied.
    Applied,
    /// The run stopped with an error; plan again for a fresh one.
    Failed,
    /// An admin cancelled it.
    Cancelled,
    /// A stale check found a newer plan; that one replaces this.
    Superseded,
}

impl PlanStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Open => "open",
            PlanStatus::Applying => "applying",
            PlanStatus::Applied => "applied",
            PlanStatus::Failed => "failed",
            PlanStatus::Cancelled => "cancelled",
            PlanStatus::Superseded => "superseded",
        }
    }

    fn parse(s: &str) -> Result<PlanStatus, StoreError> {
        Ok(match s {
            "open" => PlanStatus::Open,
            "applying" => PlanStatus::Applying,
            "applied" => PlanStatus::Applied,
            "failed" => PlanStatus::Failed,
            "cancelled" => PlanStatus::Cancelled,
            "superseded" => PlanStatus::Superseded,
            other => return Err(StoreError::Corrupt(format!("plan status '{other}'"))),
        })
    }
}

/// A plan shown to an admin, kept until it is applied, cancelled or expires.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPlan {
    /// Its id (in button ids).
    pub id: String,
    /// The pair it is for.
    pub pair: String,
    /// The accounts the plan was scoped to (empty: everyone).
    pub only_accounts: Vec<String>,
    /// Who asked for it.
    pub created_by: Trigger,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When it can no longer be confirmed.
    pub expires_at: DateTime<Utc>,
    /// Where it is in its life.
    pub status: PlanStatus,
    /// The plan.
    pub plan: Plan,
}

impl StoredPlan {
    /// Whether it can no longer be confirmed at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// What a new stored plan is made of.
#[derive(Debug, Clone, Copy)]
pub struct NewPlan<'a> {
    /// The pair it is for.
    pub pair: &'a str,
    /// The accounts it was limited to (empty: all).
    pub only_accounts: &'a [String],
    /// Who asked for it.
    pub created_by: &'a Trigger,
    /// How long it can be confirmed.
    pub lifetime: Duration,
    /// The plan.
    pub plan: &'a Plan,
}

/// A chat member (a Discord user id) linked to a Plex account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The chat member (a Discord user id).
    pub member_id: u64,
    /// The Plex account.
    pub plex_account_id: u64,
    /// The Plex account's name.
    pub plex_name: String,
}

/// When a schedule last fired and how that went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleState {
    /// When the schedule was first seen: occurrences before it are not "missed".
    pub armed_at: DateTime<Utc>,
    /// The last occurrence handled (run, or skipped as missed).
    pub last_due: Option<DateTime<Utc>>,
    /// When the last run started.
    pub last_started: Option<DateTime<Utc>>,
    /// When the last run finished.
    pub last_finished: Option<DateTime<Utc>>,
    /// One line: "in sync", "reported 3 accounts", "applied run #4", "failed: …".
    pub last_result: Option<String>,
    /// The last apply run.
    pub last_run: Option<RunId>,
}

type PlanRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);
type StateRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

impl Store {
    /// Store a new open plan.
    pub fn insert_plan(
        &self,
        new: &NewPlan<'_>,
        now: DateTime<Utc>,
    ) -> Result<StoredPlan, StoreError> {
        let stored = StoredPlan {
            id: uuid::Uuid::new_v4().simple().to_string(),
            pair: new.pair.to_string(),
            only_accounts: new.only_accounts.to_vec(),
            created_by: new.created_by.clone(),
            created_at: now,
            expires_at: now + new.lifetime,
            status: PlanStatus::Open,
            plan: new.plan.clone(),
        };
        self.lock().execute(
            "INSERT INTO plans (id, pair, only_accounts, created_by, created_at, expires_at, status, dest_machine_id, plan_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                stored.id,
                stored.pair,
                to_json(&stored.only_accounts)?,
                stored.created_by.as_str(),
                time_text(stored.created_at),
                time_text(stored.expires_at),
                stored.status.as_str(),
                new.plan.dest.machine_identifier,
                to_json(new.plan)?,
            ],
        )?;
        Ok(stored)
    }

    /// A stored plan by id.
    pub fn stored_plan(&self, id: &str) -> Result<Option<StoredPlan>, StoreError> {
        let row: Option<PlanRow> = self
            .lock()
            .query_row(
                "SELECT id, pair, only_accounts, created_by, created_at, expires_at, status, plan_json
                 FROM plans WHERE id = ?1",
                params![id],
                |r| PlanRow::try_from(r),
            )
            .optional()?;
        let Some((id, pair, only, by, created, expires, status, plan)) = row else {
            return Ok(None);
        };
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("plan {id}: {e}"));
        Ok(Some(StoredPlan {
            only_accounts: serde_json::from_str(&only).map_err(corrupt)?,
            plan: serde_json::from_str(&plan).map_err(corrupt)?,
            id,
            pair,
            created_by: Trigger::parse(&by),
            created_at: parse_time(&created)?,
            expires_at: parse_time(&expires)?,
            status: PlanStatus::parse(&status)?,
        }))
    }

    /// Move a plan from one status to another; false when it was not in `from` (someone else
    /// got there first). This is what makes a double press start one run only.
    pub fn transition_plan(
        &self,
        id: &str,
        from: PlanStatus,
        to: PlanStatus,
    ) -> Result<bool, StoreError> {
        let n = self.lock().execute(
            "UPDATE plans SET status = ?3 WHERE id = ?1 AND status = ?2",
            params![id, from.as_str(), to.as_str()],
        )?;
        Ok(n == 1)
    }

    /// Whether a stored plan for `dest` is being applied.
    pub fn plan_applying_on(&self, dest: &MachineId) -> Result<bool, StoreError> {
        Ok(self.lock().query_row(
            "SELECT EXISTS (SELECT 1 FROM plans WHERE dest_machine_id = ?1 AND status = 'applying')",
            params![dest.0],
            |r| r.get(0),
        )?)
    }

    /// Plans left `applying` by a process that stopped mid-run are marked failed (at start-up),
    /// so the destination is not locked forever. Returns how many.
    pub fn fail_interrupted_plans(&self) -> Result<usize, StoreError> {
        Ok(self.lock().execute(
            "UPDATE plans SET status = 'failed' WHERE status = 'applying'",
            [],
        )?)
    }

    /// Open plans not yet expired, newest first (at most `limit`): id, pair, expiry.
    pub fn open_plans(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        let conn = self.lock();
        let mut q = conn.prepare(
            "SELECT id, pair, expires_at FROM plans WHERE status = 'open' AND expires_at > ?1
             ORDER BY created_at DESC LIMIT ?2",
        )?;
        let rows = q
            .query_map(params![time_text(now), limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, pair, exp)| Ok((id, pair, parse_time(&exp)?)))
            .collect()
    }

    /// Link a member to a Plex account (replacing an earlier link).
    pub fn link(&self, link: &Link, by: &Trigger, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO links (member_id, plex_account_id, plex_name, linked_by, linked_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(member_id) DO UPDATE SET plex_account_id = ?2, plex_name = ?3,
                 linked_by = ?4, linked_at = ?5",
            params![
                link.member_id as i64,
                link.plex_account_id as i64,
                link.plex_name,
                by.as_str(),
                time_text(now)
            ],
        )?;
        Ok(())
    }

    /// Remove a member's link; false when there was none.
    pub fn unlink(&self, member_id: u64) -> Result<bool, StoreError> {
        let n = self.lock().execute(
            "DELETE FROM links WHERE member_id = ?1",
            params![member_id as i64],
        )?;
        Ok(n == 1)
    }

    /// The Plex account a member is linked to.
    pub fn linked(&self, member_id: u64) -> Result<Option<Link>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT plex_account_id, plex_name FROM links WHERE member_id = ?1",
                params![member_id as i64],
                |r| {
                    Ok(Link {
                        member_id,
                        plex_account_id: r.get::<_, i64>(0)? as u64,
                        plex_name: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// A schedule's state, creating it (armed at `now`) the first time a scheduler sees it.
    pub fn arm_schedule(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<ScheduleState, StoreError> {
        self.lock().execute(
            "INSERT INTO schedule_state (name, armed_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
            params![name, time_text(now)],
        )?;
        self.schedule_state(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("schedule '{name}' vanished")))
    }

    /// A schedule's state; `None` until a scheduler has seen it.
    pub fn schedule_state(&self, name: &str) -> Result<Option<ScheduleState>, StoreError> {
        let row: Option<StateRow> = self
            .lock()
            .query_row(
                "SELECT armed_at, last_due, last_started, last_finished, last_result, last_run_id
                 FROM schedule_state WHERE name = ?1",
                params![name],
                |r| StateRow::try_from(r),
            )
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let time = |t: Option<String>| t.map(|t| parse_time(&t)).transpose();
        Ok(Some(ScheduleState {
            armed_at: parse_time(&row.0)?,
            last_due: time(row.1)?,
            last_started: time(row.2)?,
            last_finished: time(row.3)?,
            last_result: row.4,
            last_run: row.5.map(RunId),
        }))
    }

    /// Claim occurrence `due` of a schedule: mark it handled (before running it, so a crash
    /// mid-run does not run it twice) unless it, or a later one, already is. One conditional
    /// update, so of two schedulers on one database exactly one gets `true` and runs it.
    pub fn claim_schedule_due(&self, name: &str, due: DateTime<Utc>) -> Result<bool, StoreError> {
        let due = time_text(due);
        Ok(self.lock().execute(
            "UPDATE schedule_state SET last_due = ?2 \
             WHERE name = ?1 AND (last_due IS NULL OR last_due < ?2)",
            params![name, due],
        )? > 0)
    }

    /// Record how a schedule's run went.
    pub fn schedule_ran(
        &self,
        name: &str,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
        result: &str,
        run: Option<RunId>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE schedule_state SET last_started = ?2, last_finished = ?3, last_result = ?4,
                 last_run_id = ?5 WHERE name = ?1",
            params![
                name,
                time_text(started),
                time_text(finished),
                result,
                run.map(|r| r.0)
            ],
        )?;
        Ok(())
    }
}

/// JSON columns: a serialisation failure is a bug in a type of ours, reported as such.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
