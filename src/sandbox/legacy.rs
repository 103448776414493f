//! Legacy `/api/...` routes: XML always (capitalised elements, "0"/"1", epoch seconds),
//! whatever `Accept` says. Errors: 401 `<errors><error>…`, 400/403/410 `<Response …/>`, 404
//! (unrouted paths and unknown records alike) Rails' HTML page.

use serde_json::Value;

use super::wire::{self, El, Reply};
use super::world::{ServerRecord, ShareRecord, World, WriteError};
use super::Req;

enum Route {
    Users,
    Resources,
    Servers,
    Server(String),
    SharedList(String),
    SharedCreate(String),
    SharedGet(String, String),
    SharedPut(String, String),
    SharedDelete(String, String),
}

pub(crate) fn handle(w: &mut World, req: &Req, empty_catalogue: bool) -> Reply {
    let segs = req.segments();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();

    // Retired endpoints (python-plexapi #1412/#1435): 410 before anything else.
    if matches!(
        s.as_slice(),
        ["api", "friends", _, ..] | ["api", "invites", "requested" | "requests", ..]
    ) {
        return wire::legacy_response(410, "This endpoint was deprecated and removed");
    }

    let route = match (m, s.as_slice()) {
        ("GET", ["api", "users"]) => Route::Users,
        ("GET", ["api", "resources"]) => Route::Resources,
        ("GET", ["api", "servers"]) => Route::Servers,
        ("GET", ["api", "servers", mid]) => Route::Server(mid.to_string()),
        ("GET", ["api", "servers", mid, "shared_servers"]) => Route::SharedList(mid.to_string()),
        ("POST", ["api", "servers", mid, "shared_servers"]) => Route::SharedCreate(mid.to_string()),
        ("GET", ["api", "servers", mid, "shared_servers", id]) => {
            Route::SharedGet(mid.to_string(), id.to_string())
        }
        ("PUT", ["api", "servers", mid, "shared_servers", id]) => {
            Route::SharedPut(mid.to_string(), id.to_string())
        }
        ("DELETE", ["api", "servers", mid, "shared_servers", id]) => {
            Route::SharedDelete(mid.to_string(), id.to_string())
        }
        // Includes `DELETE /api/servers/{mid}/shared_servers` (JBOPS #125/#226).
        _ => return wire::html_404(),
    };

    let Some(caller) = req.token().and_then(|t| w.tokens.get(t).copied()) else {
        return wire::legacy_unauthorized();
    };
    let is_owner = caller == w.owner.id;

    match route {
        Route::Users => users(w, is_owner),
        Route::Resources => resources(w, is_owner),
        Route::Servers => servers(w, is_owner),
        Route::Server(mid) => match w.server(&mid) {
            Some(server) if is_owner => catalogue(server, empty_catalogue),
            _ => wire::html_404(),
        },
        Route::SharedList(mid) => with_owned(w, &mid, is_owner, |w, server| {
            // Rendered share by share: a server with thousands of shares never exists as a tree.
            let shares: Vec<String> = w
                .shares_on(&server.machine_id)
                .filter_map(|s| w.legacy_view(s))
                .map(|s| wire::rendered(&shared_server(w, server, &s)))
                .collect();
            let root = myplex(El::new("MediaContainer"))
                .attr("machineIdentifier", &server.machine_id)
                .attr("size", shares.len());
            Reply::xml_list(200, root, shares)
        }),
        Route::SharedGet(mid, id) => with_owned(w, &mid, is_owner, |w, server| {
            match share_of(w, &server.machine_id, &id).and_then(|s| w.legacy_view(s)) {
                Some(share) => Reply::xml(
                    200,
                    container(&server.machine_id, vec![shared_server(w, server, &share)]),
                ),
                None => wire::html_404(),
            }
        }),
        Route::SharedCreate(mid) => {
            if let Some(refused) = check_owned(w, &mid, is_owner) {
                return refused;
            }
            create(w, req, &mid)
        }
        Route::SharedPut(mid, id) => {
            if let Some(refused) = check_owned(w, &mid, is_owner) {
                return refused;
            }
            let Some(share_id) = share_of(w, &mid, &id).map(|s| s.id) else {
                return wire::html_404();
            };
            update(w, req, &mid, share_id)
        }
        Route::SharedDelete(mid, id) => {
            if let Some(refused) = check_owned(w, &mid, is_owner) {
                return refused;
            }
            let Some(share_id) = share_of(w, &mid, &id).map(|s| s.id) else {
                return wire::html_404();
            };
            w.shares.remove(&share_id);
            Reply::new(200, wire::Body::Empty)
        }
    }
}

