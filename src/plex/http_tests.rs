//! Loopback tests of the client against a tiny scripted HTTP stub (canned bodies from
//! plex-tv-api.md). The full simulated plex.tv is exercised in `tests/client.rs`.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;

use crate::model::*;
use crate::plex::{ApiFamily, ClientOptions, PlexClient, PlexError};

#[derive(Clone)]
struct Canned {
    status: u16,
    content_type: &'static str,
    body: String,
    retry_after: Option<&'static str>,
    location: Option<String>,
    delay: Duration,
}

fn ok_json(body: &str) -> Canned {
    Canned {
        status: 200,
        content_type: "application/json",
        body: body.to_string(),
        retry_after: None,
        location: None,
        delay: Duration::ZERO,
    }
}

fn ok_xml(body: &str) -> Canned {
    Canned {
        content_type: "application/xml",
        ..ok_json(body)
    }
}

fn status(code: u16, content_type: &'static str, body: &str) -> Canned {
    Canned {
        status: code,
        content_type,
        ..ok_json(body)
    }
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct Stub {
    /// "GET /path" → answers, the last one repeating.
    routes: HashMap<String, VecDeque<Canned>>,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<Stub>>;

async fn handle(
    State(stub): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = format!("{method} {}", uri.path());
    let canned = {
        let mut s = stub.lock().unwrap();
        s.seen.push(Seen {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().unwrap_or("").to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        match s.routes.get_mut(&key) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().cloned(),
            None => None,
        }
    };
    let Some(c) = canned else {
        return (
            StatusCode::NOT_FOUND,
            [("content-type", "text/html")],
            "<html><head><title>The page you were looking for doesn't exist (404)</title></head></html>",
        )
            .into_response();
    };
    if !c.delay.is_zero() {
        tokio::time::sleep(c.delay).await;
    }
    let mut resp = (
        StatusCode::from_u16(c.status).unwrap(),
        [("content-type", c.content_type)],
        c.body,
    )
        .into_response();
    if let Some(to) = c.location {
        resp.headers_mut().insert("location", to.parse().unwrap());
    }
    if let Some(ra) = c.retry_after {
        resp.headers_mut()
            .insert("retry-after", ra.parse().unwrap());
    }
    resp
}

struct Harness {
    url: String,
    stub: Shared,
}

impl Harness {
    async fn start() -> Harness {
        let stub: Shared = Arc::default();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Harness { url, stub }
    }

    fn route(&self, key: &str, answers: Vec<Canned>) {
        self.stub
            .lock()
            .unwrap()
            .routes
            .insert(key.to_string(), answers.into());
    }

    fn seen(&self) -> Vec<Seen> {
        self.stub.lock().unwrap().seen.clone()
    }

    fn client(&self, family: ApiFamily) -> PlexClient {
        self.client_with(|o| o.family = family)
    }

    /// A client on the stub with the usual options, then `edit`.
    fn client_with(&self, edit: impl FnOnce(&mut ClientOptions)) -> PlexClient {
        let mut o = ClientOptions::new("test-client-id");
        o.base_url = Some(self.url.clone());
        o.token = Some(SecretString::from("OWNER-TOKEN-123"));
        o.timeout = Duration::from_secs(5);
        edit(&mut o);
        PlexClient::new(o).unwrap()
    }
}

const MID_A: &str = "aaaa";
const MID_B: &str = "bbbb";

fn refs() -> (ServerRef, ServerRef) {
    (
        ServerRef {
            name: "noodle".into(),
            machine_id: MachineId(MID_A.into()),
        },
        ServerRef {
            name: "doodoo".into(),
            machine_id: MachineId(MID_B.into()),
        },
    )
}

fn v2_catalogue(mid: &str, base: u64) -> String {
    format!(
        r#"{{"name":"{mid}","machineIdentifier":"{mid}","librarySections":[
        {{"id":{},"key":1,"title":"Movies","type":"movie"}},{{"id":{},"key":2,"title":"TV Shows","type":"show"}}]}}"#,
        base + 1,
        base + 2
    )
}

