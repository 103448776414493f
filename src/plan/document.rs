//! The plan as a document: one line per account with its outcome, and the summary (plan JSON
//! schema 1, which saved plans and `--json` output use).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Account, AccountId, AccountKind, LibraryId, Server, SharingSettings};
use crate::restrictions;

/// The plan JSON schema version.
pub const PLAN_SCHEMA: u32 = 1;

/// What the plan does for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Update an existing, accepted destination share.
    Grant,
    /// Create a destination share.
    NewShare,
    /// Already has every matching library.
    InSync,
    /// The destination share already has All.
    DestAll,
    /// The destination share is not yet accepted; it is updated through its share id.
    Pending,
    /// Nothing the account sees on the source exists on the destination.
    NoMatch,
    /// Not planned, with the reason in `notes`.
    Skipped,
}

impl Outcome {
    /// Every outcome, in the order summaries list them.
    pub const ALL: [Outcome; 7] = [
        Outcome::Grant,
        Outcome::NewShare,
        Outcome::Pending,
        Outcome::InSync,
        Outcome::DestAll,
        Outcome::NoMatch,
        Outcome::Skipped,
    ];

    /// The name in plan JSON and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Grant => "grant",
            Outcome::NewShare => "new_share",
            Outcome::InSync => "in_sync",
            Outcome::DestAll => "dest_all",
            Outcome::Pending => "pending",
            Outcome::NoMatch => "no_match",
            Outcome::Skipped => "skipped",
        }
    }

    /// Outcomes that write to plex.tv.
    pub fn writes(self) -> bool {
        matches!(self, Outcome::Grant | Outcome::NewShare | Outcome::Pending)
    }
}

/// A server as a plan names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSummary {
    /// Its name.
    pub name: String,
    /// Its machineIdentifier.
    pub machine_identifier: String,
}

impl From<&Server> for ServerSummary {
    fn from(s: &Server) -> Self {
        ServerSummary {
            name: s.name.clone(),
            machine_identifier: s.machine_id.0.clone(),
        }
    }
}

/// One account's line in the plan (plan JSON schema 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAccount {
    /// The account.
    pub account_id: AccountId,
    /// Its username.
    pub username: Option<String>,
    /// Its e-mail address.
    pub email: Option<String>,
    /// The name plex.tv shows for it.
    pub title: String,
    /// Friend or managed user.
    pub kind: AccountKind,
    /// What the plan does for it.
    pub outcome: Outcome,
    /// Source library titles the account sees, as the source spells them, sorted.
    pub source_libraries: Vec<String>,
    /// Destination library titles to add, as the destination spells them, sorted.
    pub add: Vec<String>,
    /// Why, and what to know (skipped libraries, restrictions not compared).
    pub notes: Vec<String>,
    /// `new_share` only: the restrictions (filters and permissions) the new share will carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<SharingSettings>,
    /// Every way the destination share (existing or planned) is less restricted than the
    /// source share. sharesync never changes an existing share's restrictions itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub less_restricted: Vec<String>,
    /// The destination library ids behind `add`. Not part of the JSON: a saved plan is always
    /// recomputed from fresh state before it is applied.
    #[serde(skip)]
    pub add_ids: BTreeSet<LibraryId>,
}

impl PlannedAccount {
    /// The name a person recognises: username, else title, else the id.
    pub fn display_name(&self) -> String {
        Account {
            id: self.account_id,
            username: self.username.clone(),
            email: self.email.clone(),
            title: self.title.clone(),
            kind: self.kind,
        }
        .display_name()
    }
}

/// The plan's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Accounts the plan writes to.
    pub users_to_update: usize,
    /// Library grants it adds.
    pub grants_to_add: usize,
}

/// A plan: what a sync would add for each account (plan JSON schema 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA`].
    pub schema: u32,
    /// The source server.
    pub source: ServerSummary,
    /// The destination server.
    pub dest: ServerSummary,
    /// One line per account with access on the source.
    pub users: Vec<PlannedAccount>,
    /// What planning noticed (duplicate names, differing types).
    pub warnings: Vec<String>,
    /// The totals.
    pub summary: PlanSummary,
}

impl Plan {
    /// How many accounts have `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.users.iter().filter(|u| u.outcome == outcome).count()
    }

    /// Accounts whose destination share is (or will be) less restricted than their source share.
    pub fn less_restricted(&self) -> usize {
        self.users
            .iter()
            .filter(|u| !u.less_restricted.is_empty())
            .count()
    }

    /// Accounts whose plan writes something.
    pub fn to_update(&self) -> impl Iterator<Item = &PlannedAccount> {
        self.users
            .iter()
            .filter(|u| u.outcome.writes() && !u.add.is_empty())
    }

    /// How this plan's changes differ from `other`'s, one line per difference; empty when an
    /// approval of `other` also approves this plan (an apply recomputes the plan first and
    /// goes ahead only when nothing differs from the approved one).
    pub fn differences(&self, other: &Plan) -> Vec<String> {
        let mut out = Vec::new();
        for (label, a, b) in [
            ("source", &self.source, &other.source),
            ("destination", &self.dest, &other.dest),
        ] {
            if a.machine_identifier != b.machine_identifier {
                out.push(format!("{label} server is now {} (was {})", a.name, b.name));
            }
        }
        fn index(p: &Plan) -> BTreeMap<AccountId, &PlannedAccount> {
            p.users.iter().map(|u| (u.account_id, u)).collect()
        }
        let (now, then) = (index(self), index(other));
        for (id, u) in &now {
            let name = u.display_name();
            match then.get(id) {
                None => out.push(format!("{name}: new in the plan ({})", u.outcome.as_str())),
                Some(t) if t.outcome != u.outcome || t.add != u.add => out.push(format!(
                    "{name}: was {} {:?}, now {} {:?}",
                    t.outcome.as_str(),
                    t.add,
                    u.outcome.as_str(),
                    u.add
                )),
                // A plan saved before plans showed restrictions: its approval did not see them.
                Some(t) if t.restrictions.is_none() && u.restrictions.is_some() => {
                    out.push(format!(
                        "{name}: restrictions not shown in the approved plan (the new share would carry {}); plan again",
                        u.restrictions
                            .as_ref()
                            .map_or("unknown".into(), restrictions::describe),
                    ))
                }
                // The new share would carry other restrictions than the ones approved.
                Some(t) if t.restrictions != u.restrictions => out.push(format!(
                    "{name}: the new share's restrictions are now {} (were {})",
                    u.restrictions
                        .as_ref()
                        .map_or("unknown".into(), restrictions::describe),
                    t.restrictions
                        .as_ref()
                        .map_or("unknown".into(), restrictions::describe),
                )),
                Some(_) => {}
            }
        }
        for (id, u) in &then {
            let name = u.display_name();
            if !now.contains_key(id) {
                out.push(format!("{name}: no longer in the plan"));
            }
        }
        out
    }
}
