//! What the executor tells a front end while a run goes ([`Progress`]) and after it
//! ([`RunReport`]), and the preview of an undo ([`UndoPlan`]). Plain data: every other file of
//! the executor uses it, it uses none of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{AccountId, ShareId};
use crate::store::{AccountResult, RunId, RunKind, RunRecord, RunStatus, RunSummary};

/// What the executor tells a front end as it goes (progress bars, Discord edits). An apply and
/// an undo send the same events: `Reading`, `Started`, `AccountDone` per account (with
/// `Retrying` between), `Verifying`, `Finished`.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Reading both servers for the stale check (or the destination for an undo).
    Reading,
    /// The run is recorded and writing starts.
    Started {
        /// The run's id in the record.
        run: RunId,
        /// Accounts the run will write to.
        accounts: usize,
        /// Libraries over all those accounts.
        libraries: usize,
    },
    /// A write failed and will be retried after `wait`.
    Retrying {
        /// The account's display name.
        account: String,
        /// Which retry this is (1 for the first).
        attempt: u32,
        /// How long the run waits before it.
        wait: Duration,
        /// What went wrong, in plex.tv's words.
        reason: String,
    },
    /// One account's writes are over (`what`: written, already in place, skipped: …, failed: …).
    AccountDone {
        /// The account's display name.
        account: String,
        /// Accounts done so far, this one included.
        done: usize,
        /// Accounts in the run.
        total: usize,
        /// What happened to it.
        what: String,
    },
    /// Reading the destination back.
    Verifying,
    /// The run is recorded as finished (its report follows).
    Finished {
        /// The run's id in the record.
        run: RunId,
    },
}

/// One account's result in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountReport {
    /// The account on plex.tv.
    pub account_id: AccountId,
    /// Its display name.
    pub name: String,
    /// The plan outcome (`grant`, `new_share`, `pending`) or `undo`.
    pub planned: String,
    /// How it ended.
    pub result: AccountResult,
    /// Why, when it did not simply apply.
    pub reason: Option<String>,
    /// Libraries changed (added; for an undo, removed) and confirmed, by title.
    pub libraries: Vec<String>,
    /// Libraries the run meant to change that are not as intended after it.
    pub missing: Vec<String>,
    /// The share written to.
    pub share_id: Option<ShareId>,
    /// The run created that share.
    pub created_share: bool,
    /// Write requests sent for this account (retries included).
    pub requests: u32,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The run's id in the record.
    pub run: RunId,
    /// Apply or undo.
    pub kind: RunKind,
    /// How the run ended.
    pub status: RunStatus,
    /// Accounts the run had to change, sorted by name. Accounts the plan had nothing to write
    /// for (in sync, all libraries, no match, skipped by the plan) are not listed.
    pub accounts: Vec<AccountReport>,
    /// The counts, as recorded.
    pub summary: RunSummary,
}

impl RunReport {
    /// Accounts that ended with `result`.
    pub fn count(&self, result: AccountResult) -> usize {
        self.accounts.iter().filter(|a| a.result == result).count()
    }
}

/// What an undo would do to one account, judged from a fresh read (for the confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoAction {
    /// Send the share's current libraries minus `remove`; `keep` libraries stay.
    Remove {
        /// Titles of the libraries removed.
        remove: Vec<String>,
        /// How many libraries the share keeps.
        keep: usize,
    },
    /// The run created this share and its libraries are all it has: delete the share.
    DeleteShare {
        /// Titles of the libraries removed with it.
        remove: Vec<String>,
    },
    /// The run's grants are no longer there.
    AlreadyGone,
    /// Nothing will be sent, for this reason.
    Skip(String),
}

/// One account in an undo's preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoAccount {
    /// The account on plex.tv.
    pub account_id: AccountId,
    /// Its display name.
    pub name: String,
    /// What the undo would do to it.
    pub action: UndoAction,
}

/// The preview an admin confirms.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoPlan {
    /// The apply run to undo, as recorded.
    pub run: RunRecord,
    /// What the undo would do, per account.
    pub accounts: Vec<UndoAccount>,
    /// Grants of the run that will not be removed, and why (granted again later, ...).
    pub notes: Vec<String>,
}

impl UndoPlan {
    /// Libraries that would be removed, over all accounts.
    pub fn removals(&self) -> usize {
        self.accounts
            .iter()
            .map(|a| match &a.action {
                UndoAction::Remove { remove, .. } | UndoAction::DeleteShare { remove } => {
                    remove.len()
                }
                _ => 0,
            })
            .sum()
    }
}
