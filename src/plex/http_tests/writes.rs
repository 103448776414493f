//! Writes: what each family sends, and what is refused without sending.

use super::*;

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
