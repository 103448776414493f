//! The planner: a pure function from two servers' sharing state to a [`Plan`].
//!
//! For every account that can see libraries on the source, it finds the destination libraries
//! with the same name (trimmed, Unicode NFC, case-insensitive; aliases and exclusions from the
//! pair's config) and proposes adding the ones the account lacks. It never proposes removing
//! anything and never proposes a library the destination does not have.
//!
//! * `options.rs`  — what the planner may do ([`PlanOptions`]) and its error.
//! * `matching.rs` — which destination library each source library maps to.
//! * `planner.rs`  — [`plan`] itself.
//! * `document.rs` — the [`Plan`] it returns.

mod document;
mod matching;
mod options;
mod planner;

pub use document::{Outcome, Plan, PlanSummary, PlannedAccount, ServerSummary, PLAN_SCHEMA};
pub use matching::normalize_title;
pub use options::{PlanError, PlanOptions};
pub use planner::plan;
