//! Legacy `/api/...` routes: XML always (capitalised elements, "0"/"1", epoch seconds),
//! whatever `Accept` says. Errors: 401 `<errors><error>…`, 400/403/410 `<Response …/>`, 404
//! (unrouted paths and unknown records alike) Rails' HTML page.

mod reads;
mod writes;

use crate::sandbox::request::Req;
use crate::sandbox::wire::{self, El, Reply};
use crate::sandbox::world::{ServerRecord, ShareRecord, World};

use reads::{catalogue, container, myplex, resources, servers, shared_server, users};
use writes::{create, update};

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

    // Endpoints plex.tv has retired (older clients still call them): 410 before anything else.
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
        // Includes `DELETE /api/servers/{mid}/shared_servers` (a bulk delete some scripts try).
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
