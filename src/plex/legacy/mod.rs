//! The legacy family: `https://plex.tv/api/...`, XML `MediaContainer` documents with
//! capitalised elements and `"0"/"1"` booleans.
//!
//! Reading who sees what costs 1 + 2·S requests for S servers: `/api/users` once for identities
//! and pending flags, then `/api/servers/{mid}/shared_servers` and `/api/servers/{mid}` per
//! server. Nothing here grows with the number of accounts.
//!
//! Wire structs carry no `accessToken`: serde drops it with every other unknown attribute.
//!
//! `wire.rs` holds the XML structs and turns them into model types; this file sends the
//! requests.

mod wire;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use crate::model::{
    Access, LibraryId, MachineId, Server, ServerRef, ShareId, SharingSettings, SharingState,
};

use super::assemble::{library_ids, sharing_state, NewShare, ServerRead};
use super::decode::xml;
use super::request::{segment, Accept, Host, Request};
use super::retry::all_of;
use super::transport::Transport;
use super::{validate, PlexError};
use wire::{
    access_of, created_share, join, parse_devices, to_catalogue, Devices, Servers, SharedServers,
    Users, ROOT,
};

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
    access_of(&listed, share)
}

/// One server: 3 requests (`/api/users`, `shared_servers`, the catalogue), validated.
pub(super) async fn read_server_sharing(
    t: &Transport,
    server: &ServerRef,
) -> Result<ServerRead, PlexError> {
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
    sharing_state(
        join(&users, &src_shared, src_cat)?,
        join(&users, &dst_shared, dst_cat)?,
    )
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
        "shared_server": {"library_section_ids": library_ids(libraries)},
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
pub(super) async fn create_share(t: &Transport, new: &NewShare<'_>) -> Result<ShareId, PlexError> {
    let req = Request::new(
        Method::POST,
        Host::Plex,
        format!("/api/servers/{}/shared_servers", segment(&new.server.0)),
        Accept::Xml,
    )
    .json(json!({
        "server_id": new.server.0,
        "shared_server": {
            "library_section_ids": library_ids(new.libraries),
            "invited_id": new.account.0,
        },
        "sharing_settings": legacy_settings(new.settings)?,
    }));
    let resp = t.send(&req).await?;
    let body: SharedServers = xml(&resp, ROOT)?;
    created_share(&body).ok_or_else(|| PlexError::Malformed {
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
