//! What the record holds about a run: its kind and status, its summary, each account's line and
//! each grant row, as the executor writes them and the front ends read them back.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::ids::{GrantId, RunId, Trigger};
use crate::model::{AccountId, LibraryId, ServerRef, ShareId};

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            /// The text the record stores.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(StoreError::Corrupt(format!(
                        "{} '{}'", stringify!($name), other
                    ))),
                }
            }
        }
    };
}

text_enum!(
    /// An apply of a plan, or the undo of an earlier run (the only path that removes access).
    RunKind {
        /// Grants what a plan adds.
        Apply => "apply",
        /// Takes back what an earlier run granted.
        Undo => "undo",
    }
);
text_enum!(
    /// Where a run is.
    RunStatus {
        /// In progress (its process renews its heartbeat).
        Running => "running",
        /// Ended normally; its accounts' results say how it went.
        Finished => "finished",
        /// Stopped part way (future dropped, process killed); its open intents are marked
        /// interrupted.
        Interrupted => "interrupted",
        /// Stopped by an error that ends the whole run (a rejected token).
        Failed => "failed",
    }
);
text_enum!(
    /// One account's result in a run.
    AccountResult {
        /// Every planned library is present after the run.
        Applied => "applied",
        /// Some are.
        Partial => "partial",
        /// None are; `reason` holds plex.tv's own words.
        Failed => "failed",
        /// Nothing was sent for this account; `reason` says why.
        Skipped => "skipped",
    }
);
text_enum!(
    /// What a grant row does to a library.
    GrantAction {
        /// Adds it (an apply).
        Add => "add",
        /// Removes it (an undo).
        Remove => "remove",
    }
);
text_enum!(
    /// intent → applied | failed(reason), then verified | missing after the read-back.
    GrantState {
        /// Recorded before the request; no answer yet.
        Intent => "intent",
        /// plex.tv accepted the request (or a re-read showed it had landed).
        Applied => "applied",
        /// plex.tv refused it; `reason` holds its words.
        Failed => "failed",
        /// The read-back after the run shows it in place.
        Verified => "verified",
        /// The read-back after the run does not show it.
        Missing => "missing",
        /// The run stopped between intent and outcome: the request may or may not have landed.
        Interrupted => "interrupted",
    }
);

/// What `start_run` needs.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// Apply or undo.
    pub kind: RunKind,
    /// The run an undo takes back.
    pub undo_of: Option<RunId>,
    /// The pair.
    pub pair: &'a str,
    /// The source server.
    pub source: &'a ServerRef,
    /// The destination server.
    pub dest: &'a ServerRef,
    /// Who started it.
    pub trigger: &'a Trigger,
}

/// Counted at the end of a run (stored as JSON in `runs.summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Accounts the plan (or the undo) had to change.
    pub accounts_planned: usize,
    /// Accounts whose every planned change is in place.
    pub accounts_updated: usize,
    /// Accounts where only some changes are in place.
    pub accounts_partial: usize,
    /// Accounts where none are.
    pub accounts_failed: usize,
    /// Accounts nothing was sent for.
    pub accounts_skipped: usize,
    /// Library grants added (for an undo: removed) and confirmed by the read-back.
    pub libraries_changed: usize,
    /// Write requests sent to plex.tv (retries included).
    pub write_requests: u64,
    /// All plex.tv requests this run made (reads included).
    pub requests: u64,
    /// The read-back after writing succeeded.
    pub verified: bool,
}

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Its number.
    pub id: RunId,
    /// Apply or undo.
    pub kind: RunKind,
    /// The run an undo takes back.
    pub undo_of: Option<RunId>,
    /// The pair.
    pub pair: String,
    /// The source server.
    pub source: ServerRef,
    /// The destination server.
    pub dest: ServerRef,
    /// Who started it.
    pub trigger: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while running.
    pub finished_at: Option<DateTime<Utc>>,
    /// Where it is.
    pub status: RunStatus,
    /// Its counts, once finished.
    pub summary: Option<RunSummary>,
    /// What stopped it.
    pub error: Option<String>,
}

/// One account's line in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The account.
    pub account_id: AccountId,
    /// Its name when the run ran.
    pub account_name: String,
    /// The plan's outcome for it (`grant`, `new_share`, `pending`) or `undo`.
    pub planned: String,
    /// `None` while the run is working on it.
    pub result: Option<AccountResult>,
    /// Why (plex.tv's words when it failed).
    pub reason: Option<String>,
    /// Its destination share.
    pub share_id: Option<ShareId>,
    /// The run created that share.
    pub created_share: bool,
}

/// One library granted (or removed) for one account in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRecord {
    /// Its number.
    pub id: GrantId,
    /// Its run.
    pub run_id: RunId,
    /// The account.
    pub account_id: AccountId,
    /// Its name when the run ran.
    pub account_name: String,
    /// The server.
    pub server: ServerRef,
    /// The share (`None` until a create answered).
    pub share_id: Option<ShareId>,
    /// The library's global id.
    pub library_id: LibraryId,
    /// Its title when the run ran.
    pub library_title: String,
    /// Add or remove.
    pub action: GrantAction,
    /// Where it is.
    pub state: GrantState,
    /// Why it failed, and what happened after.
    pub reason: Option<String>,
    /// The request that carried this grant created the share.
    pub created_share: bool,
    /// Requests sent for it (retries included).
    pub attempts: u32,
    /// The undo run that removed it.
    pub undone_by: Option<RunId>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Found in place only by a later read (its request failed, or its run was cut off): it
    /// may have been granted some other way, so undo leaves it.
    pub unconfirmed: bool,
}

/// A run with its per-account results and grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The run.
    pub run: RunRecord,
    /// Each account's line.
    pub accounts: Vec<AccountRecord>,
    /// Each grant row.
    pub grants: Vec<GrantRecord>,
}

/// The libraries one request is about to carry for one account.
#[derive(Debug, Clone)]
pub struct GrantIntent<'a> {
    /// The run.
    pub run: RunId,
    /// The account.
    pub account_id: AccountId,
    /// Its name.
    pub account_name: &'a str,
    /// The server.
    pub server: &'a ServerRef,
    /// `None` when the request creates the share.
    pub share_id: Option<ShareId>,
    /// (global id, title) of each library added (or removed).
    pub libraries: &'a [(LibraryId, String)],
    /// Add or remove.
    pub action: GrantAction,
    /// The request creates the share.
    pub created_share: bool,
}
