//! `/api/v2/...` routes (plex.tv and clients.plex.tv). JSON iff `Accept: application/json`,
//! else XML with lower-camel elements. Every route needs `X-Plex-Client-Identifier` (400, code
//! 1000); all but sign-in and PINs need a token (401, code 1001). Unrouted: 404 code 1002.
//!
//! Codes the doc does not give (sandbox inventions, documented so tests can match them):
//! 1003 for 429, 2000 for a body that fails validation (422), 2001 for a duplicate share (422),
//! 2002 for a label filter refused by a restriction profile (422).

use serde_json::{json, Map, Value};

use super::legacy::connections;
use super::wire::{self, iso, iso_opt, Reply};
use super::world::{AccountRecord, PinRecord, ServerRecord, ShareRecord, World, WriteError};
use super::Req;

const NOT_FOUND: &str = "The requested resource or endpoint could not be found";
const UNAUTHENTICATED: &str = "User could not be authenticated";
const PIN_GONE: &str = "Code not found or expired";
/// Failed sign-ins before plex.tv flags the address (code 1031).
const SIGNIN_FAILURE_LIMIT: u32 = 5;
const PIN_LIFETIME: i64 = 900;

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

struct Ctx<'a> {
    req: &'a Req,
    json: bool,
}

impl Ctx<'_> {
    fn error(&self, status: u16, code: u32, message: &str) -> Reply {
        wire::v2_error(self.json, status, code, message)
    }

    fn not_found(&self) -> Reply {
        self.error(404, 1002, NOT_FOUND)
    }

    fn invalid(&self, message: &str) -> Reply {
        self.error(422, 2000, message)
    }

    /// A list, rendered item by item: a JSON array, or XML `<root size=n>` of singular-named
    /// children.
    fn doc_list(&self, status: u16, root: &str, items: impl IntoIterator<Item = Value>) -> Reply {
        if self.json {
            let items: Vec<String> = items.into_iter().map(|v| v.to_string()).collect();
            Reply::new(status, wire::Body::JsonList(items))
        } else {
            let child = wire::singular(root);
            let items: Vec<String> = items
                .into_iter()
                .map(|v| wire::rendered(&wire::json_to_xml(&child, &v)))
                .collect();
            Reply::xml_list(status, wire::El::new(root).attr("size", items.len()), items)
        }
    }

    /// A document: JSON, or XML with `root` as the element name.
    fn doc(&self, status: u16, root: &str, v: Value) -> Reply {
        if self.json {
            Reply::json(status, v)
        } else {
            Reply::xml(status, wire::json_to_xml(root, &v))
        }
    }
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

// ---------------------------------------------------------------------------------------------
// Accounts, sign-in, PINs.

fn account_json(w: &World, a: &AccountRecord, token: &str) -> Value {
    let home_size = 1 + w.accounts.values().filter(|x| x.home).count();
    json!({
        "id": a.id,
        "uuid": a.uuid,
        "username": a.username,
        "title": a.title,
        "email": a.email,
        "friendlyName": "",
        "locale": null,
        "confirmed": true,
        "joinedAt": a.joined_at,
        "emailOnlyAuth": false,
        "hasPassword": a.password.is_some(),
        "protected": false,
        "thumb": a.thumb(),
        "authToken": token,
        "mailingListStatus": "unsubscribed",
        "mailingListActive": false,
        "scrobbleTypes": "",
        "country": "US",
        "subscription": {
            "active": true,
            "subscribedAt": iso(a.joined_at + 86_400),
            "status": "Active",
            "paymentService": "braintree",
            "plan": "lifetime",
            "features": ["users-and-sharing", "web-share-v2", "home", "pass", "sync"]
        },
        "subscriptionDescription": "Lifetime Plex Pass",
        "restricted": a.restricted,
        "anonymous": null,
        "home": a.home,
        "guest": false,
        "homeSize": home_size,
        "homeAdmin": a.id == w.owner.id,
        "maxHomeSize": 15,
        "rememberExpiresAt": wire::now_epoch() + 14 * 86_400,
        "profile": {
            "autoSelectAudio": true,
            "defaultAudioLanguage": "en",
            "defaultSubtitleLanguage": "en",
            "autoSelectSubtitle": 0,
            "defaultSubtitleAccessibility": 0,
            "defaultSubtitleForced": 0,
            "watchedIndicator": 1,
            "mediaReviewsVisibility": 0
        },
        "entitlements": ["all"],
        "roles": ["plexpass"],
        "services": [],
        "twoFactorEnabled": a.totp.is_some(),
        "backupCodesCreated": false
    })
}

