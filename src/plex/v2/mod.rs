//! The v2 family: `https://plex.tv/api/v2/...` and `https://clients.plex.tv/api/v2/shared_servers...`,
//! JSON with `Accept: application/json` (resources, server catalogues, share lists, share
//! writes).
//!
//! Reading who sees what costs 2 + S requests for S servers: `shared_servers/owned/accepted`
//! and `shared_servers/invites/owned/pending` (every server at once), then
//! `/api/v2/servers/{mid}` per server for the catalogue.
//!
//! Wire structs carry no `accessToken` or `inviteToken`: serde drops them.
//!
//! `wire.rs` holds the JSON structs and turns them into model types; this file sends the
//! requests.

mod wire;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use crate::model::{LibraryId, Server, ServerRef, ShareId, SharingSettings, SharingState};

use super::assemble::{library_ids, sharing_state, NewShare, ServerRead};
use super::decode::json;
use super::request::{segment, Accept, Host, Request};
use super::retry::all_of;
use super::transport::Transport;
use super::{validate, PlexError};
use wire::{
    check_share_counts, owned_of, select, settings_json, to_catalogue, ShareLists, SharedServer,
};

// ---------------------------------------------------------------------------------------------
// Requests

pub(super) async fn owned_servers(t: &Transport) -> Result<Vec<ServerRef>, PlexError> {
    let req = Request::get(Host::Plex, "/api/v2/resources", Accept::Json)
        .query("includeHttps", "1")
        .query("includeRelay", "1");
    Ok(owned_of(t.read(&req, json).await?))
}

pub(super) async fn catalogue(t: &Transport, server: &ServerRef) -> Result<Server, PlexError> {
    let req = Request::get(
        Host::Plex,
        format!("/api/v2/servers/{}", segment(&server.machine_id.0)),
        Accept::Json,
    );
    let out = t
        .read(&req, |r| to_catalogue(json(r)?, server, &r.endpoint))
        .await?;
    validate::catalogue(&out.name, &out.libraries)?;
    Ok(out)
}

async fn share_lists(t: &Transport) -> Result<ShareLists, PlexError> {
    let accepted = Request::get(
        Host::Clients,
        "/api/v2/shared_servers/owned/accepted",
        Accept::Json,
    );
    let pending = Request::get(
        Host::Clients,
        "/api/v2/shared_servers/invites/owned/pending",
        Accept::Json,
    );
    let (accepted, pending) = all_of!(t.read(&accepted, json), t.read(&pending, json))?;
    Ok(ShareLists { accepted, pending })
}

/// One server: 3 requests (accepted, pending, the catalogue), validated.
pub(super) async fn read_server_sharing(
    t: &Transport,
    server: &ServerRef,
) -> Result<ServerRead, PlexError> {
    let (lists, catalogue) = all_of!(share_lists(t), catalogue(t, server))?;
    check_share_counts(&lists, &catalogue)?;
    let (accounts, sharing) = select(&lists, catalogue);
    validate::server_sharing(&sharing, &accounts)?;
    Ok((accounts, sharing))
}

/// Both servers: 4 requests, validated.
pub(super) async fn read_sharing(
    t: &Transport,
    source: &ServerRef,
    dest: &ServerRef,
) -> Result<SharingState, PlexError> {
    let (lists, src_cat, dst_cat) =
        all_of!(share_lists(t), catalogue(t, source), catalogue(t, dest))?;
    check_share_counts(&lists, &src_cat)?;
    check_share_counts(&lists, &dst_cat)?;
    sharing_state(select(&lists, src_cat), select(&lists, dst_cat))
}

/// `POST /api/v2/shared_servers/{id}`: replaces libraries AND settings, so the
/// settings go back exactly as read. Only for a share whose settings were read.
pub(super) async fn update_share(
    t: &Transport,
    share: ShareId,
    settings: &SharingSettings,
    libraries: &BTreeSet<LibraryId>,
) -> Result<(), PlexError> {
    let req = Request::new(
        Method::POST,
        Host::Clients,
        format!("/api/v2/shared_servers/{}", share.0),
        Accept::Json,
    )
    .json(json!({
        "settings": settings_json(settings),
        "librarySectionIds": library_ids(libraries),
    }));
    t.send(&req).await.map(|_| ())
}

/// `POST /api/v2/shared_servers` by `invitedId` with `settings`, no friend request.
pub(super) async fn create_share(t: &Transport, new: &NewShare<'_>) -> Result<ShareId, PlexError> {
    let req = Request::new(
        Method::POST,
        Host::Clients,
        "/api/v2/shared_servers",
        Accept::Json,
    )
    .json(json!({
        "machineIdentifier": new.server.0,
        "invitedId": new.account.0,
        "librarySectionIds": library_ids(new.libraries),
        "settings": settings_json(new.settings),
        "skipFriendship": true,
    }));
    let resp = t.send(&req).await?;
    let created: SharedServer = json(&resp)?;
    Ok(ShareId(created.id))
}

/// `DELETE /api/v2/shared_servers/{id}`.
pub(super) async fn delete_share(t: &Transport, share: ShareId) -> Result<(), PlexError> {
    let req = Request::new(
        Method::DELETE,
        Host::Clients,
        format!("/api/v2/shared_servers/{}", share.0),
        Accept::Json,
    );
    t.send(&req).await.map(|_| ())
}