fn v2_accepted() -> String {
    format!(
        r#"[{{"id":501,"invitedId":42,"machineIdentifier":"{MID_A}","allLibraries":false,"accessToken":"FRIEND-SECRET",
        "libraries":[{{"id":100001,"key":1,"title":"Movies","type":"movie"}}],
        "sharingSettings":{{"allowSync":true,"allowCameraUpload":false,"allowChannels":false,"allowSubtitleAdmin":false,
        "allowTuners":1,"filterMovies":"label=kids","filterMusic":"","filterTelevision":"","filterPhotos":null,"filterAll":null}},
        "invited":{{"id":42,"username":"alice","email":"a@example.com","title":"alice","restricted":false,"home":false}}}},
        {{"id":502,"invitedId":42,"machineIdentifier":"{MID_B}","allLibraries":false,
        "libraries":[{{"id":200002,"key":2,"title":"TV Shows","type":"show"}}],
        "invited":{{"id":42,"username":"alice","email":"a@example.com","title":"alice"}}}}]"#
    )
}

fn v2_routes(h: &Harness) {
    h.route(
        "GET /api/v2/shared_servers/owned/accepted",
        vec![ok_json(&v2_accepted())],
    );
    h.route(
        "GET /api/v2/shared_servers/invites/owned/pending",
        vec![ok_json("[]")],
    );
    h.route(
        &format!("GET /api/v2/servers/{MID_A}"),
        vec![ok_json(&v2_catalogue(MID_A, 100000))],
    );
    h.route(
        &format!("GET /api/v2/servers/{MID_B}"),
        vec![ok_json(&v2_catalogue(MID_B, 200000))],
    );
}

fn legacy_routes(h: &Harness) {
    h.route(
        "GET /api/users",
        vec![ok_xml(&format!(
            r#"<MediaContainer size="1"><User id="42" title="alice" username="alice" email="a@example.com" home="0" restricted="0">
            <Server id="501" machineIdentifier="{MID_A}" owned="1" pending="0" allLibraries="0" numLibraries="1"/>
            <Server id="502" machineIdentifier="{MID_B}" owned="1" pending="0" allLibraries="0" numLibraries="1"/></User></MediaContainer>"#
        ))],
    );
    for (mid, base, share, shared_key) in [(MID_A, 100000u64, 501, 1u64), (MID_B, 200000, 502, 2)] {
        let sections: String = (1..=2u64)
            .map(|k| {
                format!(
                    r#"<Section id="{}" key="{k}" title="L{k}" type="movie" shared="{}"/>"#,
                    base + k,
                    u8::from(k == shared_key)
                )
            })
            .collect();
        h.route(
            &format!("GET /api/servers/{mid}/shared_servers"),
            vec![ok_xml(&format!(
                r#"<MediaContainer size="1"><SharedServer id="{share}" userID="42" username="alice" email="a@example.com" accessToken="FRIEND-SECRET" allLibraries="0">{sections}</SharedServer></MediaContainer>"#
            ))],
        );
        let cat: String = (1..=2u64)
            .map(|k| {
                format!(
                    r#"<Section id="{}" key="{k}" title="L{k}" type="movie"/>"#,
                    base + k
                )
            })
            .collect();
        h.route(
            &format!("GET /api/servers/{mid}"),
            vec![ok_xml(&format!(
                r#"<MediaContainer size="1"><Server name="{mid}" machineIdentifier="{mid}">{cat}</Server></MediaContainer>"#
            ))],
        );
    }
}

fn assert_state(state: &SharingState) {
    let src = &state.source.shares[&AccountId(42)];
    assert_eq!(src.access, Access::Libraries([LibraryId(100001)].into()));
    let dst = &state.dest.shares[&AccountId(42)];
    assert_eq!(dst.access, Access::Libraries([LibraryId(200002)].into()));
    assert_eq!(
        state.accounts[&AccountId(42)].username.as_deref(),
        Some("alice")
    );
    assert!(!format!("{state:?}").contains("FRIEND-SECRET"));
}

