//! The plex.tv client against the simulated plex.tv, over real HTTP on loopback, in both API
//! families: request counts, global ids, every error shape, retries, family fallback, headers,
//! write bodies and secrets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sharesync::model::*;
use sharesync::plex::{ApiFamily, ClientOptions, PlexClient, PlexError};
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario, World};

const FAMILIES: [ApiFamily; 2] = [ApiFamily::V2, ApiFamily::Legacy];
const CLIENT_ID: &str = "client-test-0001";

fn options(sb: &Sandbox, family: ApiFamily) -> ClientOptions {
    let mut o = ClientOptions::new(CLIENT_ID);
    o.base_url = Some(sb.url());
    o.family = family;
    o.token = Some(SecretString::from(sb.owner_token()));
    o.timeout = Duration::from_secs(10);
    o
}

fn client(sb: &Sandbox, family: ApiFamily) -> PlexClient {
    PlexClient::new(options(sb, family)).unwrap()
}

/// A client that gives up at once, so each fault surfaces as its typed error.
fn impatient(sb: &Sandbox, family: ApiFamily) -> PlexClient {
    let mut o = options(sb, family);
    o.read_retries = 0;
    PlexClient::new(o).unwrap()
}

fn server_ref(w: &World, name: &str) -> ServerRef {
    let s = w.server_by_name(name).unwrap();
    ServerRef {
        name: s.name.clone(),
        machine_id: MachineId(s.machine_id.clone()),
    }
}

fn pair(sb: &Sandbox) -> (ServerRef, ServerRef) {
    let w = sb.world();
    (server_ref(&w, "noodle"), server_ref(&w, "doodoo"))
}

fn small() -> Scenario {
    Scenario::generated(12, 6, 7)
}

/// Every share the world has on this server (with an account) is in the read, exactly.
fn assert_matches_world(w: &World, state: &SharingState, side: &ServerSharing, family: ApiFamily) {
    let mid = &side.server.machine_id.0;
    let server = w.server(mid).unwrap();
    let want: BTreeSet<(u64, u64, String)> = server
        .libraries
        .iter()
        .map(|l| (l.id, l.key, l.title.clone()))
        .collect();
    let got: BTreeSet<(u64, u64, String)> = side
        .server
        .libraries
        .iter()
        .map(|l| (l.id.0, l.key.0, l.title.clone()))
        .collect();
    assert_eq!(got, want, "{family:?} catalogue of {}", server.name);
    let world_shares: Vec<_> = w
        .shares_on(mid)
        .filter(|s| s.account_id.is_some())
        .collect();
    assert_eq!(
        side.shares.len(),
        world_shares.len(),
        "{family:?} shares on {}",
        server.name
    );
    for ws in world_shares {
        let account = AccountId(ws.account_id.unwrap());
        let share = side
            .shares
            .get(&account)
            .unwrap_or_else(|| panic!("{family:?}: no share for {account} on {}", server.name));
        assert_eq!(share.id, ShareId(ws.id));
        assert_eq!(share.account, account);
        let state_want = if ws.pending {
            ShareState::Pending
        } else {
            ShareState::Accepted
        };
        assert_eq!(share.state, state_want, "{family:?} share {}", ws.id);
        let access_want = if ws.all_libraries {
            Access::All
        } else {
            Access::Libraries(ws.section_ids.iter().map(|i| LibraryId(*i)).collect())
        };
        assert_eq!(share.access, access_want, "{family:?} share {}", ws.id);
        let read = share.settings.as_ref().expect("settings returned");
        assert_eq!(read.allow_sync, ws.settings.allow_sync);
        assert_eq!(read.allow_tuners, ws.settings.allow_tuners);
        if family == ApiFamily::V2 {
            let s = &ws.settings;
            let want = SharingSettings {
                allow_sync: s.allow_sync,
                allow_camera_upload: s.allow_camera_upload,
                allow_channels: s.allow_channels,
                allow_subtitle_admin: s.allow_subtitle_admin,
                allow_tuners: s.allow_tuners,
                filter_movies: s.filter_movies.clone(),
                filter_music: s.filter_music.clone(),
                filter_television: s.filter_television.clone(),
                filter_photos: s.filter_photos.clone(),
                filter_all: s.filter_all.clone(),
            };
            assert_eq!(read, &want, "v2 settings of share {}", ws.id);
        }
        let rec = w.accounts.get(&account.0).unwrap();
        let acct = &state.accounts[&account];
        let kind = if rec.is_managed() {
            AccountKind::Managed
        } else {
            AccountKind::Friend
        };
        assert_eq!(acct.kind, kind, "{family:?} kind of {account}");
        assert_eq!(acct.username, rec.username);
        assert_eq!(acct.title, rec.title);
    }
}