/// `POST /api/v2/users/signin` (form `login`, `password`, `verificationCode`): 201 + account
/// with a fresh `authToken`; 401 1001 wrong login/password; 401 1029 code missing or wrong;
/// once 5 attempts have failed, 401 1031 for every attempt until `signin_failures` is reset.
fn sign_in(w: &mut World, cx: &Ctx) -> Reply {
    let form = cx.req.form();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if w.signin_failures >= SIGNIN_FAILURE_LIMIT {
        return cx.error(
            401,
            1031,
            "User could not be authenticated. This IP appears to be having trouble signing in to an account (detected repeated failures)",
        );
    }
    let login = field("login").unwrap_or_default().trim().to_string();
    let password = field("password").unwrap_or_default();
    let matches = |a: &AccountRecord| {
        let eq = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(&login));
        !login.is_empty() && (eq(&a.username) || eq(&a.email))
    };
    let account = std::iter::once(&w.owner)
        .chain(w.accounts.values())
        .find(|a| matches(a))
        .cloned();
    let Some(account) =
        account.filter(|a| a.password.as_deref() == Some(password) && !password.is_empty())
    else {
        w.signin_failures += 1;
        return cx.error(401, 1001, UNAUTHENTICATED);
    };
    if let Some(code) = &account.totp {
        match field("verificationCode")
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => return cx.error(401, 1029, "Please enter the verification code"),
            Some(given) if given != code => {
                w.signin_failures += 1;
                return cx.error(401, 1029, "Please enter the verification code");
            }
            Some(_) => {}
        }
    }
    w.signin_failures = 0;
    let token = w.issue_token(account.id);
    cx.doc(201, "user", account_json(w, &account, &token))
}

fn pin_json(p: &PinRecord, now: i64) -> Value {
    json!({
        "id": p.id,
        "code": p.code,
        "product": p.product,
        "trusted": false,
        "qr": format!("https://plex.tv/api/v2/pins/qr/{}", p.code),
        "clientIdentifier": p.client_identifier,
        "location": {
            "code": "US",
            "european_union_member": false,
            "continent_code": "NA",
            "country": "United States",
            "city": "Sandbox",
            "time_zone": "America/New_York",
            "postal_code": "00000",
            "in_privacy_restricted_country": false,
            "subdivisions": "Sandbox",
            "coordinates": "0.0, 0.0"
        },
        "expiresIn": (p.expires_at - now).max(0),
        "createdAt": iso(p.created_at),
        "expiresAt": iso(p.expires_at),
        "authToken": p.auth_token,
        "newRegistration": p.auth_token.as_ref().map(|_| false),
    })
}

/// `POST /api/v2/pins[?strong=true]`: 201, a 4-character code (25 with `strong`), 900 s.
fn pin_create(w: &mut World, cx: &Ctx) -> Reply {
    use rand::Rng;
    let strong = matches!(cx.req.param("strong"), Some("true" | "1"));
    let len = if strong { 25 } else { 4 };
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let code: String = (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    let now = wire::now_epoch();
    let id = w.next_pin_id();
    let pin = PinRecord {
        id,
        code,
        client_identifier: cx.req.client_identifier().unwrap_or_default().to_string(),
        product: cx
            .req
            .plex("X-Plex-Product")
            .unwrap_or_default()
            .to_string(),
        created_at: now,
        expires_at: now + PIN_LIFETIME,
        auth_token: None,
    };
    let body = pin_json(&pin, now);
    w.pins.insert(id, pin);
    cx.doc(201, "pin", body)
}

/// `GET /api/v2/pins/{id}`: only for the client identifier that created it; 404 1020 when
/// unknown, expired or asked by another client.
fn pin_get(w: &World, cx: &Ctx, id: &str) -> Reply {
    let now = wire::now_epoch();
    let client = cx.req.client_identifier().unwrap_or_default();
    match id
        .parse::<u64>()
        .ok()
        .and_then(|id| w.pins.get(&id))
        .filter(|p| p.expires_at > now && p.client_identifier == client)
    {
        Some(p) => cx.doc(200, "pin", pin_json(p, now)),
        None => cx.error(404, 1020, PIN_GONE),
    }
}

/// `PUT /api/v2/pins/link` (form `code`): links the PIN to the caller; 204.
fn pin_link(w: &mut World, cx: &Ctx, caller: u64) -> Reply {
    let now = wire::now_epoch();
    let form = cx.req.form();
    let code = form
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.trim().to_uppercase())
        .unwrap_or_default();
    let Some(id) = w
        .pins
        .values()
        .find(|p| p.code == code && p.expires_at > now && p.auth_token.is_none())
        .map(|p| p.id)
    else {
        return cx.error(404, 1020, PIN_GONE);
    };
    let token = w.issue_token(caller);
    if let Some(p) = w.pins.get_mut(&id) {
        p.auth_token = Some(token);
    }
    Reply::new(204, wire::Body::Empty)
}

