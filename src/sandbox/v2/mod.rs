//! `/api/v2/...` routes (plex.tv and clients.plex.tv). JSON iff `Accept: application/json`,
//! else XML with lower-camel elements. Every route needs `X-Plex-Client-Identifier` (400, code
//! 1000); all but sign-in and PINs need a token (401, code 1001). Unrouted: 404 code 1002.
//!
//! Codes plex.tv is not known to use (sandbox inventions, documented so tests can match them):
//! 1003 for 429, 2000 for a body that fails validation (422), 2001 for a duplicate share (422),
//! 2002 for a label filter refused by a restriction profile (422).

mod accounts;
mod context;
mod servers;
mod shares;

use crate::sandbox::request::Req;
use crate::sandbox::wire::{self, Reply};
use crate::sandbox::world::World;

use accounts::{account_json, pin_create, pin_get, pin_link, sign_in};
use context::{Ctx, UNAUTHENTICATED};
use servers::{resources, server_json};
use shares::{friends, pending_invites, share_create, share_update, shared_server_json};

enum Route {
    User,
    SignIn,
    SignOut,
    PinCreate,
    PinGet(String),
    PinLink,
    Resources,
    Server(String),
    Accepted,
    PendingOwned,
    PendingReceived,
    ShareCreate,
    ShareUpdate(String),
    ShareDelete(String),
    Friends,
}

pub(crate) fn handle(w: &mut World, req: &Req, empty_catalogue: bool) -> Reply {
    let cx = Ctx {
        req,
        json: req.wants_json(),
    };
    let segs = req.segments();
    let s: Vec<&str> = segs.iter().skip(2).map(String::as_str).collect();
    let route = match (req.method.as_str(), s.as_slice()) {
        ("GET", ["user"]) => Route::User,
        ("POST", ["users", "signin"]) => Route::SignIn,
        ("DELETE", ["users", "signout"]) => Route::SignOut,
        ("POST", ["pins"]) => Route::PinCreate,
        ("PUT", ["pins", "link"]) => Route::PinLink,
        ("GET", ["pins", id]) => Route::PinGet(id.to_string()),
        ("GET", ["resources"]) => Route::Resources,
        ("GET", ["servers", mid]) => Route::Server(mid.to_string()),
        ("GET", ["shared_servers", "owned", "accepted"]) => Route::Accepted,
        ("GET", ["shared_servers", "invites", "owned", "pending"]) => Route::PendingOwned,
        ("GET", ["shared_servers", "invites", "received", "pending"]) => Route::PendingReceived,
        ("POST", ["shared_servers"]) => Route::ShareCreate,
        ("POST", ["shared_servers", id]) => Route::ShareUpdate(id.to_string()),
        ("DELETE", ["shared_servers", id]) => Route::ShareDelete(id.to_string()),
        ("GET", ["friends"]) => Route::Friends,
        _ => return cx.not_found(),
    };

    if req.client_identifier().is_none() {
        return cx.error(400, 1000, "X-Plex-Client-Identifier is missing");
    }
    let anonymous = matches!(route, Route::SignIn | Route::PinCreate | Route::PinGet(_));
    let caller = req.token().and_then(|t| w.tokens.get(t).copied());
    if !anonymous && caller.is_none() {
        return cx.error(401, 1001, UNAUTHENTICATED);
    }
    let caller = caller.unwrap_or_default();
    let is_owner = caller == w.owner.id;

    match route {
        Route::User => match w.any_account(caller) {
            Some(a) => cx.doc(
                200,
                "user",
                account_json(w, a, req.token().unwrap_or_default()),
            ),
            None => cx.error(401, 1001, UNAUTHENTICATED),
        },
        Route::SignIn => sign_in(w, &cx),
        Route::SignOut => {
            if let Some(t) = req.token() {
                w.tokens.remove(t);
            }
            Reply::new(204, wire::Body::Empty)
        }
        Route::PinCreate => pin_create(w, &cx),
        Route::PinGet(id) => pin_get(w, &cx, &id),
        Route::PinLink => pin_link(w, &cx, caller),
        Route::Resources => {
            let list = if is_owner { resources(w) } else { Vec::new() };
            cx.doc_list(200, "resources", list)
        }
        Route::Server(mid) => match w.server(&mid).filter(|_| is_owner) {
            Some(server) => cx.doc(200, "server", server_json(server, empty_catalogue)),
            None => cx.not_found(),
        },
        Route::Accepted => cx.doc_list(
            200,
            "sharedServers",
            w.shares
                .values()
                .filter(|s| is_owner && !s.pending)
                .filter_map(|s| shared_server_json(w, s)),
        ),
        Route::PendingOwned => {
            let list = if is_owner {
                pending_invites(w)
            } else {
                Vec::new()
            };
            cx.doc_list(200, "invites", list)
        }
        Route::PendingReceived => cx.doc_list(200, "invites", Vec::new()),
        Route::Friends => {
            let list = if is_owner {
                friends(w, req)
            } else {
                Vec::new()
            };
            cx.doc_list(200, "friends", list)
        }
        Route::ShareCreate if is_owner => share_create(w, &cx),
        Route::ShareUpdate(id) if is_owner => match id
            .parse::<u64>()
            .ok()
            .filter(|id| w.shares.contains_key(id))
        {
            Some(id) => share_update(w, &cx, id),
            None => cx.not_found(),
        },
        Route::ShareDelete(id) if is_owner => match id
            .parse::<u64>()
            .ok()
            .filter(|id| w.shares.contains_key(id))
        {
            Some(id) => {
                w.shares.remove(&id);
                Reply::new(204, wire::Body::Empty)
            }
            None => cx.not_found(),
        },
        Route::ShareCreate | Route::ShareUpdate(_) | Route::ShareDelete(_) => cx.not_found(),
    }
}
