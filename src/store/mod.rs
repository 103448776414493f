//! The record: a SQLite file under the data directory (`Config::database_file()`), WAL mode,
//! schema versions by the `user_version` pragma.
//!
//! One file per concern, each owning its tables and its part of the API on [`Store`]:
//! * `db.rs`      — the [`Store`] handle and how timestamps are stored.
//! * `open.rs`    — opening (owner-only, WAL) and migrating the file.
//! * `migrate.rs` — the ordered schema migrations (every concern appends its own).
//! * `ids.rs`, `records.rs` — what a run record is: ids, triggers, statuses, rows.
//! * `runs.rs`    — writing runs, per-account results and grants (the executor's record).
//! * `history.rs` — reading runs and grants back.
//! * `guard.rs`   — each server's last good read and the deep checks (the guard rails).
//! * `lease.rs`   — one lease per destination server: who may write to it now.
//! * `plans.rs`   — plans waiting for an admin's button, member → Plex account links, and
//!   schedule state.
//!
//! Nothing here ever stores a secret: no Plex token, no Discord token, no `accessToken`. Runs
//! record *who* triggered them (`cli:alice`, `discord:1234`, `schedule:nightly`), never *how* they
//! were authenticated.

mod db;
mod error;
mod guard;
mod history;
mod ids;
mod lease;
mod migrate;
mod open;
mod plans;
mod records;
mod runs;

pub use db::Store;
pub(crate) use db::{now_text, parse_time, time_text};
pub use error::StoreError;
pub use guard::{Baseline, DeepCheckRecord, ReadSize};
pub use ids::{GrantId, RunId, Trigger};
pub use lease::{LeaseProcess, LeaseRecord, LeaseTake};
pub use migrate::SCHEMA_VERSION;
pub use open::{make_private, ABANDONED_AFTER};
pub use plans::{Link, NewPlan, PlanStatus, ScheduleState, StoredPlan};
pub use records::{
    AccountRecord, AccountResult, GrantAction, GrantIntent, GrantRecord, GrantState, NewRun,
    RunDetail, RunKind, RunRecord, RunStatus, RunSummary,
};
