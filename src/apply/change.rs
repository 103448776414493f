//! One account's change as the executor sees it (a grant or an undo: [`Change`]), what it
//! asks for after a read ([`Step`], [`WriteOp`]), and how its writes ended ([`Driven`]).

use std::collections::{BTreeMap, BTreeSet};

use super::report::AccountReport;
use crate::model::{Account, AccountId, LibraryId, Server, Share, ShareId, SharingSettings};
use crate::store::{AccountResult, GrantAction, GrantId, StoreError};

/// A request to plex.tv. `Update` carries the complete new list (plex.tv replaces).
#[derive(Debug, Clone)]
pub(super) enum WriteOp {
    Update {
        share: Share,
        libraries: BTreeSet<LibraryId>,
    },
    Create {
        account: Account,
        libraries: BTreeSet<LibraryId>,
        /// The restrictions the plan showed for the new share.
        settings: SharingSettings,
    },
    /// Only `undo`, only for a share the undone run created.
    Delete { share: ShareId },
}

/// What an account needs, judged from one read.
#[derive(Debug)]
pub(super) enum Step {
    /// Nothing left to send: the change is in place.
    Done,
    /// Nothing will be sent, for this reason.
    Skip(String),
    /// Send `op`; it changes `changing` (id → title).
    Send {
        op: Box<WriteOp>,
        changing: BTreeMap<LibraryId, String>,
    },
}

/// One account's change, for the executor (a grant or an undo).
pub(super) trait Change: Sync {
    fn account_id(&self) -> AccountId;
    fn name(&self) -> &str;
    fn action(&self) -> GrantAction;
    /// The plan outcome behind it (`grant`, `new_share`, `pending`) or `undo`.
    fn planned(&self) -> &str;
    /// Every library it is about (id → title).
    fn scope(&self) -> &BTreeMap<LibraryId, String>;
    /// Why nothing was sent when everything was already in place.
    fn already_done_text(&self) -> String;
    /// What to send now, judged from the destination's catalogue and this account's share as
    /// last read (`None`: it has none). `limit`: once an intent is recorded, only libraries in it.
    fn decide(
        &self,
        server: &Server,
        share: Option<&Share>,
        limit: Option<&BTreeSet<LibraryId>>,
    ) -> Step;
    /// The restrictions a share it creates must carry.
    fn new_share_restrictions(&self) -> Option<&SharingSettings> {
        None
    }

    fn report(
        &self,
        result: AccountResult,
        reason: Option<String>,
        done: &BTreeMap<LibraryId, String>,
        missing: &BTreeMap<LibraryId, String>,
        share: Option<(ShareId, bool)>,
    ) -> AccountReport {
        AccountReport {
            account_id: self.account_id(),
            name: self.name().to_string(),
            planned: self.planned().to_string(),
            result,
            reason,
            libraries: done.values().cloned().collect(),
            missing: missing.values().cloned().collect(),
            share_id: share.map(|s| s.0),
            created_share: share.is_some_and(|s| s.1),
            requests: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ended {
    /// plex.tv accepted a write (or a re-read showed an earlier one had landed).
    Written {
        share_id: Option<ShareId>,
        created: bool,
    },
    /// Already in place; nothing sent.
    AlreadyDone,
    Skipped(String),
    Failed(String),
}

#[derive(Debug, Clone)]
pub(super) struct Driven {
    pub ended: Ended,
    /// The grant rows recorded for this account (empty when nothing was sent).
    pub grants: Vec<GrantId>,
    /// What those rows are about (id → title).
    pub changing: BTreeMap<LibraryId, String>,
    pub requests: u32,
}

impl Driven {
    pub fn without_request(ended: Ended) -> Self {
        Driven {
            ended,
            grants: Vec::new(),
            changing: BTreeMap::new(),
            requests: 0,
        }
    }
}

/// Errors that end the whole run.
#[derive(Debug)]
pub(super) enum Fatal {
    TokenRejected,
    /// Another process took the destination's lease over (this one looked dead to it).
    LeaseLost,
    Store(StoreError),
}

impl From<StoreError> for Fatal {
    fn from(e: StoreError) -> Self {
        Fatal::Store(e)
    }
}
