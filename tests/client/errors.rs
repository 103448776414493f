//! Error shapes: every failure plex.tv answers with is typed, retried or fallen back from.

use super::*;

#[tokio::test]
async fn bad_token_is_bad_token_in_both_families() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let mut o = options(&sb, family);
        o.token = Some(SecretString::from("not-a-real-token"));
        let c = PlexClient::new(o).unwrap();
        assert_eq!(c.whoami().await.unwrap_err(), PlexError::BadToken);
        assert_eq!(
            c.read_sharing(&a, &b).await.unwrap_err(),
            PlexError::BadToken
        );
        assert_eq!(c.owned_servers().await.unwrap_err(), PlexError::BadToken);
        // Not retried, no family switch.
        assert_eq!(c.family(), family);
        let n = c.request_count();
        assert_eq!(c.server(&a).await.unwrap_err(), PlexError::BadToken);
        assert_eq!(
            c.request_count(),
            n + 1,
            "{family:?}: BadToken must not be retried"
        );
        // No token at all: refused without a request.
        let mut o = options(&sb, family);
        o.token = None;
        let c = PlexClient::new(o).unwrap();
        assert_eq!(
            c.read_sharing(&a, &b).await.unwrap_err(),
            PlexError::BadToken
        );
    }
}

#[tokio::test]
async fn sign_in_two_factor_and_ip_lock() {
    let scenario = Scenario::builder()
        .owner("owner")
        .owner_password("correct horse", Some("123456"))
        .server("noodle", &[("Movies", "movie")])
        .build();
    let sb = Sandbox::start(scenario).await.unwrap();
    let mut o = options(&sb, ApiFamily::V2);
    o.token = None;
    let anon = PlexClient::new(o).unwrap();
    let good = SecretString::from("correct horse");
    let bad = SecretString::from("wrong");
    assert_eq!(
        anon.sign_in("owner", &good, None).await.unwrap_err(),
        PlexError::TwoFactorRequired
    );
    let token = anon.sign_in("owner", &good, Some("123456")).await.unwrap();
    let me = anon.with_token(token.clone()).whoami().await.unwrap();
    assert_eq!(me.username, "owner");
    assert!(!format!("{me:?}").contains(token.expose_secret()));
    assert_eq!(
        anon.sign_in("owner", &bad, Some("123456"))
            .await
            .unwrap_err(),
        PlexError::BadCredentials
    );
    let n = anon.request_count();
    sb.with_world(|w| w.signin_failures = 5);
    assert_eq!(
        anon.sign_in("owner", &good, Some("123456"))
            .await
            .unwrap_err(),
        PlexError::IpLocked
    );
    assert_eq!(anon.request_count(), n + 1, "sign-in is never retried");
    for r in sb.requests() {
        assert!(!r.query.contains("correct"), "password in a URL");
    }
}

#[tokio::test]
async fn pin_login() {
    let sb = Sandbox::start(small()).await.unwrap();
    let mut o = options(&sb, ApiFamily::V2);
    o.token = None;
    let anon = PlexClient::new(o).unwrap();
    let pin = anon.create_pin().await.unwrap();
    assert_eq!(pin.code.chars().count(), 4);
    assert_eq!(pin.link_url, "https://plex.tv/link");
    assert!(pin.expires_in > Duration::from_secs(60));
    assert!(anon.check_pin(pin.id).await.unwrap().is_none());
    sb.approve_pin(pin.id);
    let token = anon.check_pin(pin.id).await.unwrap().expect("approved");
    let me = anon.with_token(token).whoami().await.unwrap();
    assert_eq!(me.id.0, sb.world().owner.id);
    assert!(matches!(
        anon.check_pin(999).await.unwrap_err(),
        PlexError::NotFound(_)
    ));
    assert_eq!(
        anon.family(),
        ApiFamily::V2,
        "an expired PIN is no reason to switch"
    );
}

#[tokio::test]
async fn not_found_in_both_families_is_not_found() {
    let sb = Sandbox::start(small()).await.unwrap();
    let nowhere = ServerRef {
        name: "nowhere".into(),
        machine_id: MachineId("0".repeat(40)),
    };
    for family in FAMILIES {
        let c = client(&sb, family);
        let e = c.server(&nowhere).await.unwrap_err();
        assert!(matches!(e, PlexError::NotFound(_)), "{family:?}: {e:?}");
        assert_eq!(c.family(), family, "a real 404 must not switch families");
        let (a, _) = pair(&sb);
        let e = c.read_sharing(&a, &nowhere).await.unwrap_err();
        assert!(matches!(e, PlexError::NotFound(_)), "{family:?}: {e:?}");
        assert_eq!(c.family(), family);
    }
}

