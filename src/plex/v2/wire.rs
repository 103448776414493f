//! The v2 family's JSON and how it becomes model types: owned servers, a catalogue, and one
//! server's shares selected out of the all-servers share lists. No `accessToken` or
//! `inviteToken` field: serde drops them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::model::{
    Access, Account, AccountId, LibraryId, Server, ServerRef, ServerSharing, Share, ShareId,
    ShareState, SharingSettings,
};
use crate::plex::assemble::{catalogue, owned_server, ListedLibrary, ServerRead};
use crate::plex::de::{
    flag, flag_opt, is_set, string_opt, string_present, u64_opt, u64_req, vec_or_null,
};
use crate::plex::{validate, PlexError};

#[cfg(test)]
mod tests;

/// `GET /api/v2/resources` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Resource {
    #[serde(default, deserialize_with = "string_opt")]
    name: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    client_identifier: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    provides: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    owned: bool,
}

/// `GET /api/v2/servers/{mid}`
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireServer {
    #[serde(default, deserialize_with = "string_opt")]
    name: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    machine_identifier: Option<String>,
    /// Required: a body without it is not a catalogue.
    #[serde(deserialize_with = "vec_or_null")]
    library_sections: Vec<WireLibrary>,
}

#[derive(Debug, Deserialize)]
struct WireLibrary {
    #[serde(deserialize_with = "u64_req")]
    id: u64,
    #[serde(default, deserialize_with = "u64_opt")]
    key: Option<u64>,
    #[serde(default, deserialize_with = "string_opt")]
    title: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "string_opt")]
    kind: Option<String>,
}

/// The account a share is for (`invited`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invited {
    #[serde(default, deserialize_with = "u64_opt")]
    id: Option<u64>,
    #[serde(default, deserialize_with = "string_opt")]
    title: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    username: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    email: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    friendly_name: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    restricted: bool,
    #[serde(default, deserialize_with = "flag")]
    home: bool,
}

/// `sharingSettings` / `settings`, read and written in the same shape. Every field is `None`
/// when its key is missing (a filter's explicit `null` is `Some(None)`), so a partial object is
/// told apart from a complete one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSettings {
    #[serde(default, deserialize_with = "flag_opt")]
    allow_sync: Option<bool>,
    #[serde(default, deserialize_with = "flag_opt")]
    allow_camera_upload: Option<bool>,
    #[serde(default, deserialize_with = "flag_opt")]
    allow_channels: Option<bool>,
    #[serde(default, deserialize_with = "flag_opt")]
    allow_subtitle_admin: Option<bool>,
    #[serde(default, deserialize_with = "u64_opt")]
    allow_tuners: Option<u64>,
    #[serde(default, deserialize_with = "string_present")]
    filter_movies: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    filter_music: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    filter_television: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    filter_photos: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    filter_all: Option<Option<String>>,
}

impl WireSettings {
    /// The share's settings, or `None` unless every key is there.
    fn known(&self) -> Option<SharingSettings> {
        validate::known_settings(
            [
                self.allow_sync,
                self.allow_camera_upload,
                self.allow_channels,
                self.allow_subtitle_admin,
            ],
            self.allow_tuners,
            [
                self.filter_movies.clone(),
                self.filter_music.clone(),
                self.filter_television.clone(),
                self.filter_photos.clone(),
                self.filter_all.clone(),
            ],
        )
    }
}

/// Settings as the v2 write endpoints take them: every field, nulls kept as nulls.
pub(super) fn settings_json(s: &SharingSettings) -> serde_json::Value {
    json!({
        "allowSync": s.allow_sync,
        "allowCameraUpload": s.allow_camera_upload,
        "allowChannels": s.allow_channels,
        "allowSubtitleAdmin": s.allow_subtitle_admin,
        "allowTuners": s.allow_tuners,
        "filterMovies": s.filter_movies,
        "filterMusic": s.filter_music,
        "filterTelevision": s.filter_television,
        "filterPhotos": s.filter_photos,
        "filterAll": s.filter_all,
    })
}

/// A SharedServer object (`owned/accepted` element, pending invite's `sharedServers[]`, create
/// response).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SharedServer {
    #[serde(deserialize_with = "u64_req")]
    pub(super) id: u64,
    #[serde(default, deserialize_with = "u64_opt")]
    invited_id: Option<u64>,
    #[serde(default, deserialize_with = "string_opt")]
    invited_email: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    machine_identifier: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    deleted_at: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    left_at: Option<String>,
    /// `None` when plex.tv left it out: the share's access is then unknown (see
    /// [`check_share_counts`]).
    #[serde(default, deserialize_with = "flag_opt")]
    all_libraries: Option<bool>,
    #[serde(default, deserialize_with = "u64_opt")]
    num_libraries: Option<u64>,
    #[serde(default, deserialize_with = "vec_or_null")]
    libraries: Vec<WireLibrary>,
    #[serde(default)]
    sharing_settings: Option<WireSettings>,
    #[serde(default)]
    invited: Option<Invited>,
}

/// `GET /api/v2/shared_servers/invites/owned/pending` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PendingInvite {
    #[serde(default)]
    invited: Option<Invited>,
    #[serde(default, deserialize_with = "u64_opt")]
    invited_id: Option<u64>,
    #[serde(default, deserialize_with = "vec_or_null")]
    shared_servers: Vec<SharedServer>,
}

