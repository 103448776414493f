//! Share writes as plex.tv applies them (create, replace sections) and the refusals they share
//! between the two API families.

use std::collections::BTreeSet;

use super::records::{CreatedSettings, ServerRecord, SettingsRecord, ShareRecord};
use super::{random_token, World};

/// Why a share write was refused (the routes choose the status and shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteError {
    UnknownSections(Vec<u64>),
    Duplicate(String),
    UnknownInvitee(String),
    SelfShare,
    /// A label filter for a managed user with a restriction profile.
    LabelsRefused(String),
}

/// The label clauses of a share's filters (`label=`/`label!=`), to tell whether a write changes
/// them.
fn label_clauses(s: &SettingsRecord) -> BTreeSet<String> {
    s.filters()
        .into_iter()
        .flat_map(|(name, f)| {
            f.as_deref()
                .unwrap_or("")
                .split('|')
                .filter(|c| c.trim_start().starts_with("label"))
                .map(move |c| format!("{name}:{}", c.trim()))
                .collect::<Vec<_>>()
        })
        .collect()
}

impl World {
    /// The owner's server with this machine id.
    pub(crate) fn owned_server(&self, machine_id: &str) -> Option<&ServerRecord> {
        self.server(machine_id).filter(|s| s.owned)
    }

    /// A friend or managed user matching a username or email (what `invited_email` takes).
    pub(crate) fn invitee_by_login(&self, login: &str) -> Option<u64> {
        let login = login.trim();
        let eq = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(login));
        self.accounts
            .values()
            .find(|a| eq(&a.username) || eq(&a.email))
            .map(|a| a.id)
    }

    /// Ids that are not sections of `machine_id`.
    pub(crate) fn unknown_sections(&self, machine_id: &str, ids: &[u64]) -> Vec<u64> {
        let known = self
            .server(machine_id)
            .map(|s| s.section_ids())
            .unwrap_or_default();
        ids.iter()
            .copied()
            .filter(|id| !known.contains(id))
            .collect()
    }

    /// Create a share. `ids` empty = all libraries. An invite by login of a known account is
    /// accepted at once (friends and managed users already have a relationship with the owner);
    /// an address nobody has is a pending invite.
    pub(crate) fn create_share(
        &mut self,
        machine_id: &str,
        invited_id: Option<u64>,
        invited_email: Option<&str>,
        ids: &[u64],
        settings: SettingsRecord,
        now: i64,
    ) -> Result<u64, WriteError> {
        let unknown = self.unknown_sections(machine_id, ids);
        if !unknown.is_empty() {
            return Err(WriteError::UnknownSections(unknown));
        }
        let account_id = match (invited_id, invited_email) {
            (Some(id), _) if id == self.owner.id => return Err(WriteError::SelfShare),
            (Some(id), _) => Some(
                self.accounts
                    .get(&id)
                    .map(|a| a.id)
                    .ok_or_else(|| WriteError::UnknownInvitee(id.to_string()))?,
            ),
            (None, Some(login)) => {
                let owner = &self.owner;
                let is_owner = [&owner.username, &owner.email].iter().any(|v| {
                    v.as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case(login.trim()))
                });
                if is_owner {
                    return Err(WriteError::SelfShare);
                }
                self.invitee_by_login(login)
            }
            (None, None) => return Err(WriteError::UnknownInvitee(String::new())),
        };
        let email = invited_email.map(|e| e.trim().to_string());
        let duplicate = self.shares_on(machine_id).find(|s| match account_id {
            Some(id) => s.account_id == Some(id),
            None => {
                s.account_id.is_none()
                    && s.invited_email.as_deref().map(str::to_lowercase)
                        == email.as_deref().map(str::to_lowercase)
            }
        });
        if let Some(existing) = duplicate {
            let name = match existing.account_id.and_then(|id| self.accounts.get(&id)) {
                Some(a) => a.display_name(),
                None => existing.invited_email.clone().unwrap_or_default(),
            };
            return Err(WriteError::Duplicate(name));
        }
        self.check_labels(account_id, None, &settings)?;
        let id = self.next_share_id();
        let pending = account_id.is_none();
        let settings = match self.created_settings {
            CreatedSettings::Ignored => SettingsRecord::reset(),
            CreatedSettings::Applied | CreatedSettings::Partial => settings,
        };
        if self.created_settings == CreatedSettings::Partial {
            self.partial_settings.insert(id);
        }
        self.shares.insert(
            id,
            ShareRecord {
                id,
                machine_id: machine_id.to_string(),
                account_id,
                invited_email: email,
                pending,
                all_libraries: ids.is_empty(),
                section_ids: ids.iter().copied().collect(),
                settings,
                invited_at: now,
                accepted_at: (!pending).then_some(now),
                access_token: random_token(),
                invite_token: random_token(),
            },
        );
        Ok(id)
    }

    /// plex.tv is reported to refuse label-filter changes for a managed user with a
    /// restriction profile: the profile owns that user's filters. The
    /// sandbox refuses any write that would give such a user label clauses it does not
    /// already have, on create and on a v2 update (the legacy PUT carries no settings).
    pub(crate) fn check_labels(
        &self,
        account_id: Option<u64>,
        before: Option<&SettingsRecord>,
        after: &SettingsRecord,
    ) -> Result<(), WriteError> {
        let Some(account) = account_id.and_then(|id| self.accounts.get(&id)) else {
            return Ok(());
        };
        if !account.is_managed() || account.restriction_profile.is_none() {
            return Ok(());
        }
        let had = before.map(label_clauses).unwrap_or_default();
        if label_clauses(after) == had {
            return Ok(());
        }
        Err(WriteError::LabelsRefused(account.display_name()))
    }

    /// Replace a share's sections. An empty list makes it an all-libraries share (the sandbox's
    /// choice: real plex.tv's answer to an empty update is unverified, clients must not send one).
    pub(crate) fn replace_sections(
        &mut self,
        share_id: u64,
        ids: &[u64],
    ) -> Result<(), WriteError> {
        let Some(mid) = self.shares.get(&share_id).map(|s| s.machine_id.clone()) else {
            return Err(WriteError::UnknownInvitee(share_id.to_string()));
        };
        let unknown = self.unknown_sections(&mid, ids);
        if !unknown.is_empty() {
            return Err(WriteError::UnknownSections(unknown));
        }
        if let Some(share) = self.shares.get_mut(&share_id) {
            share.all_libraries = ids.is_empty();
            share.section_ids = ids.iter().copied().collect();
        }
        Ok(())
    }
}