#[tokio::test]
async fn family_falls_back_on_gone_and_not_found() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    let cases = [
        (ApiFamily::V2, "/shared_servers/owned/accepted", 410u16),
        (ApiFamily::V2, "/shared_servers/invites/owned/pending", 404),
        (ApiFamily::Legacy, "/api/users", 410),
        (ApiFamily::Legacy, "/shared_servers", 404),
    ];
    for (family, path, status) in cases {
        let c = client(&sb, family);
        sb.clear_faults();
        sb.inject(Fault::new(
            FaultTarget::PathContains(path.into()),
            FaultKind::ServerError(status),
            1,
        ));
        let state = c.read_sharing(&a, &b).await.unwrap();
        assert_state_matches_world(&sb, &state, family.other());
        assert_eq!(c.family(), family.other(), "{family:?} {path} {status}");
        // Later calls use the new family, and clones share it.
        sb.clear_requests();
        c.clone().read_server_sharing(&b).await.unwrap();
        let v2 = family.other() == ApiFamily::V2;
        assert!(sb
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v2/") == v2));
    }
    // Gone everywhere: the first family's EndpointGone, and no switch.
    let c = impatient(&sb, ApiFamily::V2);
    sb.clear_faults();
    sb.inject(Fault::new(
        FaultTarget::PathContains("/servers/".into()),
        FaultKind::ServerError(410),
        2,
    ));
    let e = c.server(&a).await.unwrap_err();
    assert!(matches!(e, PlexError::EndpointGone(_)), "{e:?}");
    assert_eq!(c.family(), ApiFamily::V2);
}

#[tokio::test]
async fn rate_limits_surface_with_and_without_retry_after() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = impatient(&sb, family);
        sb.inject(Fault::once(FaultKind::RateLimit {
            retry_after_secs: Some(7),
        }));
        assert_eq!(
            c.read_sharing(&a, &b).await.unwrap_err(),
            PlexError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            },
            "{family:?}"
        );
        sb.inject(Fault::once(FaultKind::RateLimit {
            retry_after_secs: None,
        }));
        assert_eq!(
            c.server(&a).await.unwrap_err(),
            PlexError::RateLimited { retry_after: None },
            "{family:?}"
        );
        // With retries, a 429 that says "come back in 0 s" is absorbed.
        let c = client(&sb, family);
        sb.inject(Fault::new(
            FaultTarget::Reads,
            FaultKind::RateLimit {
                retry_after_secs: Some(0),
            },
            2,
        ));
        let state = c.read_sharing(&a, &b).await.unwrap();
        assert_state_matches_world(&sb, &state, family);
        assert_eq!(c.family(), family);
        assert!(sb.pending_faults().is_empty());
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_typed() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = impatient(&sb, family);
        for status in [500u16, 503] {
            sb.inject(Fault::once(FaultKind::ServerError(status)));
            let e = c.read_sharing(&a, &b).await.unwrap_err();
            assert!(
                matches!(e, PlexError::Server { status: s, .. } if s == status),
                "{family:?}: {e:?}"
            );
        }
        sb.inject(Fault::once(FaultKind::ServerError(502)));
        let e = c.server(&a).await.unwrap_err();
        assert!(
            matches!(&e, PlexError::Server { status: 502, message } if message.contains("Bad Gateway")),
            "{e:?}"
        );
        // A plain 4xx is Rejected with plex.tv's own words.
        sb.inject(Fault::once(FaultKind::ServerError(418)));
        let e = c.server(&a).await.unwrap_err();
        assert!(
            matches!(e, PlexError::Rejected { status: 418, .. }),
            "{e:?}"
        );

        // With retries, three 503s cost three extra requests and nothing else.
        let c = client(&sb, family);
        sb.inject(Fault::new(
            FaultTarget::Reads,
            FaultKind::ServerError(503),
            3,
        ));
        let state = c.read_sharing(&a, &b).await.unwrap();
        assert_state_matches_world(&sb, &state, family);
        let per_read = match family {
            ApiFamily::V2 => 4,
            ApiFamily::Legacy => 5,
        };
        assert_eq!(c.request_count(), per_read + 3, "{family:?}");
    }
}

