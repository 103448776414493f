//! Loopback tests of the client against a tiny scripted HTTP stub (canned bodies in the shapes
//! plex.tv answers with). The full simulated plex.tv is exercised in `tests/client.rs`.

mod reads;
mod writes;

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

/// Read both servers through `family` on a stub set up by `routes`: the expected state, in
/// `requests` requests. Returns the client and what the stub saw.
async fn read_sharing_through(
    family: ApiFamily,
    routes: fn(&Harness),
    requests: u64,
) -> (PlexClient, Vec<Seen>) {
    let h = Harness::start().await;
    routes(&h);
    let c = h.client(family);
    let (a, b) = refs();
    assert_state(&c.read_sharing(&a, &b).await.unwrap());
    assert_eq!(c.request_count(), requests);
    (c, h.seen())
}
