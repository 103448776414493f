//! What applying a plan asks of each account: add the planned destination libraries, as a
//! union with what the share has now.

use std::collections::{BTreeMap, BTreeSet};

use super::change::{Change, Step, WriteOp};

use crate::model::{
    Access, Account, AccountId, LibraryId, Server, Share, SharingSettings, SharingState,
};
use crate::plan::{Outcome, Plan};
use crate::store::GrantAction;

#[derive(Debug, Clone)]
pub(super) struct GrantTarget {
    pub account: Account,
    pub name: String,
    pub planned: Outcome,
    /// Destination libraries to add: global id → title.
    pub add: BTreeMap<LibraryId, String>,
    pub dest_name: String,
    /// `new_share`: the restrictions the plan showed for the new share.
    pub restrictions: Option<SharingSettings>,
}

/// The accounts a (fresh) plan writes to, with what to add.
pub(super) fn targets(plan: &Plan, state: &SharingState) -> Vec<GrantTarget> {
    plan.to_update()
        .filter(|u| !u.add_ids.is_empty())
        .map(|u| GrantTarget {
            account: state
                .accounts
                .get(&u.account_id)
                .cloned()
                .unwrap_or(Account {
                    id: u.account_id,
                    username: u.username.clone(),
                    email: u.email.clone(),
                    title: u.title.clone(),
                    kind: u.kind,
                }),
            name: u.display_name(),
            planned: u.outcome,
            add: u
                .add_ids
                .iter()
                .map(|id| {
                    let title = state
                        .dest
                        .server
                        .library(*id)
                        .map(|l| l.title.clone())
                        .unwrap_or_else(|| format!("library {id}"));
                    (*id, title)
                })
                .collect(),
            dest_name: state.dest.server.name.clone(),
            restrictions: u.restrictions.clone(),
        })
        .collect()
}

impl Change for GrantTarget {
    fn account_id(&self) -> AccountId {
        self.account.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn action(&self) -> GrantAction {
        GrantAction::Add
    }

    fn planned(&self) -> &str {
        self.planned.as_str()
    }

    fn scope(&self) -> &BTreeMap<LibraryId, String> {
        &self.add
    }

    fn already_done_text(&self) -> String {
        format!(
            "already has every planned library on {} (nothing sent)",
            self.dest_name
        )
    }

    fn new_share_restrictions(&self) -> Option<&SharingSettings> {
        self.restrictions.as_ref()
    }

    fn decide(
        &self,
        server: &Server,
        share: Option<&Share>,
        limit: Option<&BTreeSet<LibraryId>>,
    ) -> Step {
        let wanted: BTreeMap<LibraryId, String> = self
            .add
            .iter()
            .filter(|(id, _)| limit.is_none_or(|l| l.contains(id)))
            .filter(|(id, _)| server.library(**id).is_some())
            .map(|(id, t)| (*id, t.clone()))
            .collect();
        if wanted.is_empty() {
            return Step::Skip(format!(
                "the planned libraries no longer exist on {}",
                self.dest_name
            ));
        }
        match share {
            // Never turn All into a list: an explicit list would drop libraries added later.
            Some(share) if share.access == Access::All => Step::Skip(format!(
                "already has all libraries on {} (nothing sent)",
                self.dest_name
            )),
            Some(share) => {
                let current = match &share.access {
                    Access::Libraries(ids) => ids.clone(),
                    Access::All => unreachable!("handled above"),
                };
                let missing: BTreeMap<LibraryId, String> = wanted
                    .into_iter()
                    .filter(|(id, _)| !current.contains(id))
                    .collect();
                if missing.is_empty() {
                    return Step::Done;
                }
                // The union of what the share has NOW and what it gains: plex.tv replaces.
                let mut libraries = current;
                libraries.extend(missing.keys().copied());
                Step::Send {
                    op: Box::new(WriteOp::Update {
                        share: share.clone(),
                        libraries,
                    }),
                    changing: missing,
                }
            }
            None if self.planned == Outcome::NewShare => match &self.restrictions {
                Some(settings) => Step::Send {
                    op: Box::new(WriteOp::Create {
                        account: self.account.clone(),
                        libraries: wanted.keys().copied().collect(),
                        settings: settings.clone(),
                    }),
                    changing: wanted,
                },
                // The planner always sets them for a new share; never create one without.
                None => Step::Skip(format!(
                    "no restrictions were planned for the new share on {}; plan again",
                    self.dest_name
                )),
            },
            None => Step::Skip(format!(
                "the share on {} disappeared after the plan was made; plan again",
                self.dest_name
            )),
        }
    }
}