fn assert_state_matches_world(sb: &Sandbox, state: &SharingState, family: ApiFamily) {
    let w = sb.world();
    assert_matches_world(&w, state, &state.source, family);
    assert_matches_world(&w, state, &state.dest, family);
}

#[tokio::test]
async fn request_count_does_not_grow_with_accounts() {
    let few = Sandbox::start(Scenario::generated(10, 8, 1)).await.unwrap();
    let many = Sandbox::start(Scenario::generated(2000, 8, 1))
        .await
        .unwrap();
    for family in FAMILIES {
        let mut counts = Vec::new();
        for sb in [&few, &many] {
            let c = client(sb, family);
            let (a, b) = pair(sb);
            sb.clear_requests();
            let state = c.read_sharing(&a, &b).await.unwrap();
            assert_state_matches_world(sb, &state, family);
            assert_eq!(c.request_count(), sb.requests().len() as u64);
            assert_eq!(c.family(), family);
            counts.push(c.request_count());
        }
        println!("{family:?}: read_sharing of 10 and 2,000 accounts: {counts:?} requests");
        assert_eq!(counts[0], counts[1], "{family:?}");
        let expected = match family {
            ApiFamily::V2 => 4,
            ApiFamily::Legacy => 5,
        };
        assert_eq!(counts[0], expected, "{family:?}");
        // One server (the executor's re-read) is 3 requests in either family.
        let c = client(&many, family);
        let (_, b) = pair(&many);
        let (accounts, dest) = c.read_server_sharing(&b).await.unwrap();
        assert_eq!(c.request_count(), 3);
        for account in dest.shares.keys() {
            assert!(accounts.contains_key(account));
        }
    }
}

#[tokio::test]
async fn both_families_read_the_same_state() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    let v2 = client(&sb, ApiFamily::V2)
        .read_sharing(&a, &b)
        .await
        .unwrap();
    let legacy = client(&sb, ApiFamily::Legacy)
        .read_sharing(&a, &b)
        .await
        .unwrap();
    assert_eq!(v2.accounts, legacy.accounts);
    assert_eq!(v2.source.server, legacy.source.server);
    let strip = |s: &ServerSharing| -> BTreeMap<AccountId, (ShareId, ShareState, Access)> {
        s.shares
            .iter()
            .map(|(k, v)| (*k, (v.id, v.state, v.access.clone())))
            .collect()
    };
    assert_eq!(strip(&v2.source), strip(&legacy.source));
    assert_eq!(strip(&v2.dest), strip(&legacy.dest));
}

#[tokio::test]
async fn domain_ids_are_global_ids_never_keys() {
    for scenario in [Scenario::demo(), small()] {
        let sb = Sandbox::start(scenario).await.unwrap();
        let w = sb.world();
        let keys: BTreeSet<u64> = w
            .servers
            .iter()
            .flat_map(|s| s.libraries.iter().map(|l| l.key))
            .collect();
        let servers = client(&sb, ApiFamily::V2).owned_servers().await.unwrap();
        assert!(servers.len() >= 2);
        for family in FAMILIES {
            let c = client(&sb, family);
            for (i, a) in servers.iter().enumerate() {
                let b = &servers[(i + 1) % servers.len()];
                let state = c.read_sharing(a, b).await.unwrap();
                assert_state_matches_world(&sb, &state, family);
                for side in [&state.source, &state.dest] {
                    let world_ids = w.server(&side.server.machine_id.0).unwrap().section_ids();
                    for lib in &side.server.libraries {
                        assert!(world_ids.contains(&lib.id.0));
                        assert!(!keys.contains(&lib.id.0), "library id {} is a key", lib.id);
                    }
                    for share in side.shares.values() {
                        if let Access::Libraries(ids) = &share.access {
                            for id in ids {
                                assert!(world_ids.contains(&id.0));
                                assert!(!keys.contains(&id.0), "share id {id} is a key");
                            }
                        }
                    }
                }
                let cat = c.server(a).await.unwrap();
                assert_eq!(cat, state.source.server);
            }
        }
    }
}

