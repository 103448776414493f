//! Accounts, sign-in and PINs.

use serde_json::{json, Value};

use crate::sandbox::wire::{self, iso, Reply};
use crate::sandbox::world::{AccountRecord, PinRecord, World};

use super::context::{Ctx, UNAUTHENTICATED};

const PIN_GONE: &str = "Code not found or expired";
/// Failed sign-ins before plex.tv flags the address (code 1031).
const SIGNIN_FAILURE_LIMIT: u32 = 5;
const PIN_LIFETIME: i64 = 900;

pub(super) fn account_json(w: &World, a: &AccountRecord, token: &str) -> Value {
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
pub(super) fn sign_in(w: &mut World, cx: &Ctx) -> Reply {
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
pub(super) fn pin_create(w: &mut World, cx: &Ctx) -> Reply {
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
pub(super) fn pin_get(w: &World, cx: &Ctx, id: &str) -> Reply {
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
pub(super) fn pin_link(w: &mut World, cx: &Ctx, caller: u64) -> Reply {
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
