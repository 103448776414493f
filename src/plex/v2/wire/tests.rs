//! The v2 conversions on recorded answers.

use super::*;
use crate::model::{AccountKind, MachineId};
use crate::plex::assemble::provides_server;

fn server_ref() -> ServerRef {
    ServerRef {
        name: "Server".into(),
        machine_id: MachineId("deadbeef".into()),
    }
}

// plex-api.rs fixture `api/v2/servers/machine_id.json` shape.
const CATALOGUE: &str = r#"{"name":"Server","address":"1.2.3.4","port":32400,"version":"1.0","scheme":"https",
      "synced":false,"owned":true,"localAddresses":"","machineIdentifier":"deadbeef","createdAt":1610000000,
      "updatedAt":1610000001,"librarySections":[{"id":1001,"key":1,"title":"Movies","type":"movie"},
      {"id":1002,"key":"2","title":"TV Shows","type":"show"},{"id":1003,"key":3,"title":"Music","type":"artist"}]}"#;

// The create response plex.tv documents, plus a managed user, a deleted share and another server's share.
const ACCEPTED: &str = r#"[
      {"id": 1, "name": "Server", "ownerId": 2, "invitedId": 3, "invitedEmail": null,
       "serverId": 4, "accepted": true, "acceptedAt": "2021-01-11T01:11:31Z",
       "deletedAt": null, "leftAt": null, "owned": true, "inviteToken": "INVITE-SECRET",
       "machineIdentifier": "deadbeef", "lastSeenAt": "2021-01-11T01:11:31Z", "numLibraries": 2,
       "invited": {"id": 3, "uuid": "deadbeef1", "title": "username", "username": "username",
                   "restricted": false, "friendlyName": null, "email": "example@example.com",
                   "home": false, "status": "accepted"},
       "sharingSettings": {"allowChannels": true, "filterMovies": "", "filterMusic": "",
                           "filterPhotos": null, "filterTelevision": "", "filterAll": null,
                           "allowSync": true, "allowCameraUpload": false,
                           "allowSubtitleAdmin": true, "allowTuners": 2},
       "libraries": [{"id": 1001, "key": 1, "title": "Movies", "type": "movie"},
                     {"id": 1002, "key": 2, "title": "TV Shows", "type": "show"}],
       "allLibraries": false, "accessToken": "ACCESS-SECRET"},
      {"id": 5, "invitedId": 6, "machineIdentifier": "deadbeef", "accepted": true,
       "deletedAt": null, "leftAt": null, "allLibraries": true, "numLibraries": 4,
       "libraries": [{"id": 1001, "key": 1, "title": "Movies", "type": "movie"}],
       "invited": {"id": 6, "title": "Guest", "username": null, "email": null, "restricted": true, "home": true},
       "sharingSettings": null},
      {"id": 7, "invitedId": 8, "machineIdentifier": "deadbeef", "deletedAt": "2022-01-01T00:00:00Z",
       "allLibraries": true, "invited": {"id": 8, "username": "gone"}},
      {"id": 9, "invitedId": 3, "machineIdentifier": "otherserver", "allLibraries": true,
       "invited": {"id": 3, "username": "username"}}
    ]"#;

const PENDING: &str = r#"[
      {"id": 50, "invited": {"id": 10, "username": "newbie", "email": "n@example.com", "title": "newbie",
                  "restricted": false, "home": false},
       "sharedServers": [{"id": 11, "invitedId": 10, "machineIdentifier": "deadbeef",
                          "allLibraries": false, "inviteToken": "INVITE-2",
                          "libraries": [{"id": 1003, "key": 3, "title": "Music", "type": "artist"}]}]},
      {"id": 51, "invitedEmail": "nobody@example.com",
       "sharedServers": [{"id": 12, "invitedEmail": "nobody@example.com", "machineIdentifier": "deadbeef",
                          "allLibraries": true}]}
    ]"#;

fn lists() -> ShareLists {
    ShareLists {
        accepted: serde_json::from_str(ACCEPTED).unwrap(),
        pending: serde_json::from_str(PENDING).unwrap(),
    }
}

fn catalogue() -> Server {
    to_catalogue(
        serde_json::from_str(CATALOGUE).unwrap(),
        &server_ref(),
        "GET /x",
    )
    .unwrap()
}