#[tokio::test]
async fn malformed_and_truncated_bodies() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let share_list = match family {
            ApiFamily::V2 => "/shared_servers/owned/accepted",
            ApiFamily::Legacy => "/api/users",
        };
        for kind in [FaultKind::MalformedBody, FaultKind::TruncatedBody] {
            let c = impatient(&sb, family);
            sb.inject(Fault::new(
                FaultTarget::PathContains(share_list.into()),
                kind.clone(),
                1,
            ));
            let e = c.read_sharing(&a, &b).await.unwrap_err();
            assert!(
                matches!(e, PlexError::Malformed { .. }),
                "{family:?} {kind:?}: {e:?}"
            );
            assert!(e.is_transient());
            // Catalogues too.
            sb.inject(Fault::new(
                FaultTarget::PathContains("/servers/".into()),
                kind.clone(),
                1,
            ));
            let e = c.server(&a).await.unwrap_err();
            assert!(
                matches!(e, PlexError::Malformed { .. }),
                "{family:?} {kind:?}: {e:?}"
            );
            // Re-read: healed.
            let c = client(&sb, family);
            sb.inject(Fault::new(
                FaultTarget::PathContains(share_list.into()),
                kind.clone(),
                2,
            ));
            let state = c.read_sharing(&a, &b).await.unwrap();
            assert_state_matches_world(&sb, &state, family);
            // Persistently broken: re-read read_retries times, then Malformed.
            sb.inject(Fault::new(
                FaultTarget::PathContains(share_list.into()),
                kind.clone(),
                100,
            ));
            let e = c.read_sharing(&a, &b).await.unwrap_err();
            assert!(
                matches!(e, PlexError::Malformed { .. }),
                "{family:?} {kind:?}: {e:?}"
            );
            let used = 100 - sb.pending_faults()[0].times;
            assert_eq!(used, 4, "{family:?} {kind:?}: 1 read + 3 re-reads");
            sb.clear_faults();
        }
    }
}

#[tokio::test]
async fn empty_catalogue_is_reread_then_incomplete() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let per_read = match family {
            ApiFamily::V2 => 4,
            ApiFamily::Legacy => 5,
        };
        // Transient: one empty answer, healed by one re-read of the whole picture.
        let c = client(&sb, family);
        sb.inject(Fault::new(FaultTarget::Any, FaultKind::EmptyCatalogue, 1));
        let state = c.read_sharing(&a, &b).await.unwrap();
        assert_state_matches_world(&sb, &state, family);
        assert_eq!(c.request_count(), 2 * per_read, "{family:?}");
        // Persistent: read_retries re-reads, then Incomplete (never a plan from it).
        let c = client(&sb, family);
        sb.inject(Fault::new(
            FaultTarget::Any,
            FaultKind::EmptyCatalogue,
            1000,
        ));
        let e = c.read_sharing(&a, &b).await.unwrap_err();
        assert!(matches!(e, PlexError::Incomplete(_)), "{family:?}: {e:?}");
        assert_eq!(c.request_count(), 4 * per_read, "{family:?}");
        let e = c.read_server_sharing(&b).await.unwrap_err();
        assert!(matches!(e, PlexError::Incomplete(_)), "{family:?}: {e:?}");
        sb.clear_faults();
        assert_eq!(c.family(), family);
    }
}

#[tokio::test]
async fn timeouts_and_dropped_connections() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let mut o = options(&sb, family);
        o.read_retries = 0;
        o.timeout = Duration::from_millis(300);
        let c = PlexClient::new(o.clone()).unwrap();
        sb.inject(Fault::once(FaultKind::Delay(Duration::from_secs(3))));
        assert_eq!(
            c.server(&a).await.unwrap_err(),
            PlexError::Timeout,
            "{family:?}"
        );
        sb.inject(Fault::once(FaultKind::DropConnection));
        let e = c.server(&a).await.unwrap_err();
        assert!(matches!(e, PlexError::Connection(_)), "{family:?}: {e:?}");
        // With retries both are absorbed.
        o.read_retries = 3;
        let c = PlexClient::new(o).unwrap();
        sb.inject(Fault::once(FaultKind::Delay(Duration::from_secs(3))));
        sb.inject(Fault::once(FaultKind::DropConnection));
        let state = c.read_sharing(&a, &b).await.unwrap();
        assert_state_matches_world(&sb, &state, family);
    }
}