#[tokio::test]
async fn owned_servers_are_the_owners_servers_only() {
    let sb = Sandbox::start(Scenario::demo()).await.unwrap();
    let w = sb.world();
    let mut want: Vec<_> = w
        .servers
        .iter()
        .filter(|s| s.owned)
        .map(|s| (s.name.clone(), s.machine_id.clone()))
        .collect();
    want.sort();
    for family in FAMILIES {
        let mut got: Vec<_> = client(&sb, family)
            .owned_servers()
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.machine_id.0))
            .collect();
        got.sort();
        assert_eq!(got, want, "{family:?}");
    }
}

#[tokio::test]
async fn no_token_value_is_ever_printed() {
    let sb = Sandbox::start(Scenario::demo()).await.unwrap();
    let w = sb.world();
    let mut secrets: Vec<String> = Vec::new();
    secrets.extend(w.shares.values().map(|s| s.access_token.clone()));
    secrets.extend(w.shares.values().map(|s| s.invite_token.clone()));
    secrets.extend(w.servers.iter().map(|s| s.access_token.clone()));
    secrets.extend(w.devices.iter().map(|d| d.access_token.clone()));
    secrets.extend(w.tokens.keys().cloned());
    assert!(secrets.len() > 3);
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = client(&sb, family);
        let state = c.read_sharing(&a, &b).await.unwrap();
        let servers = c.owned_servers().await.unwrap();
        let owner = c.whoami().await.unwrap();
        let (accounts, one) = c.read_server_sharing(&a).await.unwrap();
        let dump = format!(
            "{state:?}{servers:?}{owner:?}{accounts:?}{one:?}{c:?}{:?}",
            options(&sb, family)
        );
        let json = serde_json::to_string(&state).unwrap();
        for s in &secrets {
            assert!(
                !dump.contains(s.as_str()),
                "{family:?}: a token leaked into Debug"
            );
            assert!(
                !json.contains(s.as_str()),
                "{family:?}: a token leaked into JSON"
            );
        }
        for r in sb.requests() {
            assert!(!r.query.contains(&sb.owner_token()), "token in a URL");
        }
    }
}

