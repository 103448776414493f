//! Legacy share writes. Bodies are JSON (`Content-Type: application/json`), as plexapi and JBOPS
//! send them.

use serde_json::Value;

use crate::sandbox::request::Req;
use crate::sandbox::wire::{self, Reply};
use crate::sandbox::world::{World, WriteError};

use super::reads::{container, shared_server};

fn bad(message: &str) -> Reply {
    wire::legacy_response(400, message)
}

fn json_body(req: &Req, mid: &str) -> Result<serde_json::Map<String, Value>, Reply> {
    if !req.is_json_body() {
        return Err(bad("Content-Type must be application/json"));
    }
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&req.body) else {
        return Err(bad("The request body is not a JSON object"));
    };
    match body.get("server_id") {
        Some(Value::String(s)) if s == mid => Ok(body),
        Some(_) => Err(bad("server_id does not match the server in the URL")),
        None => Err(bad("server_id is required")),
    }
}

fn write_error(e: WriteError) -> Reply {
    match e {
        WriteError::UnknownSections(ids) => bad(&format!(
            "Invalid library section ids: {}",
            ids.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        WriteError::Duplicate(name) => bad(&format!(
            "You're already sharing this server with {name}. Please edit your existing share."
        )),
        WriteError::UnknownInvitee(who) => bad(&format!("Unable to find user {who}")),
        WriteError::SelfShare => bad("You cannot share a server with yourself"),
        // Not recorded from real plex.tv: a `<Response>` with 400, like the duplicate share, so
        // the status alone does not tell a client which it was (the stricter side).
        WriteError::LabelsRefused(name) => bad(&format!(
            "Label restrictions cannot be changed for {name}: the user has a restriction profile"
        )),
    }
}

/// `POST /api/servers/{mid}/shared_servers`: 200 + `MediaContainer/SharedServer/Section*`.
/// An empty (or absent) `library_section_ids` shares all libraries.
pub(super) fn create(w: &mut World, req: &Req, mid: &str) -> Reply {
    let body = match json_body(req, mid) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(Value::Object(shared)) = body.get("shared_server") else {
        return bad("shared_server is required");
    };
    let ids = match shared.get("library_section_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => match wire::parse_ids(v, "library_section_ids") {
            Ok(ids) => ids,
            Err(e) => return bad(&e),
        },
    };
    let invited_id = match shared.get("invited_id") {
        None | Some(Value::Null) => None,
        Some(v) => match wire::parse_account_id(v) {
            Some(id) => Some(id),
            None => return bad("invited_id must be an account id"),
        },
    };
    let invited_email = shared
        .get("invited_email")
        .and_then(Value::as_str)
        .filter(|e| !e.trim().is_empty());
    if invited_id.is_none() && invited_email.is_none() {
        return bad("invited_email or invited_id is required");
    }
    // The keys the legacy create is known to read; plex.tv may ignore any other, so the
    // sandbox does (the stricter side: a photo or all-libraries filter, or a tuner or subtitle
    // permission, sent here is not applied).
    const READ_KEYS: [&str; 6] = [
        "allowSync",
        "allowCameraUpload",
        "allowChannels",
        "filterMovies",
        "filterTelevision",
        "filterMusic",
    ];
    let read: Option<Value> = body
        .get("sharing_settings")
        .and_then(Value::as_object)
        .map(|m| {
            Value::Object(
                m.iter()
                    .filter(|(k, _)| READ_KEYS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        });
    let settings = wire::parse_settings(read.as_ref());
    match w.create_share(
        mid,
        invited_id,
        invited_email,
        &ids,
        settings,
        wire::now_epoch(),
    ) {
        Ok(id) => single(w, mid, id),
        Err(e) => write_error(e),
    }
}

/// `PUT /api/servers/{mid}/shared_servers/{id}`: REPLACES the section set with exactly the
/// given ids. Sharing settings are not part of this call and stay as they are. An empty list
/// makes the share all-libraries (`allLibraries="1"`): the sandbox's choice, since plex.tv's
/// answer is unverified; a client must never send one. Pending shares
/// can be edited like accepted ones unless `World::legacy_put_refuses_pending` is set: whether
/// plex.tv takes this PUT on a pending share is unverified, so a test can choose the refusal
/// (the HTML 404 of an id it does not know).
pub(super) fn update(w: &mut World, req: &Req, mid: &str, share_id: u64) -> Reply {
    if w.legacy_put_refuses_pending && w.shares.get(&share_id).is_some_and(|s| s.pending) {
        return wire::html_404();
    }
    let body = match json_body(req, mid) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(Value::Object(shared)) = body.get("shared_server") else {
        return bad("shared_server is required");
    };
    let Some(list) = shared.get("library_section_ids") else {
        return bad("library_section_ids is required");
    };
    let ids = match wire::parse_ids(list, "library_section_ids") {
        Ok(ids) => ids,
        Err(e) => return bad(&e),
    };
    match w.replace_sections(share_id, &ids) {
        Ok(()) => single(w, mid, share_id),
        Err(e) => write_error(e),
    }
}

fn single(w: &World, mid: &str, share_id: u64) -> Reply {
    match (w.server(mid), w.shares.get(&share_id)) {
        (Some(server), Some(share)) => {
            Reply::xml(200, container(mid, vec![shared_server(w, server, share)]))
        }
        _ => wire::html_404(),
    }
}