/// Both share lists, read once for every server.
pub(super) struct ShareLists {
    pub(super) accepted: Vec<SharedServer>,
    pub(super) pending: Vec<PendingInvite>,
}

/// `/api/v2/servers/{mid}`'s answer as `server`'s catalogue.
pub(super) fn to_catalogue(
    wire: WireServer,
    server: &ServerRef,
    endpoint: &str,
) -> Result<Server, PlexError> {
    if let Some(m) = wire.machine_identifier.as_deref() {
        if !m.is_empty() && m != server.machine_id.0 {
            return Err(PlexError::Malformed {
                endpoint: endpoint.to_string(),
                reason: format!("asked for {} and got server {m}", server.machine_id),
            });
        }
    }
    let listed = wire.library_sections.into_iter().map(|l| ListedLibrary {
        id: l.id,
        key: l.key,
        title: l.title,
        kind: l.kind,
    });
    catalogue(wire.name, server, listed, endpoint)
}

fn account_of(
    ss: &SharedServer,
    outer: Option<&Invited>,
    outer_id: Option<u64>,
) -> Option<Account> {
    let empty = Invited::default();
    let inv = ss.invited.as_ref().or(outer).unwrap_or(&empty);
    let id = ss.invited_id.or(inv.id).or(outer_id)?;
    Some(validate::account(
        id,
        inv.username.clone(),
        inv.email.clone().or_else(|| ss.invited_email.clone()),
        inv.title.clone().or_else(|| inv.friendly_name.clone()),
        inv.home,
        inv.restricted,
    ))
}

fn to_share(ss: &SharedServer, account: AccountId, state: ShareState) -> Share {
    let access = if ss.all_libraries == Some(true) {
        Access::All
    } else {
        Access::Libraries(ss.libraries.iter().map(|l| LibraryId(l.id)).collect())
    };
    // The share's own settings or nothing: `invited.sharingSettings` are the account's (the
    // friend's defaults), which may differ from this share's; guessing from them could loosen
    // or tighten a share.
    let settings = ss.sharing_settings.as_ref().and_then(WireSettings::known);
    Share {
        id: ShareId(ss.id),
        account,
        state,
        access,
        settings,
    }
}

fn live_on(ss: &SharedServer, mid: &str) -> bool {
    ss.machine_identifier.as_deref() == Some(mid) && !is_set(&ss.deleted_at) && !is_set(&ss.left_at)
}

/// A share that is not self-consistent cannot be the base of a union write: without
/// `allLibraries` its access is unknown (reading it as an explicit list would turn an
/// all-libraries share into a list), and an explicit share whose `numLibraries` disagrees with
/// its `libraries` was cut short (a union with a partial list would drop libraries). Either is
/// [`PlexError::Incomplete`]: read again, then refused. (`numLibraries` of an all-libraries share
/// counts the server's libraries, not its list: not compared.)
pub(super) fn check_share_counts(lists: &ShareLists, server: &Server) -> Result<(), PlexError> {
    let mid = server.machine_id.0.as_str();
    let pending = lists.pending.iter().flat_map(|i| &i.shared_servers);
    for ss in lists.accepted.iter().chain(pending) {
        if !live_on(ss, mid) {
            continue;
        }
        match (ss.all_libraries, ss.num_libraries) {
            (None, _) => {
                return Err(PlexError::Incomplete(format!(
                    "share {} on {} does not say whether it has all libraries",
                    ss.id, server.name
                )))
            }
            (Some(false), Some(n)) if n != ss.libraries.len() as u64 => {
                return Err(PlexError::Incomplete(format!(
                    "share {} on {} counts {n} libraries but lists {}",
                    ss.id,
                    server.name,
                    ss.libraries.len()
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// One server's shares out of the all-servers lists.
pub(super) fn select(lists: &ShareLists, server: Server) -> ServerRead {
    let mid = server.machine_id.0.clone();
    let mut accounts = BTreeMap::new();
    let mut shares = BTreeMap::new();
    let mut add = |ss: &SharedServer, state, outer: Option<&Invited>, outer_id: Option<u64>| {
        if !live_on(ss, &mid) {
            return;
        }
        let Some(acct) = account_of(ss, outer, outer_id) else {
            tracing::debug!(share = ss.id, server = %server.name, "skipping a share with no account id (invite to an address without an account)");
            return;
        };
        let share = to_share(ss, acct.id, state);
        accounts.entry(acct.id).or_insert(acct);
        validate::insert_share(&mut shares, share, &server.name);
    };
    for ss in &lists.accepted {
        add(ss, ShareState::Accepted, None, None);
    }
    for invite in &lists.pending {
        let outer_id = invite
            .invited_id
            .or(invite.invited.as_ref().and_then(|i| i.id));
        for ss in &invite.shared_servers {
            add(ss, ShareState::Pending, invite.invited.as_ref(), outer_id);
        }
    }
    (accounts, ServerSharing { server, shares })
}

/// The owned servers among `/api/v2/resources`.
pub(super) fn owned_of(resources: Vec<Resource>) -> Vec<ServerRef> {
    resources
        .into_iter()
        .filter_map(|r| owned_server(r.owned, r.provides.as_deref(), r.client_identifier, r.name))
        .collect()
}
