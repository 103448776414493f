//! Writes: their bodies, what they keep, and that they are never retried.

use super::*;

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
