//! Reads: headers, request counts, family fallback, retries, typed errors and refused answers.

use super::*;

#[tokio::test]
async fn v2_read_headers_and_count() {
    let (c, seen) = read_sharing_through(ApiFamily::V2, v2_routes, 4).await;
    for s in seen {
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
    let (_, seen) = read_sharing_through(ApiFamily::Legacy, legacy_routes, 5).await;
    for s in seen {
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
