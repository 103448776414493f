//! The legacy family's XML (`MediaContainer` documents, capitalised elements, `"0"/"1"`
//! booleans) and how it becomes model types: owned servers, a catalogue, and one server's shares
//! joined from `/api/users` and `shared_servers`. No `accessToken` field: serde drops it with
//! every other unknown attribute.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::model::{
    Access, AccountId, LibraryId, Server, ServerRef, ServerSharing, Share, ShareId, ShareState,
    SharingSettings,
};
use crate::plex::assemble::{catalogue, owned_server, ListedLibrary, ServerRead};
use crate::plex::de::{flag, flag_opt, string_opt, u64_opt, u64_req};
use crate::plex::{validate, PlexError};

#[cfg(test)]
mod tests;

/// The root element of every legacy answer.
pub(super) const ROOT: &str = "MediaContainer";

// ---------------------------------------------------------------------------------------------
// Wire models

/// `GET /api/resources`
#[derive(Debug, Deserialize)]
pub(super) struct Devices {
    #[serde(rename = "Device", default)]
    devices: Vec<Device>,
}

#[derive(Debug, Deserialize)]
struct Device {
    #[serde(rename = "@name", default, deserialize_with = "string_opt")]
    name: Option<String>,
    #[serde(rename = "@clientIdentifier", default, deserialize_with = "string_opt")]
    client_identifier: Option<String>,
    #[serde(rename = "@provides", default, deserialize_with = "string_opt")]
    provides: Option<String>,
    #[serde(rename = "@owned", default, deserialize_with = "flag")]
    owned: bool,
}

/// `GET /api/servers/{mid}`
#[derive(Debug, Deserialize)]
pub(super) struct Servers {
    #[serde(rename = "Server", default)]
    servers: Vec<WireServer>,
}

#[derive(Debug, Deserialize)]
struct WireServer {
    #[serde(rename = "@name", default, deserialize_with = "string_opt")]
    name: Option<String>,
    #[serde(
        rename = "@machineIdentifier",
        default,
        deserialize_with = "string_opt"
    )]
    machine_identifier: Option<String>,
    #[serde(rename = "Section", default)]
    sections: Vec<Section>,
}

#[derive(Debug, Deserialize)]
struct Section {
    #[serde(rename = "@id", deserialize_with = "u64_req")]
    id: u64,
    #[serde(rename = "@key", default, deserialize_with = "u64_opt")]
    key: Option<u64>,
    #[serde(rename = "@title", default, deserialize_with = "string_opt")]
    title: Option<String>,
    #[serde(rename = "@type", default, deserialize_with = "string_opt")]
    kind: Option<String>,
    #[serde(rename = "@shared", default, deserialize_with = "flag")]
    shared: bool,
}

/// `GET /api/users`
#[derive(Debug, Deserialize)]
pub(super) struct Users {
    #[serde(rename = "User", default)]
    users: Vec<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    /// Absent for a pending invite to an address without an account.
    #[serde(rename = "@id", default, deserialize_with = "u64_opt")]
    id: Option<u64>,
    #[serde(rename = "@title", default, deserialize_with = "string_opt")]
    title: Option<String>,
    #[serde(rename = "@username", default, deserialize_with = "string_opt")]
    username: Option<String>,
    #[serde(rename = "@email", default, deserialize_with = "string_opt")]
    email: Option<String>,
    #[serde(rename = "@home", default, deserialize_with = "flag")]
    home: bool,
    #[serde(rename = "@restricted", default, deserialize_with = "flag")]
    restricted: bool,
    #[serde(rename = "Server", default)]
    servers: Vec<UserServer>,
}

/// `User > Server`: one share summary; `id` is the shared-server id.
#[derive(Debug, Deserialize)]
struct UserServer {
    #[serde(rename = "@id", deserialize_with = "u64_req")]
    id: u64,
    #[serde(
        rename = "@machineIdentifier",
        default,
        deserialize_with = "string_opt"
    )]
    machine_identifier: Option<String>,
    #[serde(rename = "@owned", default, deserialize_with = "flag")]
    owned: bool,
    #[serde(rename = "@pending", default, deserialize_with = "flag")]
    pending: bool,
    #[serde(rename = "@allLibraries", default, deserialize_with = "flag_opt")]
    all_libraries: Option<bool>,
    #[serde(rename = "@numLibraries", default, deserialize_with = "u64_opt")]
    num_libraries: Option<u64>,
}

/// `GET /api/servers/{mid}/shared_servers` (and the create response).
#[derive(Debug, Deserialize)]
pub(super) struct SharedServers {
    #[serde(rename = "SharedServer", default)]
    shared: Vec<SharedServer>,
}