#[tokio::test]
async fn v2_read_headers_and_count() {
    let h = Harness::start().await;
    v2_routes(&h);
    let c = h.client(ApiFamily::V2);
    let (a, b) = refs();
    let state = c.read_sharing(&a, &b).await.unwrap();
    assert_state(&state);
    assert_eq!(c.request_count(), 4);
    for s in h.seen() {
        assert_eq!(s.headers["x-plex-token"], "OWNER-TOKEN-123");
        assert_eq!(s.headers["x-plex-client-identifier"], "test-client-id");
        assert_eq!(s.headers["x-plex-product"], "sharesync");
        assert!(s.headers.contains_key("x-plex-version"));
        assert_eq!(s.headers["accept"], "application/json");
        assert!(!s.query.contains("OWNER-TOKEN"));
    }
    assert!(!format!("{c:?}").contains("OWNER-TOKEN"));
}

#[tokio::test]
async fn legacy_read_headers_and_count() {
    let h = Harness::start().await;
    legacy_routes(&h);
    let c = h.client(ApiFamily::Legacy);
    let (a, b) = refs();
    let state = c.read_sharing(&a, &b).await.unwrap();
    assert_state(&state);
    assert_eq!(c.request_count(), 5);
    for s in h.seen() {
        assert_eq!(s.headers["accept"], "application/xml");
        assert_eq!(s.headers["x-plex-token"], "OWNER-TOKEN-123");
    }
}

#[tokio::test]
async fn gone_v2_falls_back_to_legacy_and_stays() {
    let h = Harness::start().await;
    legacy_routes(&h);
    v2_routes(&h);
    h.route(
        "GET /api/v2/shared_servers/owned/accepted",
        vec![status(
            410,
            "application/xml",
            r#"<Response code="410" status="This endpoint was deprecated and removed"/>"#,
        )],
    );
    let c = h.client(ApiFamily::V2);
    let (a, b) = refs();
    let state = c.read_sharing(&a, &b).await.unwrap();
    assert_state(&state);
    assert_eq!(c.family(), ApiFamily::Legacy);
    let before = h.seen().len();
    c.read_server_sharing(&a).await.unwrap();
    assert!(h.seen()[before..]
        .iter()
        .all(|s| !s.path.starts_with("/api/v2")));
}

#[tokio::test]
async fn missing_everywhere_keeps_family_and_first_error() {
    let h = Harness::start().await;
    let c = h.client(ApiFamily::V2);
    let (a, _) = refs();
    let e = c.server(&a).await.unwrap_err();
    assert!(
        matches!(e, PlexError::NotFound(ref m) if m.contains("doesn't exist")),
        "{e:?}"
    );
    assert_eq!(c.family(), ApiFamily::V2);
    assert_eq!(c.request_count(), 2);
}

#[tokio::test]
async fn retries_honour_retry_after_then_succeed() {
    let h = Harness::start().await;
    v2_routes(&h);
    h.route(
        &format!("GET /api/v2/servers/{MID_A}"),
        vec![
            Canned {
                retry_after: Some("0"),
                ..status(429, "application/json", "")
            },
            status(503, "text/html", "<html><h1>down</h1></html>"),
            ok_json("{\"librarySections\": [{\"id\": 1"),
            ok_json(&v2_catalogue(MID_A, 100000)),
        ],
    );
    let c = h.client(ApiFamily::V2);
    let (a, _) = refs();
    let s = c.server(&a).await.unwrap();
    assert_eq!(s.libraries.len(), 2);
    assert_eq!(c.request_count(), 4);
}

