//! The bot's own SQLite tables: stored plans (so buttons work after a restart) and Discord → Plex
//! account links. Same database file as the engine's store (`Config::database_file`), separate
//! tables. Synchronous rusqlite behind a mutex; every call is short.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use sharesync::plan::Plan;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored plan is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot create the data directory {0}")]
    Dir(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    /// Waiting for an admin.
    Open,
    /// Confirmed; a run is in progress.
    Applying,
    Applied,
    /// The run stopped with an error; the plan can be planned again.
    Failed,
    Cancelled,
    /// A stale check found a newer plan; that one replaces this.
    Superseded,
}

impl PlanStatus {
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

    fn parse(s: &str) -> PlanStatus {
        match s {
            "applying" => PlanStatus::Applying,
            "applied" => PlanStatus::Applied,
            "failed" => PlanStatus::Failed,
            "cancelled" => PlanStatus::Cancelled,
            "superseded" => PlanStatus::Superseded,
            _ => PlanStatus::Open,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoredPlan {
    pub id: String,
    pub pair: String,
    /// The accounts the plan was scoped to (empty: everyone).
    pub only_accounts: Vec<String>,
    pub author_id: u64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: PlanStatus,
    pub plan: Plan,
}

impl StoredPlan {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub discord_user_id: u64,
    pub plex_account_id: u64,
    pub plex_name: String,
}

#[derive(Clone)]
pub struct BotStore {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS discord_plans (
    id TEXT PRIMARY KEY,
    pair TEXT NOT NULL,
    only_accounts TEXT NOT NULL,
    author_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL,
    dest_machine TEXT NOT NULL,
    plan_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS discord_links (
    discord_user_id INTEGER PRIMARY KEY,
    plex_account_id INTEGER NOT NULL,
    plex_name TEXT NOT NULL,
    linked_by INTEGER NOT NULL,
    linked_at TEXT NOT NULL
);
";

impl BotStore {
    pub fn open(path: &Path) -> Result<BotStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Dir(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA journal_mode=WAL;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(BotStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub fn in_memory() -> Result<BotStore, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(BotStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn new_plan_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    /// Store a new open plan; returns its id.
    pub fn insert_plan(
        &self,
        pair: &str,
        only_accounts: &[String],
        author_id: u64,
        ttl: Duration,
        plan: &Plan,
        now: DateTime<Utc>,
    ) -> Result<StoredPlan, StoreError> {
        let stored = StoredPlan {
            id: Self::new_plan_id(),
            pair: pair.to_string(),
            only_accounts: only_accounts.to_vec(),
            author_id,
            created_at: now,
            expires_at: now + ttl,
            status: PlanStatus::Open,
            plan: plan.clone(),
        };
        self.conn().execute(
            "INSERT INTO discord_plans (id, pair, only_accounts, author_id, created_at, expires_at, status, dest_machine, plan_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                stored.id,
                stored.pair,
                serde_json::to_string(&stored.only_accounts)?,
                author_id as i64,
                stored.created_at.to_rfc3339(),
                stored.expires_at.to_rfc3339(),
                stored.status.as_str(),
                plan.dest.machine_identifier,
                serde_json::to_string(plan)?,
            ],
        )?;
        Ok(stored)
    }

    pub fn plan(&self, id: &str) -> Result<Option<StoredPlan>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, pair, only_accounts, author_id, created_at, expires_at, status, plan_json
                 FROM discord_plans WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, pair, only, author, created, expires, status, json)) = row else {
            return Ok(None);
        };
        let time = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        Ok(Some(StoredPlan {
            id,
            pair,
            only_accounts: serde_json::from_str(&only)?,
            author_id: author as u64,
            created_at: time(&created),
            expires_at: time(&expires),
            status: PlanStatus::parse(&status),
            plan: serde_json::from_str(&json)?,
        }))
    }

    /// Move a plan from one status to another; false when it was not in `from` (someone else
    /// got there first). This is what makes a double press start one run only.
    pub fn transition(
        &self,
        id: &str,
        from: PlanStatus,
        to: PlanStatus,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE discord_plans SET status = ?3 WHERE id = ?1 AND status = ?2",
            params![id, from.as_str(), to.as_str()],
        )?;
        Ok(n == 1)
    }

    /// Plans a destination currently has in flight (by machine identifier).
    pub fn applying_on(&self, dest_machine: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id FROM discord_plans WHERE dest_machine = ?1 AND status = 'applying'",
        )?;
        let ids = stmt
            .query_map(params![dest_machine], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Plans left `applying` by a process that stopped mid-run: marked failed at start-up so the
    /// destination is not locked forever. Returns how many.
    pub fn fail_interrupted(&self) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "UPDATE discord_plans SET status = 'failed' WHERE status = 'applying'",
            [],
        )?)
    }

    /// Open plans not yet expired, newest first.
    pub fn open_plans(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, pair, expires_at FROM discord_plans WHERE status = 'open' ORDER BY created_at DESC LIMIT 20",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, pair, exp)| {
                let exp = DateTime::parse_from_rfc3339(&exp).ok()?.with_timezone(&Utc);
                (exp > now).then_some((id, pair, exp))
            })
            .collect())
    }

    /// The newest open plan (for `/sync-apply` with no id).
    pub fn latest_open(&self, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        Ok(self
            .open_plans(now)?
            .into_iter()
            .next()
            .map(|(id, _, _)| id))
    }

    pub fn link(&self, link: &Link, by: u64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO discord_links (discord_user_id, plex_account_id, plex_name, linked_by, linked_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(discord_user_id) DO UPDATE SET plex_account_id = ?2, plex_name = ?3, linked_by = ?4, linked_at = ?5",
            params![
                link.discord_user_id as i64,
                link.plex_account_id as i64,
                link.plex_name,
                by as i64,
                now.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    pub fn unlink(&self, discord_user_id: u64) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "DELETE FROM discord_links WHERE discord_user_id = ?1",
            params![discord_user_id as i64],
        )?;
        Ok(n == 1)
    }

    pub fn linked(&self, discord_user_id: u64) -> Result<Option<Link>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT plex_account_id, plex_name FROM discord_links WHERE discord_user_id = ?1",
                params![discord_user_id as i64],
                |r| {
                    Ok(Link {
                        discord_user_id,
                        plex_account_id: r.get::<_, i64>(0)? as u64,
                        plex_name: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sharesync::plan::{PlanSummary, ServerSummary, PLAN_SCHEMA};

    fn plan() -> Plan {
        Plan {
            schema: PLAN_SCHEMA,
            source: ServerSummary {
                name: "noodle".into(),
                machine_identifier: "src".into(),
            },
            dest: ServerSummary {
                name: "doodoo".into(),
                machine_identifier: "dst".into(),
            },
            users: vec![],
            warnings: vec![],
            summary: PlanSummary::default(),
        }
    }

    #[test]
    fn a_plan_round_trips_and_confirms_once() {
        let store = BotStore::in_memory().unwrap();
        let now = Utc::now();
        let p = store
            .insert_plan(
                "main",
                &["bob".into()],
                42,
                Duration::minutes(30),
                &plan(),
                now,
            )
            .unwrap();
        let back = store.plan(&p.id).unwrap().unwrap();
        assert_eq!(back.plan, plan());
        assert_eq!(back.only_accounts, vec!["bob".to_string()]);
        assert_eq!(back.author_id, 42);
        assert!(!back.expired(now));
        assert!(back.expired(now + Duration::minutes(31)));
        assert!(store
            .transition(&p.id, PlanStatus::Open, PlanStatus::Applying)
            .unwrap());
        assert!(!store
            .transition(&p.id, PlanStatus::Open, PlanStatus::Applying)
            .unwrap());
        assert_eq!(store.applying_on("dst").unwrap(), vec![p.id.clone()]);
        assert_eq!(store.fail_interrupted().unwrap(), 1);
        assert!(store.applying_on("dst").unwrap().is_empty());
    }

    #[test]
    fn links_replace_and_unlink() {
        let store = BotStore::in_memory().unwrap();
        let now = Utc::now();
        let l = Link {
            discord_user_id: 7,
            plex_account_id: 100,
            plex_name: "alice".into(),
        };
        store.link(&l, 1, now).unwrap();
        store
            .link(
                &Link {
                    plex_account_id: 101,
                    ..l.clone()
                },
                1,
                now,
            )
            .unwrap();
        assert_eq!(store.linked(7).unwrap().unwrap().plex_account_id, 101);
        assert!(store.unlink(7).unwrap());
        assert!(!store.unlink(7).unwrap());
        assert!(store.linked(7).unwrap().is_none());
    }
}