#[test]
fn catalogue_ids_and_keys() {
    let c = catalogue();
    assert_eq!(
        c.libraries
            .iter()
            .map(|l| (l.id.0, l.key.0))
            .collect::<Vec<_>>(),
        vec![(1001, 1), (1002, 2), (1003, 3)]
    );
    let wrong: WireServer =
        serde_json::from_str(r#"{"machineIdentifier":"other","librarySections":[]}"#).unwrap();
    assert!(to_catalogue(wrong, &server_ref(), "GET /x").is_err());
    // No librarySections at all is not a catalogue.
    assert!(serde_json::from_str::<WireServer>(r#"{"name":"x"}"#).is_err());
}

#[test]
fn select_accepted_and_pending() {
    let (accounts, sharing) = select(&lists(), catalogue());
    validate::server_sharing(&sharing, &accounts).unwrap();
    assert_eq!(
        sharing.shares.keys().copied().collect::<Vec<_>>(),
        vec![AccountId(3), AccountId(6), AccountId(10)]
    );
    let s3 = &sharing.shares[&AccountId(3)];
    assert_eq!(s3.id, ShareId(1));
    assert_eq!(s3.state, ShareState::Accepted);
    assert_eq!(
        s3.access,
        Access::Libraries([LibraryId(1001), LibraryId(1002)].into())
    );
    let st = s3.settings.as_ref().expect("read");
    assert_eq!(st.allow_tuners, 2);
    assert_eq!(st.filter_movies.as_deref(), Some(""));
    assert_eq!(st.filter_photos, None);
    assert!(st.allow_sync && st.allow_subtitle_admin);
    // `sharingSettings: null` is "not returned", never defaults.
    assert_eq!(sharing.shares[&AccountId(6)].settings, None);
    assert_eq!(accounts[&AccountId(3)].kind, AccountKind::Friend);
    assert_eq!(sharing.shares[&AccountId(6)].access, Access::All);
    assert_eq!(accounts[&AccountId(6)].kind, AccountKind::Managed);
    let p = &sharing.shares[&AccountId(10)];
    assert_eq!(p.state, ShareState::Pending);
    assert_eq!(p.id, ShareId(11));
    assert_eq!(p.access, Access::Libraries([LibraryId(1003)].into()));
    let dump = format!("{accounts:?}{sharing:?}");
    for secret in ["INVITE-SECRET", "ACCESS-SECRET", "INVITE-2"] {
        assert!(!dump.contains(secret));
    }
}

#[test]
fn settings_round_trip_unchanged() {
    let (_, sharing) = select(&lists(), catalogue());
    let s = sharing.shares[&AccountId(3)].settings.as_ref().unwrap();
    let back = settings_json(s);
    assert_eq!(
        back,
        json!({"allowSync": true, "allowCameraUpload": false, "allowChannels": true,
               "allowSubtitleAdmin": true, "allowTuners": 2, "filterMovies": "",
               "filterMusic": "", "filterTelevision": "", "filterPhotos": null, "filterAll": null})
    );
    let reparsed: WireSettings = serde_json::from_value(back).unwrap();
    assert_eq!(reparsed.known().as_ref(), Some(s));
}

#[test]
fn partial_settings_are_not_known() {
    let full = r#"{"allowSync": true, "allowCameraUpload": false, "allowChannels": true,
            "allowSubtitleAdmin": true, "allowTuners": 2, "filterMovies": "label!=Horror",
            "filterMusic": "", "filterTelevision": "", "filterPhotos": null, "filterAll": null}"#;
    let parse = |s: &str| serde_json::from_str::<WireSettings>(s).unwrap().known();
    assert!(parse(full).is_some(), "explicit nulls are known settings");
    assert_eq!(parse("{}"), None);
    for key in [
        "\"allowTuners\": 2,",
        "\"filterMovies\": \"label!=Horror\",",
        "\"filterAll\": null",
    ] {
        let partial = full.replace(key, "").replace(", }", "}").replace(",}", "}");
        assert_eq!(parse(&partial), None, "{key} missing: {partial}");
    }
}

#[test]
fn resources_filter() {
    let body = r#"[{"name":"Box","product":"Plex Media Server","clientIdentifier":"client_id2","provides":"server","ownerId":null,"accessToken":"auth_token","owned":true},
          {"name":"Phone","clientIdentifier":"p","provides":"client,player","owned":true},
          {"name":"Theirs","clientIdentifier":"t","provides":"server","owned":false,"ownerId":5}]"#;
    let r: Vec<Resource> = serde_json::from_str(body).unwrap();
    let owned: Vec<_> = r
        .into_iter()
        .filter(|r| r.owned && provides_server(r.provides.as_deref()))
        .collect();
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].client_identifier.as_deref(), Some("client_id2"));
}