#[tokio::test]
async fn typed_errors_without_retries() {
    let h = Harness::start().await;
    let mut o = ClientOptions::new("id");
    o.base_url = Some(h.url.clone());
    o.token = Some(SecretString::from("T"));
    o.read_retries = 0;
    o.timeout = Duration::from_millis(300);
    let c = PlexClient::new(o).unwrap();
    let cases: Vec<(Canned, PlexError)> = vec![
        (
            status(
                401,
                "application/json",
                r#"{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}"#,
            ),
            PlexError::BadToken,
        ),
        (
            Canned {
                retry_after: Some("12"),
                ..status(429, "application/json", "")
            },
            PlexError::RateLimited {
                retry_after: Some(Duration::from_secs(12)),
            },
        ),
        (
            status(429, "", ""),
            PlexError::RateLimited { retry_after: None },
        ),
        (
            status(
                500,
                "application/json",
                r#"{"errors":[{"code":500,"message":"boom","status":500}]}"#,
            ),
            PlexError::Server {
                status: 500,
                message: "boom".into(),
            },
        ),
        (
            ok_json("<html>"),
            PlexError::Malformed {
                endpoint: "GET /api/v2/user".into(),
                reason: String::new(),
            },
        ),
        (
            Canned {
                delay: Duration::from_secs(2),
                ..ok_json("{}")
            },
            PlexError::Timeout,
        ),
    ];
    for (canned, want) in cases {
        h.route("GET /api/v2/user", vec![canned]);
        let got = c.whoami().await.unwrap_err();
        match (&got, &want) {
            (PlexError::Malformed { endpoint, .. }, PlexError::Malformed { endpoint: w, .. }) => {
                assert_eq!(endpoint, w)
            }
            _ => assert_eq!(got, want),
        }
    }
}

#[tokio::test]
async fn sign_in_errors() {
    let h = Harness::start().await;
    let c = h.client(ApiFamily::V2);
    let pw = SecretString::from("hunter2");
    for (body, want) in [
        (
            r#"{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}"#,
            PlexError::BadCredentials,
        ),
        (
            r#"{"errors":[{"code":1029,"message":"Please enter the verification code","status":401}]}"#,
            PlexError::TwoFactorRequired,
        ),
        (
            r#"{"errors":[{"code":1031,"message":"User could not be authenticated. This IP appears to be having trouble","status":401}]}"#,
            PlexError::IpLocked,
        ),
    ] {
        h.route(
            "POST /api/v2/users/signin",
            vec![status(401, "application/json", body)],
        );
        assert_eq!(c.sign_in("alice", &pw, None).await.unwrap_err(), want);
    }
    h.route(
        "POST /api/v2/users/signin",
        vec![status(
            201,
            "application/json",
            r#"{"id":1,"username":"alice","authToken":"NEW-TOKEN"}"#,
        )],
    );
    let tok = c.sign_in("alice", &pw, Some("123456")).await.unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&tok), "NEW-TOKEN");
    let last = h.seen().pop().unwrap();
    assert!(last.body.contains("verificationCode=123456"));
    assert!(!last.headers.contains_key("x-plex-token"));
}

