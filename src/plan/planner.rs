//! The planning itself: for each account with access on the source, what to add on the
//! destination, and whether the destination share would be less restricted.

use std::collections::BTreeMap;

use crate::model::{
    Access, Account, AccountKind, Library, LibraryId, Server, Share, ShareState, SharingSettings,
    SharingState,
};
use crate::restrictions;

use super::document::{Outcome, Plan, PlanSummary, PlannedAccount, PLAN_SCHEMA};
use super::matching::{LibraryMatcher, Mapping};
use super::options::{PlanError, PlanOptions};

fn matches_filter(account: &Account, filter: &str) -> bool {
    let wanted = filter.trim().to_lowercase();
    let same = |v: &Option<String>| v.as_deref().is_some_and(|v| v.to_lowercase() == wanted);
    account.id.0.to_string() == wanted
        || same(&account.username)
        || same(&account.email)
        || account.title.to_lowercase() == wanted
}

/// The restrictions a new share will carry; `None` when they must be copied and the read did
/// not return them (then no share is created: never one less restricted than its source).
fn new_share_restrictions(source_share: &Share, opts: &PlanOptions) -> Option<SharingSettings> {
    if opts.copy_restrictions {
        source_share.settings.clone()
    } else {
        Some(SharingSettings::default())
    }
}

/// What the source share's restrictions are compared with.
enum Compared<'a> {
    Existing(&'a Share),
    Planned(&'a SharingSettings),
    Nothing,
}

/// How the destination share is less restricted than the source share; notes where that cannot
/// be told, and where an update goes around settings plex.tv did not return.
fn compare_restrictions(
    source_share: &Share,
    dest: Compared<'_>,
    outcome: Outcome,
    source: &Server,
    dest_server: &Server,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let dest_settings = match dest {
        Compared::Nothing => return Vec::new(),
        Compared::Planned(s) => Some(s),
        Compared::Existing(share) => {
            if share.settings.is_none() && outcome.writes() {
                notes.push(format!(
                    "plex.tv did not return this share's restrictions on {}; it is updated without them, so they stay as they are",
                    dest_server.name
                ));
            }
            share.settings.as_ref()
        }
    };
    match (source_share.settings.as_ref(), dest_settings) {
        (Some(s), Some(d)) => restrictions::less_restricted(s, d, &source.name),
        _ => {
            notes.push("restrictions not compared: plex.tv did not return them".to_string());
            Vec::new()
        }
    }
}

/// Plan the sync of `state.source` onto `state.dest`.
pub fn plan(state: &SharingState, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let source = &state.source.server;
    let dest = &state.dest.server;
    let matcher = LibraryMatcher::new(source, dest, opts);

    let wanted = |account: &Account| {
        opts.only_accounts.is_empty()
            || opts
                .only_accounts
                .iter()
                .any(|f| matches_filter(account, f))
    };

    let mut users = Vec::new();
    for (account_id, source_share) in &state.source.shares {
        let account = state.accounts.get(account_id).cloned().unwrap_or(Account {
            id: *account_id,
            username: None,
            email: None,
            title: String::new(),
            kind: AccountKind::Friend,
        });
        if !wanted(&account) {
            continue;
        }
        let seen: Vec<&Library> = match &source_share.access {
            Access::All => source.libraries.iter().collect(),
            Access::Libraries(ids) => source
                .libraries
                .iter()
                .filter(|l| ids.contains(&l.id))
                .collect(),
        };
        if seen.is_empty() {
            continue; // a share with no libraries is no source access
        }
        let mut source_libraries: Vec<String> = seen.iter().map(|l| l.title.clone()).collect();
        source_libraries.sort();

        let mut notes = Vec::new();
        let mut targets: BTreeMap<LibraryId, &Library> = BTreeMap::new();
        for lib in &seen {
            match &matcher.mapping[&lib.id] {
                Mapping::To(d) => {
                    targets.insert(d.id, d);
                }
                Mapping::Unavailable(why) => notes.push(why.clone()),
            }
        }

        let dest_share = state.dest.shares.get(account_id);
        let mut restrictions: Option<SharingSettings> = None;
        let (outcome, add): (Outcome, Vec<&Library>) = if source_share.state == ShareState::Pending
        {
            notes.push(format!(
                "the share on {} is still pending (invite not accepted)",
                source.name
            ));
            (Outcome::Skipped, vec![])
        } else {
            match dest_share {
                Some(s) if s.access == Access::All => (Outcome::DestAll, vec![]),
                _ if targets.is_empty() => (Outcome::NoMatch, vec![]),
                None if !opts.new_share => {
                    notes.push(format!("no share on {} and new_share is off", dest.name));
                    (Outcome::Skipped, vec![])
                }
                None => match new_share_restrictions(source_share, opts) {
                    Some(r) => {
                        restrictions = Some(r);
                        (Outcome::NewShare, targets.values().copied().collect())
                    }
                    None => {
                        notes.push(format!(
                            "plex.tv did not return the restrictions of the share on {}; no share is created on {} so none is less restricted than its source (plan again later)",
                            source.name, dest.name
                        ));
                        (Outcome::Skipped, vec![])
                    }
                },
                Some(s) => {
                    let missing: Vec<&Library> = targets
                        .values()
                        .copied()
                        .filter(|l| !s.access.contains(l.id))
                        .collect();
                    if s.state == ShareState::Pending {
                        notes.push(format!(
                            "the share on {} is pending (invite not accepted)",
                            dest.name
                        ));
                    }
                    match (missing.is_empty(), s.state) {
                        (true, _) => (Outcome::InSync, vec![]),
                        (false, ShareState::Pending) => (Outcome::Pending, missing),
                        (false, ShareState::Accepted) => (Outcome::Grant, missing),
                    }
                }
            }
        };
        let mut add_titles: Vec<String> = add.iter().map(|l| l.title.clone()).collect();
        add_titles.sort();
        let dest_settings = match dest_share {
            Some(s) => Compared::Existing(s),
            None => match &restrictions {
                Some(r) => Compared::Planned(r),
                None => Compared::Nothing,
            },
        };
        let less_restricted = compare_restrictions(
            source_share,
            dest_settings,
            outcome,
            source,
            dest,
            &mut notes,
        );
        users.push(PlannedAccount {
            account_id: account.id,
            username: account.username.clone(),
            email: account.email.clone(),
            title: account.title.clone(),
            kind: account.kind,
            outcome,
            source_libraries,
            add: add_titles,
            notes,
            restrictions,
            less_restricted,
            add_ids: add.iter().map(|l| l.id).collect(),
        });
    }

    let unknown: Vec<String> = opts
        .only_accounts
        .iter()
        .filter(|f| {
            !state
                .source
                .shares
                .keys()
                .any(|id| state.accounts.get(id).is_some_and(|a| matches_filter(a, f)))
        })
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(PlanError::UnknownAccounts {
            server: source.name.clone(),
            filters: unknown,
        });
    }

    let summary = PlanSummary {
        users_to_update: users
            .iter()
            .filter(|u| u.outcome.writes() && !u.add.is_empty())
            .count(),
        grants_to_add: users.iter().map(|u| u.add.len()).sum(),
    };
    Ok(Plan {
        schema: PLAN_SCHEMA,
        source: source.into(),
        dest: dest.into(),
        users,
        warnings: matcher.warnings,
        summary,
    })
}
