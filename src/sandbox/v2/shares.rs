//! Shares: the v2 SharedServer document, pending invites, friends, and share writes.

use serde_json::{json, Map, Value};

use crate::sandbox::request::Req;
use crate::sandbox::wire::{self, iso, iso_opt, Reply};
use crate::sandbox::world::{AccountRecord, SettingsRecord, ShareRecord, World, WriteError};

use super::context::Ctx;

/// `sharingSettings` as v2 documents carry them: every permission, and every filter (`null`
/// when unset).
fn settings_json(s: &SettingsRecord) -> Value {
    let mut map = Map::new();
    for (name, allowed) in s.permissions() {
        map.insert(name.into(), Value::Bool(allowed));
    }
    map.insert("allowTuners".into(), s.allow_tuners.into());
    for (name, filter) in s.filters() {
        map.insert(
            name.into(),
            filter.clone().map_or(Value::Null, Value::String),
        );
    }
    Value::Object(map)
}

/// A share's `sharingSettings` as v2 reads show them: `null` for a share in
/// `World::omit_settings`, without `allowTuners` and `filterMovies` for one in
/// `World::partial_settings`.
fn shown_settings(w: &World, s: &ShareRecord) -> Value {
    if w.omit_settings.contains(&s.id) {
        return Value::Null;
    }
    let mut v = settings_json(&s.settings);
    if w.partial_settings.contains(&s.id) {
        if let Value::Object(map) = &mut v {
            map.remove("allowTuners");
            map.remove("filterMovies");
        }
    }
    v
}

/// `invited.sharingSettings` are the account's, not the share's. When the share's own are left
/// out, the account's differ from them (every permission flipped, no filters): a client that
/// took them for the share's would loosen or tighten it.
fn invited_settings(w: &World, s: &ShareRecord) -> Value {
    if !w.omit_settings.contains(&s.id) && !w.partial_settings.contains(&s.id) {
        return shown_settings(w, s);
    }
    let st = &s.settings;
    settings_json(&SettingsRecord {
        allow_sync: !st.allow_sync,
        allow_camera_upload: !st.allow_camera_upload,
        allow_channels: !st.allow_channels,
        allow_subtitle_admin: !st.allow_subtitle_admin,
        allow_tuners: 2 - st.allow_tuners.min(2),
        ..Default::default()
    })
}

