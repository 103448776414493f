//! Injected faults (rate limits, server errors, bad bodies, delays, dropped connections), the
//! request log, and edits of the world while serving.

use super::*;

#[tokio::test]
async fn faults_rate_limit_and_server_errors() {
    let sb = demo().await;
    let t = sb.owner_token();
    sb.inject(Fault::new(
        FaultTarget::Any,
        FaultKind::RateLimit {
            retry_after_secs: Some(7),
        },
        2,
    ));
    for _ in 0..2 {
        let r = call("GET", "/api/users").token(&t).send(&sb).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after.as_deref(), Some("7"));
        assert!(r.body.is_empty());
    }
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    assert!(sb.pending_faults().is_empty());

    sb.inject(Fault::once(FaultKind::RateLimit {
        retry_after_secs: None,
    }));
    let r = json_call("GET", "/api/v2/user", &t).send(&sb).await;
    assert_eq!(r.status, 429);
    assert!(r.retry_after.is_none());
    assert_eq!(r.json()["errors"][0]["status"], 429);

    // Targets: a write fault leaves reads alone; a path fault only hits its path.
    sb.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::ServerError(503),
        1,
    ));
    sb.inject(Fault::new(
        FaultTarget::PathContains("/owned/accepted".into()),
        FaultKind::ServerError(500),
        1,
    ));
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 500);
    assert!(r.content_type.starts_with("text/plain"));
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .json(json!({"machineIdentifier": doodoo, "invitedId": account(&w, "heidi"), "librarySectionIds": []}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 503);
    assert!(r.content_type.starts_with("text/html") && r.body.contains("nginx"));
    assert!(
        sb.world()
            .share_for(&doodoo, account(&w, "heidi"))
            .is_none(),
        "a 5xx fault changes nothing"
    );
    sb.inject(Fault::new(
        FaultTarget::Reads,
        FaultKind::ServerError(502),
        1,
    ));
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        502
    );
}