#[tokio::test]
async fn incomplete_catalogue_is_reread_then_reported() {
    let h = Harness::start().await;
    v2_routes(&h);
    h.route(
        &format!("GET /api/v2/servers/{MID_A}"),
        vec![ok_json(r#"{"name":"a","librarySections":[]}"#)],
    );
    let mut o = ClientOptions::new("id");
    o.base_url = Some(h.url.clone());
    o.token = Some(SecretString::from("T"));
    o.read_retries = 1;
    let c = PlexClient::new(o).unwrap();
    let (a, b) = refs();
    let e = c.read_sharing(&a, &b).await.unwrap_err();
    assert!(matches!(e, PlexError::Incomplete(_)), "{e:?}");
    assert_eq!(c.request_count(), 8);
    // A transient empty answer is healed by the re-read.
    h.route(
        &format!("GET /api/v2/servers/{MID_A}"),
        vec![
            ok_json(r#"{"name":"a","librarySections":[]}"#),
            ok_json(&v2_catalogue(MID_A, 100000)),
        ],
    );
    assert_state(&c.read_sharing(&a, &b).await.unwrap());
}

#[tokio::test]
async fn writes_refuse_empty_and_send_settings_back() {
    let h = Harness::start().await;
    v2_routes(&h);
    h.route("POST /api/v2/shared_servers/501", vec![ok_json("{}")]);
    h.route(
        "POST /api/v2/shared_servers",
        vec![status(
            201,
            "application/json",
            r#"{"id":777,"invitedId":43,"inviteToken":"X"}"#,
        )],
    );
    let c = h.client(ApiFamily::V2);
    let (a, b) = refs();
    let state = c.read_sharing(&a, &b).await.unwrap();
    let share = state.source.shares[&AccountId(42)].clone();
    let before = c.request_count();
    let empty = BTreeSet::new();
    assert!(matches!(
        c.update_share(&a.machine_id, &share, &empty).await,
        Err(PlexError::Rejected { status: 0, .. })
    ));
    let acct = state.accounts[&AccountId(42)].clone();
    assert!(matches!(
        c.create_share(&b.machine_id, &acct, &empty, &SharingSettings::default())
            .await,
        Err(PlexError::Rejected { status: 0, .. })
    ));
    let mut all = share.clone();
    all.access = Access::All;
    assert!(c
        .update_share(&a.machine_id, &all, &[LibraryId(100001)].into())
        .await
        .is_err());
    assert_eq!(c.request_count(), before);

    let want: BTreeSet<_> = [LibraryId(100001), LibraryId(100002)].into();
    c.update_share(&a.machine_id, &share, &want).await.unwrap();
    let sent = h.seen().pop().unwrap();
    assert_eq!(sent.method, "POST");
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(
        body["librarySectionIds"],
        serde_json::json!([100001, 100002])
    );
    assert_eq!(body["settings"]["filterMovies"], "label=kids");
    assert_eq!(body["settings"]["allowTuners"], 1);
    assert_eq!(body["settings"]["allowSync"], true);
    assert!(body["settings"]["filterPhotos"].is_null());

    // A new share carries the restrictions it is given, every field.
    let restrictions = share.settings.clone().expect("read");
    let id = c
        .create_share(&b.machine_id, &acct, &want, &restrictions)
        .await
        .unwrap();
    assert_eq!(id, ShareId(777));
    let sent = h.seen().pop().unwrap();
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["settings"]["filterMovies"], "label=kids");
    assert_eq!(body["settings"]["allowTuners"], 1);
    assert_eq!(body["settings"]["allowSync"], true);
    assert_eq!(body["invitedId"], 42);
    assert_eq!(body["skipFriendship"], true);
    assert_eq!(body["machineIdentifier"], MID_B);
}

#[tokio::test]
async fn legacy_writes() {
    let h = Harness::start().await;
    h.route(
        &format!("PUT /api/servers/{MID_A}/shared_servers/501"),
        vec![ok_xml("")],
    );
    h.route(
        &format!("POST /api/servers/{MID_B}/shared_servers"),
        vec![ok_xml(r#"<MediaContainer size="1"><SharedServer id="888" userID="42" accessToken="S"/></MediaContainer>"#)],
    );
    h.route(
        &format!("DELETE /api/servers/{MID_B}/shared_servers/888"),
        vec![ok_xml("")],
    );
    let c = h.client(ApiFamily::Legacy);
    let (a, b) = refs();
    let share = Share {
        id: ShareId(501),
        account: AccountId(42),
        state: ShareState::Accepted,
        access: Access::Libraries([LibraryId(100001)].into()),
        settings: Some(SharingSettings::default()),
    };
    let want: BTreeSet<_> = [LibraryId(100001), LibraryId(100002)].into();
    c.update_share(&a.machine_id, &share, &want).await.unwrap();
    let sent = h.seen().pop().unwrap();
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(
        body["shared_server"]["library_section_ids"],
        serde_json::json!([100001, 100002])
    );
    assert_eq!(body["server_id"], MID_A);
    assert_eq!(sent.headers["content-type"], "application/json");
    let acct = Account {
        id: AccountId(42),
        username: None,
        email: None,
        title: "kid".into(),
        kind: AccountKind::Managed,
    };
    let restrictions = SharingSettings {
        allow_sync: true,
        allow_tuners: 2,
        filter_movies: Some("contentRating=G%2CPG".into()),
        filter_television: None,
        ..SharingSettings::default()
    };
    let id = c
        .create_share(&b.machine_id, &acct, &want, &restrictions)
        .await
        .unwrap();
    assert_eq!(id, ShareId(888));
    let body: serde_json::Value = serde_json::from_str(&h.seen().pop().unwrap().body).unwrap();
    assert_eq!(body["shared_server"]["invited_id"], 42);
    // Flags as "0"/"1", filters as strings, and only the six keys the legacy create reads.
    let ss = &body["sharing_settings"];
    assert_eq!(ss["allowSync"], "1");
    assert_eq!(ss["allowCameraUpload"], "0");
    assert_eq!(ss["filterMovies"], "contentRating=G%2CPG");
    assert_eq!(ss["filterTelevision"], "");
    let mut keys: Vec<&str> = ss.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "allowCameraUpload",
            "allowChannels",
            "allowSync",
            "filterMovies",
            "filterMusic",
            "filterTelevision"
        ]
    );
    // A photo filter it cannot carry: refused, nothing sent.
    let sent_before = c.request_count();
    let photo = SharingSettings {
        filter_photos: Some("label!=Private".into()),
        ..restrictions.clone()
    };
    let e = c
        .create_share(&b.machine_id, &acct, &want, &photo)
        .await
        .unwrap_err();
    assert_eq!(e, PlexError::RestrictionsNotCarried("photo"));
    assert_eq!(c.request_count(), sent_before);
    c.delete_share(&b.machine_id, id).await.unwrap();
    // Writes are not retried.
    h.route(
        &format!("PUT /api/servers/{MID_A}/shared_servers/501"),
        vec![status(503, "", "")],
    );
    let before = c.request_count();
    assert!(c.update_share(&a.machine_id, &share, &want).await.is_err());
    assert_eq!(c.request_count(), before + 1);
}

#[tokio::test]
async fn share_naming_an_unknown_library_is_incomplete() {
    let h = Harness::start().await;
    v2_routes(&h);
    // The catalogue lost library 100001 while alice's share still names it.
    h.route(
        &format!("GET /api/v2/servers/{MID_A}"),
        vec![ok_json(&format!(
            r#"{{"name":"a","machineIdentifier":"{MID_A}","librarySections":[{{"id":100002,"key":2,"title":"TV Shows","type":"show"}}]}}"#
        ))],
    );
    let mut o = ClientOptions::new("id");
    o.base_url = Some(h.url.clone());
    o.token = Some(SecretString::from("T"));
    o.read_retries = 2;
    let c = PlexClient::new(o).unwrap();
    let (a, b) = refs();
    let e = c.read_sharing(&a, &b).await.unwrap_err();
    assert!(
        matches!(&e, PlexError::Incomplete(m) if m.contains("100001")),
        "{e:?}"
    );
    assert_eq!(c.request_count(), 3 * 4);
    let e = c.read_server_sharing(&a).await.unwrap_err();
    assert!(matches!(e, PlexError::Incomplete(_)), "{e:?}");
}

/// A v2 share whose `numLibraries` disagrees with its `libraries` (cut short), or that does not
/// say whether it has all libraries, is read again and then refused: it never becomes the base
/// of a union write. A consistent re-read heals it.
#[tokio::test]
async fn inconsistent_v2_share_is_reread_then_refused() {
    let cut_short = v2_accepted().replacen(
        r#""allLibraries":false,"accessToken""#,
        r#""allLibraries":false,"numLibraries":2,"accessToken""#,
        1,
    );
    let unsaid = v2_accepted().replacen(
        r#""allLibraries":false,"accessToken""#,
        r#""accessToken""#,
        1,
    );
    for (body, words) in [
        (cut_short, "counts 2 libraries but lists 1"),
        (unsaid, "does not say"),
    ] {
        let h = Harness::start().await;
        v2_routes(&h);
        h.route(
            "GET /api/v2/shared_servers/owned/accepted",
            vec![ok_json(&body)],
        );
        let c = h.client_with(|o| o.read_retries = 2);
        let (a, b) = refs();
        let e = c.read_sharing(&a, &b).await.unwrap_err();
        assert!(
            matches!(&e, PlexError::Incomplete(m) if m.contains(words) && m.contains("501")),
            "{e:?}"
        );
        assert_eq!(c.request_count(), 3 * 4, "read three times");
        h.route(
            "GET /api/v2/shared_servers/owned/accepted",
            vec![ok_json(&body), ok_json(&v2_accepted())],
        );
        assert_state(&c.read_sharing(&a, &b).await.unwrap());
    }
}

/// A redirect to another host (here: another port) is not followed, so the token never
/// reaches it; the read fails with a clear reason.
#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed_with_the_token() {
    let (h, elsewhere) = (Harness::start().await, Harness::start().await);
    v2_routes(&h);
    v2_routes(&elsewhere);
    h.route(
        "GET /api/v2/shared_servers/owned/accepted",
        vec![Canned {
            location: Some(format!(
                "{}/api/v2/shared_servers/owned/accepted",
                elsewhere.url
            )),
            ..status(302, "text/html", "moved")
        }],
    );
    let c = h.client(ApiFamily::V2);
    let (a, b) = refs();
    let e = c.read_sharing(&a, &b).await.unwrap_err();
    assert!(
        e.to_string().contains("refusing to follow a redirect"),
        "{e}"
    );
    assert!(
        elsewhere.seen().is_empty(),
        "nothing reached the other host"
    );
}

/// An answer larger than the cap is refused, not read into memory.
#[tokio::test]
async fn an_answer_past_the_cap_is_refused() {
    let h = Harness::start().await;
    v2_routes(&h);
    let c = h.client_with(|o| o.max_body_bytes = 300);
    let (a, b) = refs();
    let e = c.read_sharing(&a, &b).await.unwrap_err();
    assert!(
        matches!(&e, PlexError::Rejected { message, .. } if message.contains("larger than 300 bytes")),
        "{e:?}"
    );
}

/// Recorded public `shared_servers` payloads carry no `allLibraries`: the flag comes from
/// `/api/users`' `Server@allLibraries` (here "all", so the share is not read as its one
/// shared section). When neither says, the read is refused.
#[tokio::test]
async fn legacy_share_without_all_libraries_takes_it_from_api_users() {
    let h = Harness::start().await;
    legacy_routes(&h);
    let users = |all: &str| {
        format!(
            r#"<MediaContainer size="1"><User id="42" title="alice" username="alice" email="a@example.com" home="0" restricted="0">
            <Server id="501" machineIdentifier="{MID_A}" owned="1" pending="0" allLibraries="0" numLibraries="1"/>
            <Server id="502" machineIdentifier="{MID_B}" owned="1" pending="0" {all} numLibraries="2"/></User></MediaContainer>"#
        )
    };
    h.route(
        "GET /api/users",
        vec![ok_xml(&users(r#"allLibraries="1""#))],
    );
    h.route(
        &format!("GET /api/servers/{MID_B}/shared_servers"),
        vec![ok_xml(
            r#"<MediaContainer size="1"><SharedServer id="502" userID="42" username="alice" email="a@example.com"><Section id="200001" key="1" title="L1" type="movie" shared="0"/><Section id="200002" key="2" title="L2" type="movie" shared="1"/></SharedServer></MediaContainer>"#,
        )],
    );
    let c = h.client(ApiFamily::Legacy);
    let (a, b) = refs();
    let state = c.read_sharing(&a, &b).await.unwrap();
    assert_eq!(state.dest.shares[&AccountId(42)].access, Access::All);

    h.route("GET /api/users", vec![ok_xml(&users(""))]);
    let e = c.read_sharing(&a, &b).await.unwrap_err();
    assert!(
        matches!(&e, PlexError::Incomplete(m) if m.contains("502") && m.contains("does not say")),
        "{e:?}"
    );
}

/// Legacy `/api/resources` listing no owned server (reported to leave them out) is checked
/// against v2 instead of reading as "you own no servers".
#[tokio::test]
async fn empty_legacy_server_list_falls_back_to_v2() {
    let h = Harness::start().await;
    h.route(
        "GET /api/resources",
        vec![ok_xml(r#"<MediaContainer size="0"></MediaContainer>"#)],
    );
    h.route(
        "GET /api/v2/resources",
        vec![ok_json(&format!(
            r#"[{{"name":"doodoo","product":"Plex Media Server","provides":"server","owned":true,"clientIdentifier":"{MID_B}"}}]"#
        ))],
    );
    let c = h.client(ApiFamily::Legacy);
    let servers = c.owned_servers().await.unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].machine_id.0, MID_B);
    assert!(h.seen().iter().any(|s| s.path == "/api/v2/resources"));
}