#[tokio::test]
async fn every_request_carries_the_plex_headers() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        sb.clear_requests();
        let c = client(&sb, family);
        c.whoami().await.unwrap();
        c.owned_servers().await.unwrap();
        let state = c.read_sharing(&a, &b).await.unwrap();
        let (_, share) = state
            .dest
            .shares
            .iter()
            .find(|(_, s)| matches!(&s.access, Access::Libraries(ids) if !ids.is_empty()))
            .unwrap();
        let Access::Libraries(ids) = &share.access else {
            unreachable!()
        };
        c.update_share(&b.machine_id, share, ids).await.unwrap();
        let pin = c.create_pin().await.unwrap();
        assert_eq!(c.check_pin(pin.id).await.unwrap().map(|_| ()), None);
        let reqs = sb.requests();
        assert_eq!(reqs.len() as u64, c.request_count());
        for r in reqs {
            let what = format!("{family:?} {} {}", r.method, r.path);
            assert_eq!(
                r.header("x-plex-client-identifier"),
                Some(CLIENT_ID),
                "{what}"
            );
            assert_eq!(r.header("x-plex-product"), Some("sharesync"), "{what}");
            assert_eq!(
                r.header("x-plex-version"),
                Some(env!("CARGO_PKG_VERSION")),
                "{what}"
            );
            let accept = if r.path.starts_with("/api/v2/") {
                "application/json"
            } else {
                "application/xml"
            };
            assert_eq!(r.header("accept"), Some(accept), "{what}");
            if r.path.starts_with("/api/v2/pins") {
                assert_eq!(r.header("x-plex-token"), None, "{what}");
            } else {
                assert_eq!(
                    r.header("x-plex-token"),
                    Some(sb.owner_token().as_str()),
                    "{what}"
                );
            }
            assert!(r.query_param("X-Plex-Token").is_none(), "{what}");
            assert!((200..300).contains(&r.status), "{what}: {}", r.status);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Error shapes

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

// ---------------------------------------------------------------------------------------------
// Writes

fn explicit_share(side: &ServerSharing) -> Share {
    side.shares
        .values()
        .find(|s| s.state == ShareState::Accepted && matches!(&s.access, Access::Libraries(ids) if !ids.is_empty() && ids.len() < side.server.libraries.len()))
        .cloned()
        .expect("an explicit share")
}

#[tokio::test]
async fn writes_refuse_an_empty_set_without_sending() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = client(&sb, family);
        let state = c.read_sharing(&a, &b).await.unwrap();
        let share = explicit_share(&state.dest);
        let account = state.accounts[&share.account].clone();
        sb.clear_requests();
        let n = c.request_count();
        let empty = BTreeSet::new();
        let e = c
            .update_share(&b.machine_id, &share, &empty)
            .await
            .unwrap_err();
        assert!(matches!(e, PlexError::Rejected { .. }), "{e:?}");
        let e = c
            .create_share(&b.machine_id, &account, &empty, &Default::default())
            .await
            .unwrap_err();
        assert!(matches!(e, PlexError::Rejected { .. }), "{e:?}");
        // An All share is never narrowed to a list.
        let mut all = share.clone();
        all.access = Access::All;
        let some: BTreeSet<_> = [state.dest.server.libraries[0].id].into();
        assert!(c.update_share(&b.machine_id, &all, &some).await.is_err());
        assert_eq!(c.request_count(), n);
        assert!(sb.requests().is_empty());
    }
}

#[tokio::test]
async fn update_replaces_libraries_and_keeps_settings() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = client(&sb, family);
        let state = c.read_sharing(&a, &b).await.unwrap();
        let share = explicit_share(&state.dest);
        let before = sb.world().shares[&share.id.0].clone();
        let Access::Libraries(current) = &share.access else {
            unreachable!()
        };
        let mut union = current.clone();
        union.extend(state.dest.server.libraries.iter().map(|l| l.id));
        sb.clear_requests();
        c.update_share(&b.machine_id, &share, &union).await.unwrap();
        let reqs = sb.requests();
        assert_eq!(reqs.len(), 1, "{family:?}: one write, no retries");
        let r = &reqs[0];
        let body = r.json().unwrap();
        let sent: Vec<u64> = match family {
            ApiFamily::V2 => {
                assert_eq!(r.method, "POST");
                assert_eq!(r.path, format!("/api/v2/shared_servers/{}", share.id));
                let s = &body["settings"];
                assert_eq!(s["allowSync"], before.settings.allow_sync);
                assert_eq!(s["allowTuners"], before.settings.allow_tuners);
                assert_eq!(
                    s["filterMovies"].as_str(),
                    before.settings.filter_movies.as_deref()
                );
                assert_eq!(
                    s["filterPhotos"].as_str(),
                    before.settings.filter_photos.as_deref()
                );
                serde_json::from_value(body["librarySectionIds"].clone()).unwrap()
            }
            ApiFamily::Legacy => {
                assert_eq!(r.method, "PUT");
                assert_eq!(
                    r.path,
                    format!("/api/servers/{}/shared_servers/{}", b.machine_id, share.id)
                );
                assert_eq!(body["server_id"], b.machine_id.0);
                serde_json::from_value(body["shared_server"]["library_section_ids"].clone())
                    .unwrap()
            }
        };
        assert_eq!(sent, union.iter().map(|l| l.0).collect::<Vec<_>>());
        let after = sb.world().shares[&share.id.0].clone();
        assert_eq!(
            after.settings, before.settings,
            "{family:?}: settings changed"
        );
        assert!(!after.all_libraries);
        assert_eq!(after.section_ids, union.iter().map(|l| l.0).collect());
        // Re-reading shows exactly what was written.
        let (_, dest) = c.read_server_sharing(&b).await.unwrap();
        assert_eq!(dest.shares[&share.account].access, Access::Libraries(union));
    }
}

