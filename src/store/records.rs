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
    RunKind { Apply => "apply", Undo => "undo" }
);
text_enum!(
    RunStatus {
        Running => "running",
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
    GrantAction { Add => "add", Remove => "remove" }
);
text_enum!(
    /// intent → applied | failed(reason), then verified | missing after the read-back.
    GrantState {
        /// Recorded before the request; no answer yet.
        Intent => "intent",
        /// plex.tv accepted the request (or a re-read showed it had landed).
        Applied => "applied",
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
    pub kind: RunKind,
    pub undo_of: Option<RunId>,
    pub pair: &'a str,
    pub source: &'a ServerRef,
    pub dest: &'a ServerRef,
    pub trigger: &'a Trigger,
}

/// Counted at the end of a run (stored as JSON in `runs.summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Accounts the plan (or the undo) had to change.
    pub accounts_planned: usize,
    /// Accounts whose every planned change is in place.
    pub accounts_updated: usize,
    pub accounts_partial: usize,
    pub accounts_failed: usize,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub kind: RunKind,
    pub undo_of: Option<RunId>,
    pub pair: String,
    pub source: ServerRef,
    pub dest: ServerRef,
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub summary: Option<RunSummary>,
    pub error: Option<String>,
}

/// One account's line in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub account_id: AccountId,
    pub account_name: String,
    /// The plan's outcome for it (`grant`, `new_share`, `pending`) or `undo`.
    pub planned: String,
    /// `None` while the run is working on it.
    pub result: Option<AccountResult>,
    pub reason: Option<String>,
    pub share_id: Option<ShareId>,
    pub created_share: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub id: GrantId,
    pub run_id: RunId,
    pub account_id: AccountId,
    pub account_name: String,
    pub server: ServerRef,
    pub share_id: Option<ShareId>,
    pub library_id: LibraryId,
    pub library_title: String,
    pub action: GrantAction,
    pub state: GrantState,
    pub reason: Option<String>,
    /// The request that carried this grant created the share.
    pub created_share: bool,
    /// Requests sent for it (retries included).
    pub attempts: u32,
    /// The undo run that removed it.
    pub undone_by: Option<RunId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Found in place only by a later read (its request failed, or its run was cut off): it
    /// may have been granted some other way, so undo leaves it.
    pub unconfirmed: bool,
}

/// A run with its per-account results and grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunRecord,
    pub accounts: Vec<AccountRecord>,
    pub grants: Vec<GrantRecord>,
}

/// The libraries one request is about to carry for one account.
#[derive(Debug, Clone)]
pub struct GrantIntent<'a> {
    pub run: RunId,
    pub account_id: AccountId,
    pub account_name: &'a str,
    pub server: &'a ServerRef,
    /// `None` when the request creates the share.
    pub share_id: Option<ShareId>,
    /// (global id, title) of each library added (or removed).
    pub libraries: &'a [(LibraryId, String)],
    pub action: GrantAction,
    pub created_share: bool,
}
