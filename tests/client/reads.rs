//! Reads: request counts, both families agreeing, global ids, owned servers, secrets and headers.

use super::*;

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