/// The `invited` object (or a friend entry's identity part).
fn person_json(
    w: &World,
    s: Option<&ShareRecord>,
    a: Option<&AccountRecord>,
    status: &str,
) -> Map<String, Value> {
    let share =
        s.or_else(|| a.and_then(|a| w.shares.values().find(|s| s.account_id == Some(a.id))));
    let settings = match share {
        Some(s) => invited_settings(w, s),
        None => settings_json(&Default::default()),
    };
    let v = match a {
        Some(a) => json!({
            "id": a.id,
            "uuid": a.uuid,
            "title": a.title,
            "username": a.username,
            "restricted": a.restricted,
            "email": a.email,
            "friendlyName": if a.is_managed() { Value::String(a.title.clone()) } else { Value::Null },
            "thumb": a.thumb(),
            "home": a.home,
            "restrictionProfile": a.restriction_profile,
            "status": status,
            "sharingSettings": settings,
        }),
        None => {
            let email = s.and_then(|s| s.invited_email.clone());
            json!({
                "id": null,
                "uuid": null,
                "title": email,
                "username": null,
                "restricted": false,
                "email": email,
                "friendlyName": null,
                "thumb": "https://plex.tv/users/default/avatar",
                "home": false,
                "restrictionProfile": null,
                "status": status,
                "sharingSettings": settings,
            })
        }
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A v2 SharedServer. `libraries` lists the explicit set; for an all-libraries share that is
/// whatever stale list the share carries (often nothing), as in plex.tv's own answers: trust
/// `allLibraries`, and take counts from `numLibraries`.
pub(super) fn shared_server_json(w: &World, s: &ShareRecord) -> Option<Value> {
    let server = w.server(&s.machine_id)?;
    let account = s.account_id.and_then(|id| w.accounts.get(&id));
    let libraries: Vec<Value> = server
        .libraries
        .iter()
        .filter(|l| s.section_ids.contains(&l.id))
        .map(|l| json!({"id": l.id, "key": l.key, "title": l.title, "type": l.kind}))
        .collect();
    let num = if s.all_libraries {
        server.libraries.len()
    } else {
        s.section_ids.len()
    };
    let status = if s.pending { "pending" } else { "accepted" };
    Some(json!({
        "id": s.id,
        "name": server.name,
        "ownerId": w.owner.id,
        "invitedId": s.account_id,
        "invitedEmail": s.invited_email,
        "serverId": server.server_id,
        "accepted": !s.pending,
        "acceptedAt": iso_opt(s.accepted_at),
        "invitedAt": iso(s.invited_at),
        "deletedAt": null,
        "leftAt": null,
        "owned": true,
        "inviteToken": s.invite_token,
        "accessToken": s.access_token,
        "machineIdentifier": s.machine_id,
        "lastSeenAt": iso(s.accepted_at.unwrap_or(s.invited_at)),
        "numLibraries": num,
        "allLibraries": s.all_libraries,
        "libraries": libraries,
        "sharingSettings": shown_settings(w, s),
        "invited": Value::Object(person_json(w, Some(s), account, status)),
    }))
}

/// `GET /api/v2/shared_servers/invites/owned/pending`: one invite per invitee, each with its
/// `invited` identity and `sharedServers`.
pub(super) fn pending_invites(w: &World) -> Vec<Value> {
    let mut groups: Vec<(Option<u64>, String, Vec<&ShareRecord>)> = Vec::new();
    for s in w.shares.values().filter(|s| s.pending) {
        let email = s.invited_email.clone().unwrap_or_default().to_lowercase();
        match groups
            .iter_mut()
            .find(|(a, e, _)| *a == s.account_id && (a.is_some() || *e == email))
        {
            Some((_, _, list)) => list.push(s),
            None => groups.push((s.account_id, email, vec![s])),
        }
    }
    groups
        .into_iter()
        .map(|(account_id, _, shares)| {
            let account = account_id.and_then(|id| w.accounts.get(&id));
            let first = shares.first().copied();
            json!({
                "id": account_id,
                "createdAt": iso(first.map(|s| s.invited_at).unwrap_or_default()),
                "friend": account.is_some(),
                "home": false,
                "server": true,
                "invited": Value::Object(person_json(w, first, account, "pending")),
                "sharedServers": shares.iter().filter_map(|s| shared_server_json(w, s)).collect::<Vec<_>>(),
                "sharedSources": [],
            })
        })
        .collect()
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("1" | "true"))
}

/// `GET /api/v2/friends`: friends and managed users (`status=accepted`, the default), or
/// invitees without an account (`pending_sent`/`pending`). `sharedServers` only with
/// `includeSharedServers=true` (empty otherwise, as reported).
pub(super) fn friends(w: &World, req: &Req) -> Vec<Value> {
    let with_servers = truthy(req.param("includeSharedServers"));
    let status = req.param("status").unwrap_or("accepted");
    let mut out = Vec::new();
    if status == "accepted" {
        let by_account = w.shares_by_account();
        for a in w.accounts.values() {
            let own = by_account.get(&a.id).map(Vec::as_slice).unwrap_or_default();
            let mut m = person_json(w, own.first().copied(), Some(a), "accepted");
            let shares: Vec<Value> = if with_servers {
                own.iter()
                    .filter_map(|s| shared_server_json(w, s))
                    .collect()
            } else {
                Vec::new()
            };
            m.insert("sharedServers".into(), Value::Array(shares));
            m.insert("sharedSources".into(), Value::Array(Vec::new()));
            out.push(Value::Object(m));
        }
    }
    if matches!(status, "pending_sent" | "pending") {
        for s in w.shares.values().filter(|s| s.account_id.is_none()) {
            let mut m = person_json(w, Some(s), None, "pending_sent");
            let shares = if with_servers {
                shared_server_json(w, s).into_iter().collect()
            } else {
                Vec::new()
            };
            m.insert("sharedServers".into(), Value::Array(shares));
            m.insert("sharedSources".into(), Value::Array(Vec::new()));
            out.push(Value::Object(m));
        }
    }
    out
}

fn body_object(cx: &Ctx) -> Result<Map<String, Value>, Reply> {
    if !cx.req.is_json_body() {
        return Err(cx.invalid("Content-Type must be application/json"));
    }
    match serde_json::from_str::<Value>(&cx.req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(cx.invalid("The request body is not a JSON object")),
    }
}

fn write_error(cx: &Ctx, e: WriteError) -> Reply {
    match e {
        WriteError::UnknownSections(ids) => cx.invalid(&format!(
            "Invalid librarySectionIds: {}",
            ids.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        WriteError::Duplicate(name) => {
            cx.error(422, 2001, &format!("Server is already shared with {name}"))
        }
        WriteError::UnknownInvitee(who) => cx.invalid(&format!("Unable to find user {who}")),
        WriteError::SelfShare => cx.invalid("You cannot share a server with yourself"),
        // Real plex.tv's answer is not recorded; a JSON error document with 422, the status
        // its duplicate share is said to use, so a client cannot tell the two apart by status
        // (the stricter side: it must re-read to learn that no share was made). Code 2002 is
        // a sandbox invention.
        WriteError::LabelsRefused(name) => cx.error(
            422,
            2002,
            &format!("Label restrictions cannot be changed for {name}: the user has a restriction profile"),
        ),
    }
}

/// `POST /api/v2/shared_servers`: 201 + SharedServer. Empty or absent `librarySectionIds`
/// shares all libraries; absent `settings` take the defaults.
pub(super) fn share_create(w: &mut World, cx: &Ctx) -> Reply {
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(mid) = body.get("machineIdentifier").and_then(Value::as_str) else {
        return cx.invalid("machineIdentifier is required");
    };
    if w.owned_server(mid).is_none() {
        return cx.not_found();
    }
    let ids = match body.get("librarySectionIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => match wire::parse_ids(v, "librarySectionIds") {
            Ok(ids) => ids,
            Err(e) => return cx.invalid(&e),
        },
    };
    let invited_id = match body.get("invitedId") {
        None | Some(Value::Null) => None,
        Some(v) => match wire::parse_account_id(v) {
            Some(id) => Some(id),
            None => return cx.invalid("invitedId must be an account id"),
        },
    };
    let invited_email = body
        .get("invitedEmail")
        .and_then(Value::as_str)
        .filter(|e| !e.trim().is_empty());
    if invited_id.is_none() && invited_email.is_none() {
        return cx.invalid("invitedId or invitedEmail is required");
    }
    let settings = wire::parse_settings(body.get("settings"));
    let mid = mid.to_string();
    match w.create_share(
        &mid,
        invited_id,
        invited_email,
        &ids,
        settings,
        wire::now_epoch(),
    ) {
        Ok(id) => match w.shares.get(&id).and_then(|s| shared_server_json(w, s)) {
            Some(v) => cx.doc(201, "sharedServer", v),
            None => cx.not_found(),
        },
        Err(e) => write_error(cx, e),
    }
}

/// `POST /api/v2/shared_servers/{id}`: replaces `librarySectionIds` (required; empty = all
/// libraries, the sandbox's choice) AND the settings: whatever `settings` omits is reset to
/// the defaults, so a client must send the share's settings back.
pub(super) fn share_update(w: &mut World, cx: &Ctx, id: u64) -> Reply {
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(list) = body.get("librarySectionIds") else {
        return cx.invalid("librarySectionIds is required");
    };
    let ids = match wire::parse_ids(list, "librarySectionIds") {
        Ok(ids) => ids,
        Err(e) => return cx.invalid(&e),
    };
    let settings = wire::parse_settings(body.get("settings"));
    if let Some(share) = w.shares.get(&id) {
        if let Err(e) = w.check_labels(share.account_id, Some(&share.settings), &settings) {
            return write_error(cx, e);
        }
    }
    if let Err(e) = w.replace_sections(id, &ids) {
        return write_error(cx, e);
    }
    if let Some(s) = w.shares.get_mut(&id) {
        s.settings = settings;
    }
    match w.shares.get(&id).and_then(|s| shared_server_json(w, s)) {
        Some(v) => cx.doc(200, "sharedServer", v),
        None => cx.not_found(),
    }
}