#[derive(Debug, Deserialize)]
struct SharedServer {
    #[serde(rename = "@id", deserialize_with = "u64_req")]
    id: u64,
    #[serde(rename = "@userID", default, deserialize_with = "u64_opt")]
    user_id: Option<u64>,
    #[serde(rename = "@username", default, deserialize_with = "string_opt")]
    username: Option<String>,
    #[serde(rename = "@email", default, deserialize_with = "string_opt")]
    email: Option<String>,
    /// Absent in recorded public payloads: then `/api/users`' `Server@allLibraries` says.
    #[serde(rename = "@allLibraries", default, deserialize_with = "flag_opt")]
    all_libraries: Option<bool>,
    // Each attribute is `None` when absent: settings are known only when all are there.
    #[serde(rename = "@allowSync", default, deserialize_with = "flag_opt")]
    allow_sync: Option<bool>,
    #[serde(rename = "@allowCameraUpload", default, deserialize_with = "flag_opt")]
    allow_camera_upload: Option<bool>,
    #[serde(rename = "@allowChannels", default, deserialize_with = "flag_opt")]
    allow_channels: Option<bool>,
    #[serde(rename = "@allowSubtitleAdmin", default, deserialize_with = "flag_opt")]
    allow_subtitle_admin: Option<bool>,
    #[serde(rename = "@allowTuners", default, deserialize_with = "u64_opt")]
    allow_tuners: Option<u64>,
    #[serde(rename = "@filterMovies", default, deserialize_with = "string_opt")]
    filter_movies: Option<String>,
    #[serde(rename = "@filterMusic", default, deserialize_with = "string_opt")]
    filter_music: Option<String>,
    #[serde(rename = "@filterTelevision", default, deserialize_with = "string_opt")]
    filter_television: Option<String>,
    #[serde(rename = "@filterPhotos", default, deserialize_with = "string_opt")]
    filter_photos: Option<String>,
    #[serde(rename = "@filterAll", default, deserialize_with = "string_opt")]
    filter_all: Option<String>,
    #[serde(rename = "Section", default)]
    sections: Vec<Section>,
}

impl SharedServer {
    /// `None` unless every settings attribute is there (an empty filter is `""`).
    fn settings(&self) -> Option<SharingSettings> {
        let present = |f: &Option<String>| f.clone().map(Some);
        validate::known_settings(
            [
                self.allow_sync,
                self.allow_camera_upload,
                self.allow_channels,
                self.allow_subtitle_admin,
            ],
            self.allow_tuners,
            [
                present(&self.filter_movies),
                present(&self.filter_music),
                present(&self.filter_television),
                present(&self.filter_photos),
                present(&self.filter_all),
            ],
        )
    }
}

/// The owned servers among `/api/resources`' devices.
pub(super) fn parse_devices(body: Devices) -> Vec<ServerRef> {
    body.devices
        .into_iter()
        .filter_map(|d| owned_server(d.owned, d.provides.as_deref(), d.client_identifier, d.name))
        .collect()
}

/// `/api/servers/{mid}`'s `<Server>` for `server` as its catalogue.
pub(super) fn to_catalogue(
    body: Servers,
    server: &ServerRef,
    endpoint: &str,
) -> Result<Server, PlexError> {
    let wire = body
        .servers
        .into_iter()
        .find(|s| !matches!(s.machine_identifier.as_deref(), Some(m) if m != server.machine_id.0))
        .ok_or_else(|| PlexError::Malformed {
            endpoint: endpoint.to_string(),
            reason: format!("no <Server> element for {}", server.machine_id),
        })?;
    let listed = wire.sections.into_iter().map(|s| ListedLibrary {
        id: s.id,
        key: s.key,
        title: s.title,
        kind: s.kind,
    });
    catalogue(wire.name, server, listed, endpoint)
}

