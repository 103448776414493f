//! The executor: apply an approved plan to plex.tv without ever removing access, and record
//! every grant.
//!
//! [`Runner`] is how every front end runs one ([`Runner::apply`], [`Runner::undo`]); an apply:
//! 1. **Stale check** — reads both servers fresh and plans again with the same options. If the
//!    new plan differs from the approved one, it returns [`ApplyError::Stale`] with the
//!    differences and the new plan: nothing is written and **no run is recorded** (there is
//!    nothing to record; the caller shows the new plan for approval). The writes then follow the
//!    fresh plan, which equals the approved one (a saved plan JSON carries titles, not ids).
//!    A fresh read far below the servers' last good reads is refused first
//!    ([`ApplyError::ReadLooksWrong`], nothing written, no run recorded).
//!    Then the blast-radius limits ([`crate::guard::blast`]): a fresh plan over one is refused
//!    ([`ApplyError::OverLimit`], nothing written, no run recorded) unless the job allows it.
//! 2. **Union writes** — per account, the destination share's freshly read libraries plus the
//!    planned ones (update by share id for existing and pending shares; create by account id
//!    for `new_share`, carrying the restrictions the plan showed: the source share's, or
//!    plex.tv's defaults with `copy_restrictions = false`). Never an empty list, never `All`
//!    turned into a list (an `All` share is skipped), an existing share's settings sent back as
//!    read (v2) or not at all (legacy, and v2 shares whose settings the read left out), global
//!    ids only. A create plex.tv refuses (a restriction it will not take) is not sent again
//!    once a re-read shows no share: the account fails and nothing is created. Each write is
//!    computed from a read of its share at most `limits.max_snapshot_age_seconds` old (an
//!    older one is read again on its own: one request, never the whole list per write), and a
//!    grant already present is not sent again.
//! 3. **Faults** — writes go through a [`WriteLimiter`]; failures are retried per
//!    [`RetryPolicy`] (`Retry-After` honoured, else exponential backoff with jitter), and before
//!    each retry the destination is re-read and the union computed again, because a write may
//!    have landed though its answer was lost. A rejected token stops the run
//!    ([`ApplyError::TokenRejected`]); any other failure stays with its account.
//! 4. **Verify** — one re-read after writing; per account `applied`, `partial`, `failed` (with
//!    plex.tv's own words) or `skipped` (with the reason).
//! 5. **Record** — the run, each account's line, and each grant: `intent` before its request,
//!    the outcome after, `verified`/`missing` after the read-back. A run dropped part way (its
//!    future cancelled, a panic) is marked interrupted on the spot; a killed process's run is
//!    marked interrupted when its destination lease is taken over (see `lock.rs`).
//!    The next apply on the same destination settles interrupted grants from its fresh read.
//!
//! Before all of it, the destination's [`DestLease`] is taken (by the front end, or here): one
//! writer per destination across processes, held until the run is recorded.
//!
//! [`undo()`] is the one path in sharesync that removes access: it removes exactly what one
//! run added and is still present.
//!
//! Layout, each file using only those listed before it: `report.rs` (progress events, reports,
//! the undo preview), `lock.rs` (the destination lease: one writer per destination),
//! `limiter.rs`, `retry.rs`, `view.rs` (the shared fresh read of the destination), `error.rs`,
//! `change.rs` (one account's change, as the executor sees it), `drive.rs` (one account's
//! write/retry loop), `execute.rs` (batches and read-back), `run.rs` (a started run: write,
//! verify, record), `grant.rs` (what an apply asks of an account), `job.rs` (apply), `undo.rs`,
//! `runner.rs` (the front ends' one way in).

mod change;
mod drive;
mod error;
mod execute;
mod grant;
mod job;
mod limiter;
mod lock;
mod report;
mod retry;
mod run;
mod runner;
mod undo;
mod view;

pub use error::ApplyError;
pub use job::{apply, ApplyJob, ApplyRequest};
pub use limiter::WriteLimiter;
pub use lock::{end_dead_leases, holder_is_dead, this_process, Busy, DestLease, LeaseSettings};
pub use report::{AccountReport, Progress, RunReport, UndoAccount, UndoAction, UndoPlan};
pub use retry::{Backoff, RetryPolicy};
pub use run::DEFAULT_BATCH_SIZE;
pub use runner::{Applied, PendingUndo, Runner};
pub use undo::{plan_undo, undo, UndoJob};
