//! Why an apply or an undo did not run, or stopped. Each variant says what happened; the front
//! ends word what to do about it.

use super::lock::Busy;
use super::report::UndoPlan;
use crate::guard::{OverLimit, ReadLooksWrong};
use crate::plan::{Plan, PlanError};
use crate::plex::PlexError;
use crate::store::{RunId, StoreError};

/// Why an apply or an undo did not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan changed since it was approved. Nothing was written; no run was recorded.
    #[error("the plan changed since it was approved ({} difference{}); nothing was written", .differences.len(), if .differences.len() == 1 { "" } else { "s" })]
    Stale {
        /// How the fresh plan differs from the approved one, one line each.
        differences: Vec<String>,
        /// The plan made from the fresh read, for a new approval.
        fresh_plan: Box<Plan>,
    },
    /// plex.tv answered 401: the run stopped (it is recorded as failed when it had started).
    #[error("plex.tv rejected the token")]
    TokenRejected {
        /// The run that stopped, when it had started.
        run: Option<RunId>,
    },
    /// Reading the servers before writing failed.
    #[error("could not read the servers from plex.tv: {0}")]
    Read(#[source] PlexError),
    /// The fresh read could not be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The fresh plan is over a blast-radius limit and the job did not allow it. Nothing was
    /// written; no run was recorded.
    #[error("{0}; nothing was written")]
    OverLimit(#[from] OverLimit),
    /// The fresh read is far below the servers' last good reads ([`crate::guard::baseline`]):
    /// a plan approved earlier (a saved file, a Confirm pressed later) is not applied from it.
    /// Nothing was written; no run was recorded.
    #[error(transparent)]
    ReadLooksWrong(#[from] ReadLooksWrong),
    /// The record could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Only an apply run can be undone.
    #[error("run {0} is an undo; only an apply run can be undone")]
    NotUndoable(RunId),
    /// The run to undo has not finished.
    #[error("run {0} is still running; wait for it to finish")]
    StillRunning(RunId),
    /// What undoing the run would remove changed since the preview the admin confirmed.
    /// Nothing was removed; `now` is the new preview.
    #[error("what undoing run {run} would remove changed since it was shown; nothing was removed")]
    UndoChanged {
        /// The run being undone.
        run: RunId,
        /// The preview from the fresh read.
        now: Box<UndoPlan>,
    },
    /// Another run holds the destination's lease. Nothing was read or written.
    #[error(transparent)]
    Busy(Busy),
    /// The lease handed to the run is for another server than the run's destination (the
    /// config changed between the press and the run). Nothing was read or written.
    #[error("the run was given the lease of {held}, not of its destination {dest}; nothing was read or written")]
    LeaseForAnotherServer {
        /// The server the lease is for.
        held: String,
        /// The run's destination.
        dest: String,
    },
}

impl From<Busy> for ApplyError {
    fn from(b: Busy) -> Self {
        match b {
            Busy::Store(e) => ApplyError::Store(e),
            held => ApplyError::Busy(held),
        }
    }
}

/// A failed read before writing: a rejected token stops everything, anything else is a read
/// error.
pub(super) fn read_error(e: PlexError) -> ApplyError {
    match e {
        PlexError::BadToken => ApplyError::TokenRejected { run: None },
        e => ApplyError::Read(e),
    }
}