/// Join `/api/users` and one server's `shared_servers` into that server's shares
/// (`SharedServer@userID` ↔ `User@id`; visible = `Section@shared="1"` or `allLibraries="1"`).
/// A share whose `allLibraries` neither `shared_servers` nor `/api/users` states has unknown
/// access (reading its sections as an explicit list could turn "all" into a list): the read is
/// [`PlexError::Incomplete`] (read again, then refused).
pub(super) fn join(
    users: &Users,
    shared: &SharedServers,
    server: Server,
) -> Result<ServerRead, PlexError> {
    let mid = server.machine_id.0.as_str();
    // Users without an id (invites to addresses with no account) cannot be keyed: skipped.
    let by_id: BTreeMap<u64, &User> = users
        .users
        .iter()
        .filter_map(|u| Some((u.id?, u)))
        .collect();
    // This server's share summaries from /api/users, by shared-server id.
    let mut summaries: BTreeMap<u64, (u64, &User, &UserServer)> = BTreeMap::new();
    for (&id, u) in &by_id {
        for s in &u.servers {
            if s.owned && s.machine_identifier.as_deref() == Some(mid) {
                summaries.insert(s.id, (id, u, s));
            }
        }
    }

    let mut accounts = BTreeMap::new();
    let mut shares = BTreeMap::new();
    let mut seen_share_ids = BTreeSet::new();
    for ss in &shared.shared {
        let summary = summaries.get(&ss.id).copied();
        let Some(account_id) = ss.user_id.or(summary.map(|(id, _, _)| id)) else {
            tracing::debug!(share = ss.id, server = %server.name, "skipping a share with no account id (invite to an address without an account)");
            continue;
        };
        let user = by_id.get(&account_id).copied();
        let acct = match user {
            Some(u) => validate::account(
                account_id,
                u.username.clone(),
                u.email.clone(),
                u.title.clone(),
                u.home,
                u.restricted,
            ),
            None => {
                let managed = ss.username.as_deref().unwrap_or("").is_empty()
                    && ss.email.as_deref().unwrap_or("").is_empty();
                validate::account(
                    account_id,
                    ss.username.clone(),
                    ss.email.clone(),
                    None,
                    managed,
                    managed,
                )
            }
        };
        let pending = summary.is_some_and(|(_, _, s)| s.pending)
            || user.is_some_and(|u| {
                u.servers
                    .iter()
                    .any(|s| s.owned && s.pending && s.machine_identifier.as_deref() == Some(mid))
            });
        let all = ss
            .all_libraries
            .or(summary.and_then(|(_, _, s)| s.all_libraries))
            .ok_or_else(|| {
                PlexError::Incomplete(format!(
                    "share {} on {} does not say whether it has all libraries",
                    ss.id, server.name
                ))
            })?;
        let access = if all {
            Access::All
        } else {
            Access::Libraries(
                ss.sections
                    .iter()
                    .filter(|s| s.shared)
                    .map(|s| LibraryId(s.id))
                    .collect(),
            )
        };
        seen_share_ids.insert(ss.id);
        accounts.insert(acct.id, acct);
        validate::insert_share(
            &mut shares,
            Share {
                id: ShareId(ss.id),
                account: AccountId(account_id),
                state: if pending {
                    ShareState::Pending
                } else {
                    ShareState::Accepted
                },
                access,
                settings: ss.settings(),
            },
            &server.name,
        );
    }

    // Shares /api/users knows but shared_servers did not list (seen for pending invites).
    // Their sections are only knowable when they are "all" or none; otherwise leave them out
    // rather than guess (an under-read share is never written from an empty set).
    for (share_id, (account_id, u, s)) in summaries {
        if seen_share_ids.contains(&share_id) || shares.contains_key(&AccountId(account_id)) {
            continue;
        }
        let access = if s.all_libraries == Some(true) {
            Access::All
        } else if s.all_libraries == Some(false) && s.num_libraries == Some(0) {
            Access::Libraries(BTreeSet::new())
        } else {
            tracing::warn!(share = share_id, account = account_id, server = %server.name,
                "plex.tv lists a share in /api/users that shared_servers omits; leaving it out");
            continue;
        };
        let acct = validate::account(
            account_id,
            u.username.clone(),
            u.email.clone(),
            u.title.clone(),
            u.home,
            u.restricted,
        );
        accounts.insert(acct.id, acct);
        validate::insert_share(
            &mut shares,
            Share {
                id: ShareId(share_id),
                account: AccountId(account_id),
                state: if s.pending {
                    ShareState::Pending
                } else {
                    ShareState::Accepted
                },
                access,
                // /api/users carries the account's settings, not this share's: unknown.
                settings: None,
            },
            &server.name,
        );
    }
    Ok((accounts, ServerSharing { server, shares }))
}

/// One share's access and settings (`None` unless all are there) out of
/// `shared_servers/{id}`'s answer; `None`: the share is not listed. A share that does not say
/// whether it has all libraries is [`PlexError::Incomplete`].
pub(super) fn access_of(
    listed: &SharedServers,
    share: ShareId,
) -> Result<Option<(Access, Option<SharingSettings>)>, PlexError> {
    let Some(ss) = listed.shared.iter().find(|ss| ss.id == share.0) else {
        return Ok(None);
    };
    let access = match ss.all_libraries {
        Some(true) => Access::All,
        Some(false) => Access::Libraries(
            ss.sections
                .iter()
                .filter(|s| s.shared)
                .map(|s| LibraryId(s.id))
                .collect(),
        ),
        None => {
            return Err(PlexError::Incomplete(format!(
                "share {} does not say whether it has all libraries",
                share.0
            )))
        }
    };
    Ok(Some((access, ss.settings())))
}

/// The share a create answered with.
pub(super) fn created_share(body: &SharedServers) -> Option<ShareId> {
    body.shared.first().map(|s| ShareId(s.id))
}