#[tokio::test]
async fn faults_bodies_catalogue_delay_and_drop() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let noodle = mid(&w, "noodle");

    // Malformed: 200 and unparsable, in JSON and XML.
    sb.inject(Fault::new(FaultTarget::Any, FaultKind::MalformedBody, 2));
    let r = json_call("GET", "/api/v2/shared_servers/owned/accepted", &t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    let r = call("GET", "/api/users").token(&t).send(&sb).await;
    assert_eq!(r.status, 200);
    assert!(!xml_ok(&r.body, "MediaContainer"));

    // Truncated: half the list, no closing.
    sb.inject(Fault::new(FaultTarget::Reads, FaultKind::TruncatedBody, 2));
    let r = json_call("GET", "/api/v2/shared_servers/owned/accepted", &t)
        .send(&sb)
        .await;
    assert!(r.body.starts_with('[') && !r.body.ends_with(']'));
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    let r = call("GET", format!("/api/servers/{noodle}/shared_servers"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("<?xml") && !r.body.contains("</MediaContainer>"));
    let n = w.shares_on(&noodle).count();
    assert_eq!(r.body.matches("<SharedServer ").count(), n / 2);
    assert!(r.body.contains(&format!(r#"size="{n}""#)));

    // Empty catalogue: only catalogue requests take it.
    sb.inject(Fault::new(FaultTarget::Any, FaultKind::EmptyCatalogue, 2));
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    assert_eq!(sb.pending_faults().len(), 1);
    let r = call("GET", format!("/api/servers/{noodle}"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Server ") && !r.body.contains("<Section "));
    let r = json_call("GET", format!("/api/v2/servers/{noodle}"), &t)
        .send(&sb)
        .await;
    assert_eq!(r.json()["librarySections"], json!([]));
    assert!(sb.pending_faults().is_empty());
    let r = json_call("GET", format!("/api/v2/servers/{noodle}"), &t)
        .send(&sb)
        .await;
    assert_eq!(r.json()["librarySections"].as_array().unwrap().len(), 7);

    // Delay: the client times out; a write still lands.
    sb.inject(Fault::once(FaultKind::Delay(Duration::from_millis(400))));
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let heidi = account(&w, "heidi");
    let err = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .json(json!({"machineIdentifier": noodle, "invitedId": heidi, "librarySectionIds": []}))
        .try_send(&sb, &impatient)
        .await
        .err()
        .expect("timed out");
    assert!(err.is_timeout(), "{err}");
    assert!(sb.world().share_for(&noodle, heidi).is_some());
    // Delayed but in time.
    sb.inject(Fault::once(FaultKind::Delay(Duration::from_millis(50))));
    let start = Instant::now();
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    assert!(start.elapsed() >= Duration::from_millis(50));

    // Dropped connection: no HTTP response at all; recorded with status 0; nothing changes.
    sb.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::DropConnection,
        1,
    ));
    let grandpa = account(&w, "Grandpa");
    let err = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .json(json!({"machineIdentifier": noodle, "invitedId": grandpa, "librarySectionIds": []}))
        .try_send(&sb, &http())
        .await
        .err()
        .expect("dropped");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert!(sb.world().share_for(&noodle, grandpa).is_none());
    assert_eq!(sb.requests().last().unwrap().status, 0);
    // The server is fine afterwards.
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
}

#[tokio::test]
async fn request_log_and_latency() {
    let sb = demo().await;
    let t = sb.owner_token();
    sb.clear_requests();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let share = share_id(&w, "doodoo", "alice");
    let tv = w.section_id("doodoo", "TV SHOWS").unwrap();
    call("GET", "/api/users?includeHttps=1")
        .token(&t)
        .send(&sb)
        .await;
    call(
        "PUT",
        format!("/api/servers/{doodoo}/shared_servers/{share}"),
    )
    .token(&t)
    .json(json!({"server_id": doodoo, "shared_server": {"library_section_ids": [tv]}}))
    .send(&sb)
    .await;
    call("GET", "/api/v2/user").send(&sb).await;
    let log = sb.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(
        (
            log[0].method.as_str(),
            log[0].path.as_str(),
            log[0].query.as_str()
        ),
        ("GET", "/api/users", "includeHttps=1")
    );
    assert_eq!(log[0].query_param("includeHttps").as_deref(), Some("1"));
    assert_eq!(log[0].header("X-Plex-Token"), Some(t.as_str()));
    assert_eq!(
        log[0]
            .headers
            .get("x-plex-client-identifier")
            .map(String::as_str),
        Some(CID)
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].method, "PUT");
    assert_eq!(
        log[1].json().unwrap()["shared_server"]["library_section_ids"],
        json!([tv])
    );
    assert_eq!(log[2].status, 401);
    sb.clear_requests();
    assert!(sb.requests().is_empty());

    sb.set_latency(Duration::from_millis(30));
    let start = Instant::now();
    call("GET", "/api/nothing").send(&sb).await;
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[tokio::test]
async fn with_world_edits_are_served_and_shutdown_stops() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let alice = account(&w, "alice");
    let home = w.section_id("doodoo", "Home Videos").unwrap();
    // Another admin adds a library to alice's share behind the client's back.
    sb.with_world(|w| {
        let id = w.share_for(&doodoo, alice).unwrap().id;
        w.shares.get_mut(&id).unwrap().section_ids.insert(home);
    });
    let share = share_id(&w, "doodoo", "alice");
    let r = call(
        "GET",
        format!("/api/servers/{doodoo}/shared_servers/{share}"),
    )
    .token(&t)
    .send(&sb)
    .await;
    assert_eq!(r.body.matches(r#"shared="1""#).count(), 2);
    let url = sb.url();
    sb.shutdown().await;
    assert!(http().get(format!("{url}/api/users")).send().await.is_err());
}