/// 404 for an unknown server, 403 for one the caller does not own.
fn check_owned(w: &World, mid: &str, is_owner: bool) -> Option<Reply> {
    match w.server(mid) {
        None => Some(wire::html_404()),
        Some(s) if !s.owned || !is_owner => Some(wire::legacy_response(403, "Forbidden")),
        Some(_) => None,
    }
}

fn with_owned(
    w: &World,
    mid: &str,
    is_owner: bool,
    f: impl FnOnce(&World, &ServerRecord) -> Reply,
) -> Reply {
    if let Some(refused) = check_owned(w, mid, is_owner) {
        return refused;
    }
    match w.server(mid) {
        Some(server) => f(w, server),
        None => wire::html_404(),
    }
}

fn share_of<'a>(w: &'a World, mid: &str, id: &str) -> Option<&'a ShareRecord> {
    let id: u64 = id.parse().ok()?;
    w.shares.get(&id).filter(|s| s.machine_id == mid)
}

fn myplex(root: El) -> El {
    root.attr("friendlyName", "myPlex")
        .attr("identifier", "com.plexapp.plugins.myplex")
}

fn container(mid: &str, children: Vec<El>) -> El {
    myplex(El::new("MediaContainer"))
        .attr("machineIdentifier", mid)
        .attr("size", children.len())
        .children(children)
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------

/// `GET /api/users`: friends and managed users, with a `Server` per share (owned="1") and per
/// server they share to the owner (owned="0"); pending invites to addresses without an account
/// appear as users with no id and an empty title.
fn users(w: &World, is_owner: bool) -> Reply {
    let mut users = Vec::new();
    if is_owner {
        let by_account = w.shares_by_account();
        for a in w.accounts.values() {
            let shares: Vec<ShareRecord> = by_account
                .get(&a.id)
                .into_iter()
                .flatten()
                .filter_map(|s| w.legacy_view(s))
                .collect();
            let settings = shares
                .first()
                .map(|s| s.settings.clone())
                .unwrap_or_default();
            let mut u = El::new("User").attr("id", a.id).attr("title", &a.title);
            if !a.is_managed() {
                u = u
                    .attr("username", opt(&a.username))
                    .attr("email", opt(&a.email));
            }
            u = u
                .attr("recommendationsPlaylistId", "")
                .attr("thumb", a.thumb())
                .flag("protected", false)
                .flag("home", a.home)
                .attr("allowTuners", settings.allow_tuners)
                .flag("allowSync", settings.allow_sync)
                .flag("allowCameraUpload", settings.allow_camera_upload)
                .flag("allowChannels", settings.allow_channels)
                .flag("allowSubtitleAdmin", settings.allow_subtitle_admin)
                .attr("filterAll", opt(&settings.filter_all))
                .attr("filterMovies", opt(&settings.filter_movies))
                .attr("filterMusic", opt(&settings.filter_music))
                .attr("filterPhotos", opt(&settings.filter_photos))
                .attr("filterTelevision", opt(&settings.filter_television))
                .flag("restricted", a.restricted);
            for s in &shares {
                if let Some(server) = w.server(&s.machine_id) {
                    u = u.child(user_server(w, server, s));
                }
            }
            for server in w.servers.iter().filter(|sv| sv.owner_id == Some(a.id)) {
                u = u.child(
                    El::new("Server")
                        .attr("id", server.incoming_share_id.unwrap_or_default())
                        .attr("serverId", server.server_id)
                        .attr("machineIdentifier", &server.machine_id)
                        .attr("name", &server.name)
                        .attr("lastSeenAt", server.updated_at)
                        .attr("numLibraries", server.libraries.len())
                        .flag("allLibraries", true)
                        .flag("owned", false)
                        .flag("pending", false),
                );
            }
            users.push(wire::rendered(&u));
        }
        // Invites to addresses with no account, grouped by address.
        let mut invites: Vec<(String, Vec<&ShareRecord>)> = Vec::new();
        for s in w.shares.values().filter(|s| s.account_id.is_none()) {
            let email = s.invited_email.clone().unwrap_or_default();
            match invites
                .iter_mut()
                .find(|(e, _)| e.eq_ignore_ascii_case(&email))
            {
                Some((_, list)) => list.push(s),
                None => invites.push((email, vec![s])),
            }
        }
        for (email, shares) in invites {
            let mut u = El::new("User")
                .attr("title", "")
                .attr("username", "")
                .attr("email", &email)
                .attr("recommendationsPlaylistId", "")
                .attr("thumb", "")
                .flag("protected", false)
                .flag("home", false)
                .flag("restricted", false);
            for s in shares {
                if let Some(server) = w.server(&s.machine_id) {
                    u = u.child(user_server(w, server, s));
                }
            }
            users.push(wire::rendered(&u));
        }
    }
    let root = myplex(El::new("MediaContainer"))
        .attr(
            "machineIdentifier",
            super::world::hex_from(&format!("account-mid:{}", w.owner.id), 13).to_uppercase(),
        )
        .attr("totalSize", users.len())
        .attr("size", users.len());
    Reply::xml_list(200, root, users)
}

fn num_libraries(server: &ServerRecord, s: &ShareRecord) -> usize {
    if s.all_libraries {
        server.libraries.len()
    } else {
        s.section_ids.len()
    }
}

fn user_server(_w: &World, server: &ServerRecord, s: &ShareRecord) -> El {
    El::new("Server")
        .attr("id", s.id)
        .attr("serverId", server.server_id)
        .attr("machineIdentifier", &server.machine_id)
        .attr("name", &server.name)
        .attr("lastSeenAt", s.accepted_at.unwrap_or(s.invited_at))
        .attr("numLibraries", num_libraries(server, s))
        .flag("allLibraries", s.all_libraries)
        .flag("owned", true)
        .flag("pending", s.pending)
}

/// `SharedServer` with a `Section` for every library of the server, `shared` per the share.
fn shared_server(w: &World, server: &ServerRecord, s: &ShareRecord) -> El {
    let account = s.account_id.and_then(|id| w.accounts.get(&id));
    let mut el = El::new("SharedServer").attr("id", s.id);
    el = match account {
        Some(a) => el
            .attr("username", opt(&a.username))
            .attr("email", opt(&a.email))
            .attr("userID", a.id),
        None => el.attr("username", "").attr("email", opt(&s.invited_email)),
    };
    let st = &s.settings;
    let el = el
        .attr("accessToken", &s.access_token)
        .attr("name", &server.name)
        .attr(
            "acceptedAt",
            s.accepted_at.map(|t| t.to_string()).unwrap_or_default(),
        )
        .attr("invitedAt", s.invited_at)
        .flag("allowSync", st.allow_sync)
        .flag("allowCameraUpload", st.allow_camera_upload)
        .flag("allowChannels", st.allow_channels)
        .attr("allowTuners", st.allow_tuners)
        .flag("allowSubtitleAdmin", st.allow_subtitle_admin)
        .flag("owned", true)
        .flag("allLibraries", s.all_libraries)
        .attr("filterAll", opt(&st.filter_all));
    // A share in `World::partial_settings` comes without its `filterMovies` attribute.
    let el = if w.partial_settings.contains(&s.id) {
        el
    } else {
        el.attr("filterMovies", opt(&st.filter_movies))
    };
    el.attr("filterMusic", opt(&st.filter_music))
        .attr("filterPhotos", opt(&st.filter_photos))
        .attr("filterTelevision", opt(&st.filter_television))
        .children(server.libraries.iter().map(|l| {
            El::new("Section")
                .attr("id", l.id)
                .attr("key", l.key)
                .attr("title", &l.title)
                .attr("type", &l.kind)
                .flag("shared", s.all_libraries || s.section_ids.contains(&l.id))
        }))
}

fn server_el(server: &ServerRecord, with_token: bool) -> El {
    let el = El::new("Server");
    let el = if with_token {
        el.attr("accessToken", &server.access_token)
    } else {
        el
    };
    el.attr("name", &server.name)
        .attr("address", &server.address)
        .attr("port", server.port)
        .attr("version", &server.version)
        .attr("scheme", "http")
        .attr("host", &server.address)
        .attr("localAddresses", &server.local_address)
        .attr("machineIdentifier", &server.machine_id)
        .attr("createdAt", server.created_at)
        .attr("updatedAt", server.updated_at)
        .flag("owned", server.owned)
        .flag("synced", false)
}

/// `GET /api/servers/{mid}`: the server and every section (`id key type title`).
fn catalogue(server: &ServerRecord, empty: bool) -> Reply {
    let sections: Vec<El> = if empty {
        Vec::new()
    } else {
        server
            .libraries
            .iter()
            .map(|l| {
                El::new("Section")
                    .attr("id", l.id)
                    .attr("key", l.key)
                    .attr("type", &l.kind)
                    .attr("title", &l.title)
            })
            .collect()
    };
    Reply::xml(
        200,
        myplex(El::new("MediaContainer"))
            .attr("machineIdentifier", &server.machine_id)
            .attr("size", 1)
            .child(server_el(server, false).children(sections)),
    )
}

fn servers(w: &World, is_owner: bool) -> Reply {
    let list: Vec<El> = if is_owner {
        w.servers.iter().map(|s| server_el(s, true)).collect()
    } else {
        Vec::new()
    };
    Reply::xml(
        200,
        myplex(El::new("MediaContainer"))
            .attr(
                "machineIdentifier",
                super::world::hex_from(&format!("account-mid:{}", w.owner.id), 13).to_uppercase(),
            )
            .attr("size", list.len())
            .children(list),
    )
}

pub(crate) fn connections(server: &ServerRecord) -> Vec<(String, String, u16, String, bool, bool)> {
    let dashed = |a: &str| a.replace('.', "-");
    vec![
        (
            "https".into(),
            server.local_address.clone(),
            server.port,
            format!(
                "https://{}.{}.plex.direct:{}",
                dashed(&server.local_address),
                server.machine_id,
                server.port
            ),
            true,
            false,
        ),
        (
            "https".into(),
            server.address.clone(),
            server.port,
            format!(
                "https://{}.{}.plex.direct:{}",
                dashed(&server.address),
                server.machine_id,
                server.port
            ),
            false,
            false,
        ),
        (
            "https".into(),
            "198.51.100.7".into(),
            8443,
            format!(
                "https://198-51-100-7.{}.plex.direct:8443",
                server.machine_id
            ),
            false,
            true,
        ),
    ]
}

/// `GET /api/resources`: `Device` per server (owned or shared to the owner) and per device.
fn resources(w: &World, is_owner: bool) -> Reply {
    let mut devices = Vec::new();
    if is_owner {
        for s in &w.servers {
            let owner = s.owner_id.and_then(|id| w.accounts.get(&id));
            let mut d = El::new("Device")
                .attr("name", &s.name)
                .attr("product", "Plex Media Server")
                .attr("productVersion", &s.version)
                .attr("platform", "Linux")
                .attr("platformVersion", "6.1.0")
                .attr("device", "PC")
                .attr("clientIdentifier", &s.machine_id)
                .attr("createdAt", s.created_at)
                .attr("lastSeenAt", s.updated_at)
                .attr("provides", "server")
                .flag("owned", s.owned);
            if let Some(o) = owner {
                d = d
                    .attr("ownerId", o.id)
                    .attr("sourceTitle", o.display_name());
            }
            d = d
                .attr("accessToken", &s.access_token)
                .attr("publicAddress", &s.address)
                .flag("httpsRequired", false)
                .flag("synced", false)
                .flag("relay", true)
                .flag("dnsRebindingProtection", false)
                .flag("natLoopbackSupported", false)
                .flag("publicAddressMatches", false)
                .flag("presence", true);
            for (protocol, address, port, uri, local, relay) in connections(s) {
                d = d.child(
                    El::new("Connection")
                        .attr("protocol", protocol)
                        .attr("address", address)
                        .attr("port", port)
                        .attr("uri", uri)
                        .flag("local", local)
                        .flag("relay", relay),
                );
            }
            devices.push(d);
        }
        for dev in &w.devices {
            devices.push(
                El::new("Device")
                    .attr("name", &dev.name)
                    .attr("product", &dev.product)
                    .attr("productVersion", "4.145.1")
                    .attr("platform", &dev.platform)
                    .attr("platformVersion", "")
                    .attr("device", &dev.platform)
                    .attr("clientIdentifier", &dev.client_identifier)
                    .attr("createdAt", dev.created_at)
                    .attr("lastSeenAt", dev.created_at + 86_400)
                    .attr("provides", &dev.provides)
                    .flag("owned", true)
                    .attr("accessToken", &dev.access_token)
                    .attr("publicAddress", "203.0.113.200")
                    .flag("httpsRequired", false)
                    .flag("synced", false)
                    .flag("relay", false)
                    .flag("presence", false),
            );
        }
    }
    Reply::xml(
        200,
        El::new("MediaContainer")
            .attr("size", devices.len())
            .children(devices),
    )
}

// ---------------------------------------------------------------------------------------------
// Writes. Bodies are JSON (`Content-Type: application/json`), as plexapi and JBOPS send them.

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
fn create(w: &mut World, req: &Req, mid: &str) -> Reply {
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
/// answer is unverified; a client must never send one (plex-tv-api.md §5.2). Pending shares
/// can be edited like accepted ones unless `World::legacy_put_refuses_pending` is set: whether
/// plex.tv takes this PUT on a pending share is unverified, so a test can choose the refusal
/// (the HTML 404 of an id it does not know).
fn update(w: &mut World, req: &Req, mid: &str, share_id: u64) -> Reply {
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