#[tokio::test]
async fn create_and_delete_shares_by_account_id() {
    let scenario = Scenario::builder()
        .owner("owner")
        .server("noodle", &[("Movies", "movie"), ("TV Shows", "show")])
        .server(
            "doodoo",
            &[
                ("TV Shows", "show"),
                ("Movies", "movie"),
                ("Music", "artist"),
            ],
        )
        .friend("alice")
        .managed("Kid")
        .share("noodle", "alice", ["Movies"])
        .share("noodle", "Kid", ["TV Shows"])
        .build();
    let sb = Sandbox::start(scenario).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = client(&sb, family);
        let state = c.read_sharing(&a, &b).await.unwrap();
        assert!(state.dest.shares.is_empty());
        for account in state.accounts.values() {
            let lib = state.dest.server.libraries[0].id;
            sb.clear_requests();
            let id = c
                .create_share(&b.machine_id, account, &[lib].into(), &Default::default())
                .await
                .unwrap();
            let reqs = sb.requests();
            assert_eq!(reqs.len(), 1);
            let body = reqs[0].json().unwrap();
            match family {
                ApiFamily::V2 => {
                    assert_eq!(body["invitedId"], account.id.0);
                    assert_eq!(body["skipFriendship"], true);
                    assert_eq!(body["machineIdentifier"], b.machine_id.0);
                    assert_eq!(body["librarySectionIds"], serde_json::json!([lib.0]));
                }
                ApiFamily::Legacy => {
                    assert_eq!(body["shared_server"]["invited_id"], account.id.0);
                    assert_eq!(
                        body["shared_server"]["library_section_ids"],
                        serde_json::json!([lib.0])
                    );
                }
            }
            let w = sb.world();
            let rec = &w.shares[&id.0];
            assert_eq!(rec.account_id, Some(account.id.0));
            assert_eq!(rec.machine_id, b.machine_id.0);
            assert!(!rec.all_libraries);
            assert_eq!(rec.section_ids, [lib.0].into());
            assert_eq!(
                account.kind == AccountKind::Managed,
                account.username.is_none()
            );
        }
        let (_, dest) = c.read_server_sharing(&b).await.unwrap();
        assert_eq!(dest.shares.len(), state.accounts.len());
        for share in dest.shares.values() {
            c.delete_share(&b.machine_id, share.id).await.unwrap();
        }
        assert_eq!(sb.world().shares_on(&b.machine_id.0).count(), 0);
        // Deleting again is a typed NotFound (writes never switch family).
        let share = dest.shares.values().next().unwrap();
        let e = c.delete_share(&b.machine_id, share.id).await.unwrap_err();
        assert!(matches!(e, PlexError::NotFound(_)), "{family:?}: {e:?}");
        assert_eq!(c.family(), family);
    }
}

#[tokio::test]
async fn writes_are_not_retried() {
    let sb = Sandbox::start(small()).await.unwrap();
    let (a, b) = pair(&sb);
    for family in FAMILIES {
        let c = client(&sb, family);
        let state = c.read_sharing(&a, &b).await.unwrap();
        let share = explicit_share(&state.dest);
        let Access::Libraries(ids) = &share.access else {
            unreachable!()
        };
        sb.clear_requests();
        sb.inject(Fault::new(
            FaultTarget::Writes,
            FaultKind::ServerError(503),
            5,
        ));
        let e = c
            .update_share(&b.machine_id, &share, ids)
            .await
            .unwrap_err();
        assert!(matches!(e, PlexError::Server { status: 503, .. }));
        assert!(e.is_transient());
        assert_eq!(sb.requests().len(), 1);
        sb.clear_faults();
        // The executor's helper retries when asked to.
        sb.inject(Fault::new(
            FaultTarget::Writes,
            FaultKind::ServerError(503),
            1,
        ));
        sharesync::plex::retry_transient(2, |_| c.update_share(&b.machine_id, &share, ids))
            .await
            .unwrap();
        assert_eq!(sb.requests().len(), 3);
    }
}