// ---------------------------------------------------------------------------------------------
// Servers and resources.

fn resources(w: &World) -> Vec<Value> {
    let mut out = Vec::new();
    for s in &w.servers {
        let owner = s.owner_id.and_then(|id| w.accounts.get(&id));
        let conns: Vec<Value> = connections(s)
            .into_iter()
            .map(|(protocol, address, port, uri, local, relay)| {
                json!({"protocol": protocol, "address": address, "port": port, "uri": uri,
                       "local": local, "relay": relay, "IPv6": false})
            })
            .collect();
        out.push(json!({
            "name": s.name,
            "product": "Plex Media Server",
            "productVersion": s.version,
            "platform": "Linux",
            "platformVersion": "6.1.0",
            "device": "PC",
            "clientIdentifier": s.machine_id,
            "createdAt": iso(s.created_at),
            "lastSeenAt": iso(s.updated_at),
            "provides": "server",
            "ownerId": owner.map(|o| o.id),
            "sourceTitle": owner.map(|o| o.display_name()),
            "publicAddress": s.address,
            "accessToken": s.access_token,
            "owned": s.owned,
            "home": false,
            "synced": false,
            "relay": true,
            "presence": true,
            "httpsRequired": false,
            "publicAddressMatches": false,
            "dnsRebindingProtection": false,
            "natLoopbackSupported": false,
            "connections": conns,
        }));
    }
    for d in &w.devices {
        out.push(json!({
            "name": d.name,
            "product": d.product,
            "productVersion": "4.145.1",
            "platform": d.platform,
            "platformVersion": "",
            "device": d.platform,
            "clientIdentifier": d.client_identifier,
            "createdAt": iso(d.created_at),
            "lastSeenAt": iso(d.created_at + 86_400),
            "provides": d.provides,
            "ownerId": null,
            "sourceTitle": null,
            "publicAddress": "203.0.113.200",
            "accessToken": d.access_token,
            "owned": true,
            "home": false,
            "synced": false,
            "relay": false,
            "presence": false,
            "httpsRequired": false,
            "publicAddressMatches": true,
            "dnsRebindingProtection": false,
            "natLoopbackSupported": false,
            "connections": [],
        }));
    }
    out
}

/// `GET /api/v2/servers/{mid}` (plex-api.rs fixture shape; `createdAt`/`updatedAt` epoch ints).
fn server_json(s: &ServerRecord, empty: bool) -> Value {
    let sections: Vec<Value> = if empty {
        Vec::new()
    } else {
        s.libraries
            .iter()
            .map(|l| json!({"id": l.id, "key": l.key, "title": l.title, "type": l.kind}))
            .collect()
    };
    json!({
        "name": s.name,
        "address": s.address,
        "port": s.port,
        "version": s.version,
        "scheme": "http",
        "host": s.address,
        "synced": false,
        "owned": s.owned,
        "localAddresses": s.local_address,
        "machineIdentifier": s.machine_id,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "librarySections": sections,
    })
}

// ---------------------------------------------------------------------------------------------
// Shares.

fn settings_json(s: &super::world::SettingsRecord) -> Value {
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
    settings_json(&super::world::SettingsRecord {
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
fn shared_server_json(w: &World, s: &ShareRecord) -> Option<Value> {
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
fn pending_invites(w: &World) -> Vec<Value> {
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
fn friends(w: &World, req: &Req) -> Vec<Value> {
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
fn share_create(w: &mut World, cx: &Ctx) -> Reply {
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
fn share_update(w: &mut World, cx: &Ctx, id: u64) -> Reply {
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
