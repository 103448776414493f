//! The legacy family: `https://plex.tv/api/...`, XML `MediaContainer` documents with
//! capitalised elements and `"0"/"1"` booleans (plex-tv-api.md §2.2, §3.1, §4.1, §4.2, §5).
//!
//! Reading who sees what costs 1 + 2·S requests for S servers: `/api/users` once for identities
//! and pending flags, then `/api/servers/{mid}/shared_servers` and `/api/servers/{mid}` per
//! server. Nothing here grows with the number of accounts.
//!
//! Wire structs carry no `accessToken`: serde drops it with every other unknown attribute.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::model::{
    Access, Account, AccountId, Library, LibraryId, LibraryKey, MachineId, Server, ServerRef,
    ServerSharing, Share, ShareId, ShareState, SharingSettings, SharingState,
};

use super::de::{flag, flag_opt, string_opt, u64_opt, u64_req};
use super::transport::{all_of, segment, xml, Accept, Host, Request, Transport};
use super::{validate, PlexError};

const ROOT: &str = "MediaContainer";

// ---------------------------------------------------------------------------------------------
// Wire models

/// `GET /api/resources`
#[derive(Debug, Deserialize)]
struct Devices {
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
struct Servers {
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

// ---------------------------------------------------------------------------------------------
// Conversion

fn parse_devices(body: Devices) -> Vec<ServerRef> {
    body.devices
        .into_iter()
        .filter(|d| d.owned && provides_server(d.provides.as_deref()))
        .filter_map(|d| {
            let mid = d.client_identifier.filter(|c| !c.trim().is_empty())?;
            Some(ServerRef {
                name: d.name.unwrap_or_default(),
                machine_id: MachineId(mid),
            })
        })
        .collect()
}

pub(super) fn provides_server(provides: Option<&str>) -> bool {
    provides
        .unwrap_or("")
        .split(',')
        .any(|p| p.trim().eq_ignore_ascii_case("server"))
}

fn to_catalogue(body: Servers, server: &ServerRef, endpoint: &str) -> Result<Server, PlexError> {
    let wire = body
        .servers
        .into_iter()
        .find(|s| !matches!(s.machine_identifier.as_deref(), Some(m) if m != server.machine_id.0))
        .ok_or_else(|| PlexError::Malformed {
            endpoint: endpoint.to_string(),
            reason: format!("no <Server> element for {}", server.machine_id),
        })?;
    let mut libraries = Vec::with_capacity(wire.sections.len());
    for s in wire.sections {
        let key = s.key.ok_or_else(|| PlexError::Malformed {
            endpoint: endpoint.to_string(),
            reason: format!("library {} has no key", s.id),
        })?;
        libraries.push(Library {
            id: LibraryId(s.id),
            key: LibraryKey(key),
            title: s.title.unwrap_or_default(),
            kind: s.kind.unwrap_or_default(),
        });
    }
    Ok(Server {
        name: wire
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| server.name.clone()),
        machine_id: server.machine_id.clone(),
        libraries,
    })
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
) -> Result<(BTreeMap<AccountId, Account>, ServerSharing), PlexError> {
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

// ---------------------------------------------------------------------------------------------
// Requests

pub(super) async fn owned_servers(t: &Transport) -> Result<Vec<ServerRef>, PlexError> {
    let req = Request::get(Host::Plex, "/api/resources", Accept::Xml)
        .query("includeHttps", "1")
        .query("includeRelay", "1");
    t.read(&req, |r| xml::<Devices>(r, ROOT).map(parse_devices))
        .await
}

pub(super) async fn catalogue(t: &Transport, server: &ServerRef) -> Result<Server, PlexError> {
    let req = Request::get(
        Host::Plex,
        format!("/api/servers/{}", segment(&server.machine_id.0)),
        Accept::Xml,
    );
    let out = t
        .read(&req, |r| {
            to_catalogue(xml::<Servers>(r, ROOT)?, server, &r.endpoint)
        })
        .await?;
    validate::catalogue(&out.name, &out.libraries)?;
    Ok(out)
}

async fn users(t: &Transport) -> Result<Users, PlexError> {
    let req = Request::get(Host::Plex, "/api/users", Accept::Xml);
    t.read(&req, |r| xml::<Users>(r, ROOT)).await
}

async fn shared_servers(t: &Transport, mid: &MachineId) -> Result<SharedServers, PlexError> {
    let req = Request::get(
        Host::Plex,
        format!("/api/servers/{}/shared_servers", segment(&mid.0)),
        Accept::Xml,
    );
    t.read(&req, |r| xml::<SharedServers>(r, ROOT)).await
}

/// One share's access and settings (`None` unless all are there), freshly
/// (`GET /api/servers/{mid}/shared_servers/{id}`, one request
/// whatever the number of accounts; the shared-server id is the same in both families).
/// `None`: the share is gone. A share that does not say whether it has all libraries is
/// [`PlexError::Incomplete`] (the caller reads the whole server instead).
pub(super) async fn share_access(
    t: &Transport,
    mid: &MachineId,
    share: ShareId,
) -> Result<Option<(Access, Option<SharingSettings>)>, PlexError> {
    let req = Request::get(
        Host::Plex,
        format!(
            "/api/servers/{}/shared_servers/{}",
            segment(&mid.0),
            share.0
        ),
        Accept::Xml,
    );
    let listed = match t.read(&req, |r| xml::<SharedServers>(r, ROOT)).await {
        Ok(listed) => listed,
        Err(PlexError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
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

/// One server: 3 requests (`/api/users`, `shared_servers`, the catalogue), validated.
pub(super) async fn read_server_sharing(
    t: &Transport,
    server: &ServerRef,
) -> Result<(BTreeMap<AccountId, Account>, ServerSharing), PlexError> {
    let (users, shared, catalogue) = all_of!(
        users(t),
        shared_servers(t, &server.machine_id),
        catalogue(t, server)
    )?;
    let (accounts, sharing) = join(&users, &shared, catalogue)?;
    validate::server_sharing(&sharing, &accounts)?;
    Ok((accounts, sharing))
}

/// Both servers: 5 requests, validated.
pub(super) async fn read_sharing(
    t: &Transport,
    source: &ServerRef,
    dest: &ServerRef,
) -> Result<SharingState, PlexError> {
    let (users, src_shared, dst_shared, src_cat, dst_cat) = all_of!(
        users(t),
        shared_servers(t, &source.machine_id),
        shared_servers(t, &dest.machine_id),
        catalogue(t, source),
        catalogue(t, dest)
    )?;
    let (mut accounts, source) = join(&users, &src_shared, src_cat)?;
    let (dst_accounts, dest) = join(&users, &dst_shared, dst_cat)?;
    accounts.extend(dst_accounts);
    validate::server_sharing(&source, &accounts)?;
    validate::server_sharing(&dest, &accounts)?;
    Ok(SharingState {
        accounts,
        source,
        dest,
    })
}

fn ids(libraries: &BTreeSet<LibraryId>) -> Vec<u64> {
    libraries.iter().map(|l| l.0).collect()
}

/// `PUT /api/servers/{mid}/shared_servers/{id}`: replaces the share's library set.
pub(super) async fn update_share(
    t: &Transport,
    server: &MachineId,
    share: ShareId,
    libraries: &BTreeSet<LibraryId>,
) -> Result<(), PlexError> {
    let req = Request::new(
        Method::PUT,
        Host::Plex,
        format!(
            "/api/servers/{}/shared_servers/{}",
            segment(&server.0),
            share.0
        ),
        Accept::Xml,
    )
    .json(json!({
        "server_id": server.0,
        "shared_server": {"library_section_ids": ids(libraries)},
    }));
    t.send(&req).await.map(|_| ())
}

/// `sharing_settings` as the legacy create takes them: exactly the six keys plex.tv is known to
/// read there, flags as "0"/"1", filters as strings (a missing filter is ""). It has no photo or
/// all-libraries filter, so settings with one are refused without sending (a share created
/// without it would be less restricted than asked). Tuner and subtitle permissions it cannot
/// carry are left to plex.tv's defaults; the read-back after the create checks the result.
fn legacy_settings(s: &SharingSettings) -> Result<serde_json::Value, PlexError> {
    let set = |f: &Option<String>| f.as_deref().is_some_and(|f| !f.trim().is_empty());
    if set(&s.filter_photos) {
        return Err(PlexError::RestrictionsNotCarried("photo"));
    }
    if set(&s.filter_all) {
        return Err(PlexError::RestrictionsNotCarried("all-libraries"));
    }
    let flag = |b: bool| if b { "1" } else { "0" };
    let text = |f: &Option<String>| f.clone().unwrap_or_default();
    Ok(json!({
        "allowSync": flag(s.allow_sync),
        "allowCameraUpload": flag(s.allow_camera_upload),
        "allowChannels": flag(s.allow_channels),
        "filterMovies": text(&s.filter_movies),
        "filterTelevision": text(&s.filter_television),
        "filterMusic": text(&s.filter_music),
    }))
}

/// `POST /api/servers/{mid}/shared_servers` by `invited_id`, with `sharing_settings`.
pub(super) async fn create_share(
    t: &Transport,
    server: &MachineId,
    account: AccountId,
    libraries: &BTreeSet<LibraryId>,
    settings: &SharingSettings,
) -> Result<ShareId, PlexError> {
    let req = Request::new(
        Method::POST,
        Host::Plex,
        format!("/api/servers/{}/shared_servers", segment(&server.0)),
        Accept::Xml,
    )
    .json(json!({
        "server_id": server.0,
        "shared_server": {"library_section_ids": ids(libraries), "invited_id": account.0},
        "sharing_settings": legacy_settings(settings)?,
    }));
    let resp = t.send(&req).await?;
    let body: SharedServers = xml(&resp, ROOT)?;
    body.shared
        .first()
        .map(|s| ShareId(s.id))
        .ok_or_else(|| PlexError::Malformed {
            endpoint: resp.endpoint.clone(),
            reason: "no <SharedServer> in the answer".into(),
        })
}

/// `DELETE /api/servers/{mid}/shared_servers/{id}`.
pub(super) async fn delete_share(
    t: &Transport,
    server: &MachineId,
    share: ShareId,
) -> Result<(), PlexError> {
    let req = Request::new(
        Method::DELETE,
        Host::Plex,
        format!(
            "/api/servers/{}/shared_servers/{}",
            segment(&server.0),
            share.0
        ),
        Accept::Xml,
    );
    t.send(&req).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountKind;

    const MID: &str = "271663AA23AC6";

    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> T {
        let resp = super::super::transport::Response {
            content_type: Some("application/xml".into()),
            body: text.as_bytes().to_vec(),
            endpoint: "GET /test".into(),
        };
        xml(&resp, ROOT).unwrap()
    }

    fn server_ref() -> ServerRef {
        ServerRef {
            name: "LED-Kremen-286".into(),
            machine_id: MachineId(MID.into()),
        }
    }

    const CATALOGUE: &str = r#"<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="271663AA23AC6" size="1">
  <Server name="LED-Kremen-286" address="1.2.3.4" port="32400" machineIdentifier="271663AA23AC6" owned="1" synced="0" accessToken="SERVER-SECRET">
    <Section id="118181361" key="2" type="movie" title="Movies"/>
    <Section id="118181362" key="3" type="artist" title="Music"/>
    <Section id="118181363" key="1" type="show" title="TV Shows"/>
  </Server>
</MediaContainer>"#;

    // §4.1's recorded response, plus a friend with a pending share and one on another server.
    const USERS: &str = r#"<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="19A4B805E9021" totalSize="4" size="4">
  <User id="8676063" title="18A0A7BD14ECC" thumb="https://plex.tv/users/0d9d14488439289a/avatar?c=1536695183" protected="0" home="1" allowSync="0" allowCameraUpload="0" allowChannels="0" allowTuners="0" allowSubtitleAdmin="0" filterAll="" filterMovies="contentRating=G" filterMusic="" filterPhotos="" filterTelevision="contentRating=TV-14" restricted="1">
    <Server id="5558593" serverId="8035121" machineIdentifier="271663AA23AC6" name="LED-Kremen-286" lastSeenAt="1547660334" numLibraries="2" allLibraries="1" owned="1" pending="0"/>
  </User>
  <User id="3609362" title="15FDD85D4BED2" thumb="x" protected="0" home="1" allowSync="0" restricted="1">
  </User>
  <User id="42" title="alice" username="alice" email="alice@example.com" home="0" restricted="0">
    <Server id="900" serverId="8035121" machineIdentifier="271663AA23AC6" name="LED-Kremen-286" numLibraries="1" allLibraries="0" owned="1" pending="1"/>
    <Server id="901" serverId="1" machineIdentifier="OTHER" name="theirs" numLibraries="1" allLibraries="0" owned="0" pending="0"/>
  </User>
  <User title="" username="" email="nobody@example.com" home="0" restricted="0">
    <Server id="903" machineIdentifier="271663AA23AC6" owned="1" pending="1" allLibraries="1" numLibraries="3"/>
  </User>
  <User id="43" title="bob" username="bob" email="bob@example.com" home="0" restricted="0">
    <Server id="902" serverId="8035121" machineIdentifier="271663AA23AC6" name="LED-Kremen-286" numLibraries="1" allLibraries="0" owned="1" pending="0"/>
  </User>
</MediaContainer>"#;

    const SHARED: &str = r#"<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="271663AA23AC6" size="3">
  <SharedServer id="5558593" username="" email="" userID="8676063" accessToken="MANAGED-SECRET" name="LED-Kremen-286" acceptedAt="1547660334" invitedAt="1547660000" allowSync="0" allowCameraUpload="0" allowChannels="0" allowTuners="0" allowSubtitleAdmin="0" owned="1" allLibraries="1" filterAll="" filterMovies="contentRating=G" filterMusic="" filterPhotos="" filterTelevision="contentRating=TV-14">
    <Section id="118181361" key="2" title="Movies" type="movie" shared="1"/>
    <Section id="118181362" key="3" title="Music" type="artist" shared="1"/>
    <Section id="118181363" key="1" title="TV Shows" type="show" shared="1"/>
  </SharedServer>
  <SharedServer id="900" username="alice" email="alice@example.com" userID="42" accessToken="ALICE-SECRET" name="LED-Kremen-286" acceptedAt="" invitedAt="1547660000" allowSync="1" owned="1" allLibraries="0" filterMovies="">
    <Section id="118181361" key="2" title="Movies" type="movie" shared="0"/>
    <Section id="118181362" key="3" title="Music" type="artist" shared="1"/>
    <Section id="118181363" key="1" title="TV Shows" type="show" shared="0"/>
  </SharedServer>
  <SharedServer id="903" username="" email="nobody@example.com" accessToken="NOBODY-SECRET" allLibraries="1"/>
  <SharedServer id="902" username="bob" email="bob@example.com" userID="43" accessToken="BOB-SECRET" name="LED-Kremen-286" acceptedAt="1547660334" allLibraries="0">
    <Section id="118181361" key="2" title="Movies" type="movie" shared="0"/>
    <Section id="118181362" key="3" title="Music" type="artist" shared="0"/>
    <Section id="118181363" key="1" title="TV Shows" type="show" shared="0"/>
  </SharedServer>
</MediaContainer>"#;

    #[test]
    fn catalogue_keeps_ids_and_keys_apart() {
        let s = to_catalogue(parse(CATALOGUE), &server_ref(), "GET /x").unwrap();
        assert_eq!(s.name, "LED-Kremen-286");
        assert_eq!(s.libraries.len(), 3);
        assert_eq!(s.libraries[0].id, LibraryId(118181361));
        assert_eq!(s.libraries[0].key, LibraryKey(2));
        assert_eq!(s.libraries[2].title, "TV Shows");
        assert!(!format!("{s:?}").contains("SERVER-SECRET"));
    }

    #[test]
    fn join_users_and_shared_servers() {
        let cat = to_catalogue(parse(CATALOGUE), &server_ref(), "GET /x").unwrap();
        let users: Users = parse(USERS);
        let shared: SharedServers = parse(SHARED);
        let (accounts, sharing) = join(&users, &shared, cat).unwrap();
        validate::server_sharing(&sharing, &accounts).unwrap();
        assert_eq!(accounts.len(), 3);
        let kid = &accounts[&AccountId(8676063)];
        assert_eq!(kid.kind, AccountKind::Managed);
        assert_eq!(kid.username, None);
        assert_eq!(kid.title, "18A0A7BD14ECC");
        let kid_share = &sharing.shares[&AccountId(8676063)];
        assert_eq!(kid_share.id, ShareId(5558593));
        assert_eq!(kid_share.access, Access::All);
        assert_eq!(kid_share.state, ShareState::Accepted);
        assert_eq!(
            kid_share
                .settings
                .as_ref()
                .unwrap()
                .filter_movies
                .as_deref(),
            Some("contentRating=G")
        );
        let alice = &sharing.shares[&AccountId(42)];
        assert_eq!(alice.state, ShareState::Pending);
        assert_eq!(
            alice.access,
            Access::Libraries([LibraryId(118181362)].into())
        );
        // alice's SharedServer has `allowSync` and `filterMovies` but not the other settings
        // attributes: partial settings are not known settings.
        assert_eq!(alice.settings, None);
        assert_eq!(accounts[&AccountId(42)].kind, AccountKind::Friend);
        let bob = &sharing.shares[&AccountId(43)];
        assert_eq!(bob.access, Access::Libraries(BTreeSet::new()));
        // bob's SharedServer carries no settings attributes: not returned, never defaults.
        assert_eq!(bob.settings, None);
        let dump = format!("{accounts:?}{sharing:?}");
        for secret in [
            "MANAGED-SECRET",
            "ALICE-SECRET",
            "BOB-SECRET",
            "SERVER-SECRET",
        ] {
            assert!(!dump.contains(secret));
        }
    }

    #[test]
    fn devices_filter_owned_servers() {
        let body = r#"<MediaContainer size="3">
  <Device name="noodle" product="Plex Media Server" clientIdentifier="aaa" provides="server" owned="1" accessToken="T1"><Connection uri="http://x"/></Device>
  <Device name="phone" product="Plex for iOS" clientIdentifier="bbb" provides="client,player" owned="1" accessToken="T2"/>
  <Device name="friendbox" product="Plex Media Server" clientIdentifier="ccc" provides="server" owned="0" accessToken="T3"/>
</MediaContainer>"#;
        let servers = parse_devices(parse(body));
        assert_eq!(
            servers,
            vec![ServerRef {
                name: "noodle".into(),
                machine_id: MachineId("aaa".into())
            }]
        );
    }

    #[test]
    fn create_response_gives_the_share_id() {
        let body = r#"<MediaContainer size="1"><SharedServer id="777" userID="42" accessToken="X" allLibraries="0"><Section id="1" key="1" shared="1"/></SharedServer></MediaContainer>"#;
        let s: SharedServers = parse(body);
        assert_eq!(s.shared[0].id, 777);
    }
}
