//! The legacy conversions on recorded answers.

use super::*;
use crate::model::{AccountKind, LibraryKey, MachineId};
use crate::plex::decode::xml;

const MID: &str = "271663AA23AC6";

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> T {
    let resp = crate::plex::request::Response {
        content_type: Some("application/xml".into()),
        body: text.as_bytes().to_vec(),
        endpoint: "GET /test".into(),
    };
    xml(&resp, ROOT).unwrap()
}

fn server_ref() -> ServerRef {
    ServerRef {
        name: "LED-Kremen-286".into(),
        machine_id: MachineId(MID.into()),
    }
}

const CATALOGUE: &str = r#"<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="271663AA23AC6" size="1">
  <Server name="LED-Kremen-286" address="1.2.3.4" port="32400" machineIdentifier="271663AA23AC6" owned="1" synced="0" accessToken="SERVER-SECRET">
    <Section id="118181361" key="2" type="movie" title="Movies"/>
    <Section id="118181362" key="3" type="artist" title="Music"/>
    <Section id="118181363" key="1" type="show" title="TV Shows"/>
  </Server>
</MediaContainer>"#;

// A recorded /api/users response, plus a friend with a pending share and one on another server.
const USERS: &str = r#"<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="19A4B805E9021" totalSize="4" size="4">
  <User id="8676063" title="18A0A7BD14ECC" thumb="https://plex.tv/users/0d9d14488439289a/avatar?c=1536695183" protected="0" home="1" allowSync="0" allowCameraUpload="0" allowChannels="0" allowTuners="0" allowSubtitleAdmin="0" filterAll="" filterMovies="contentRating=G" filterMusic="" filterPhotos="" filterTelevision="contentRating=TV-14" restricted="1">
    <Server id="5558593" serverId="8035121" machineIdentifier="271663AA23AC6" name="LED-Kremen-286" lastSeenAt="1547660334" numLibraries="2" allLibraries="1" owned="1" pending="0"/>
  </User>
  <User id="3609362" title="15FDD85D4BED2" thumb="x" protected="0" home="1" allowSync="0" restricted="1">
  </User>
  <User id="42" title="alice" username="alice" email="alice@example.com" home="0" restricted="0">
    <Server id="900" serverId="8035121" machineIdentifier="271663AA23AC6" name="LED-Kremen-286" numLibraries="1" allLibraries="0" owned="1" pending="1"/>
    <Server id="901" serverId="1" machineIdentifier="OTHER" name="theirs" numLibraries="1" allLibraries="0" owned="0" pending="0"/>
  </User>
  <User title="" username="" email="nobody@example.com" home="0" restricted="0">
    <Server id="903" machineIdentifier="271663AA23AC6" owned="1" pending="1" allLibraries="1" numLibraries="3"/>
  </User>
  <User id="43" title="bob" username="bob" email="bob@example.com" home="0" restricted="0">
    <Server id="902" serverId="8035121" machineIdentifier="271663AA23AC6" name="LED-Kremen-286" numLibraries="1" allLibraries="0" owned="1" pending="0"/>
  </User>
</MediaContainer>"#;

const SHARED: &str = r#"<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="271663AA23AC6" size="3">
  <SharedServer id="5558593" username="" email="" userID="8676063" accessToken="MANAGED-SECRET" name="LED-Kremen-286" acceptedAt="1547660334" invitedAt="1547660000" allowSync="0" allowCameraUpload="0" allowChannels="0" allowTuners="0" allowSubtitleAdmin="0" owned="1" allLibraries="1" filterAll="" filterMovies="contentRating=G" filterMusic="" filterPhotos="" filterTelevision="contentRating=TV-14">
    <Section id="118181361" key="2" title="Movies" type="movie" shared="1"/>
    <Section id="118181362" key="3" title="Music" type="artist" shared="1"/>
    <Section id="118181363" key="1" title="TV Shows" type="show" shared="1"/>
  </SharedServer>
  <SharedServer id="900" username="alice" email="alice@example.com" userID="42" accessToken="ALICE-SECRET" name="LED-Kremen-286" acceptedAt="" invitedAt="1547660000" allowSync="1" owned="1" allLibraries="0" filterMovies="">
    <Section id="118181361" key="2" title="Movies" type="movie" shared="0"/>
    <Section id="118181362" key="3" title="Music" type="artist" shared="1"/>
    <Section id="118181363" key="1" title="TV Shows" type="show" shared="0"/>
  </SharedServer>
  <SharedServer id="903" username="" email="nobody@example.com" accessToken="NOBODY-SECRET" allLibraries="1"/>
  <SharedServer id="902" username="bob" email="bob@example.com" userID="43" accessToken="BOB-SECRET" name="LED-Kremen-286" acceptedAt="1547660334" allLibraries="0">
    <Section id="118181361" key="2" title="Movies" type="movie" shared="0"/>
    <Section id="118181362" key="3" title="Music" type="artist" shared="0"/>
    <Section id="118181363" key="1" title="TV Shows" type="show" shared="0"/>
  </SharedServer>
</MediaContainer>"#;

#[test]
fn catalogue_keeps_ids_and_keys_apart() {
    let s = to_catalogue(parse(CATALOGUE), &server_ref(), "GET /x").unwrap();
    assert_eq!(s.name, "LED-Kremen-286");
    assert_eq!(s.libraries.len(), 3);
    assert_eq!(s.libraries[0].id, LibraryId(118181361));
    assert_eq!(s.libraries[0].key, LibraryKey(2));
    assert_eq!(s.libraries[2].title, "TV Shows");
    assert!(!format!("{s:?}").contains("SERVER-SECRET"));
}

#[test]
fn join_users_and_shared_servers() {
    let cat = to_catalogue(parse(CATALOGUE), &server_ref(), "GET /x").unwrap();
    let users: Users = parse(USERS);
    let shared: SharedServers = parse(SHARED);
    let (accounts, sharing) = join(&users, &shared, cat).unwrap();
    validate::server_sharing(&sharing, &accounts).unwrap();
    assert_eq!(accounts.len(), 3);
    let kid = &accounts[&AccountId(8676063)];
    assert_eq!(kid.kind, AccountKind::Managed);
    assert_eq!(kid.username, None);
    assert_eq!(kid.title, "18A0A7BD14ECC");
    let kid_share = &sharing.shares[&AccountId(8676063)];
    assert_eq!(kid_share.id, ShareId(5558593));
    assert_eq!(kid_share.access, Access::All);
    assert_eq!(kid_share.state, ShareState::Accepted);
    assert_eq!(
        kid_share
            .settings
            .as_ref()
            .unwrap()
            .filter_movies
            .as_deref(),
        Some("contentRating=G")
    );
    let alice = &sharing.shares[&AccountId(42)];
    assert_eq!(alice.state, ShareState::Pending);
    assert_eq!(
        alice.access,
        Access::Libraries([LibraryId(118181362)].into())
    );
    // alice's SharedServer has `allowSync` and `filterMovies` but not the other settings
    // attributes: partial settings are not known settings.
    assert_eq!(alice.settings, None);
    assert_eq!(accounts[&AccountId(42)].kind, AccountKind::Friend);
    let bob = &sharing.shares[&AccountId(43)];
    assert_eq!(bob.access, Access::Libraries(BTreeSet::new()));
    // bob's SharedServer carries no settings attributes: not returned, never defaults.
    assert_eq!(bob.settings, None);
    let dump = format!("{accounts:?}{sharing:?}");
    for secret in [
        "MANAGED-SECRET",
        "ALICE-SECRET",
        "BOB-SECRET",
        "SERVER-SECRET",
    ] {
        assert!(!dump.contains(secret));
    }
}

#[test]
fn devices_filter_owned_servers() {
    let body = r#"<MediaContainer size="3">
  <Device name="noodle" product="Plex Media Server" clientIdentifier="aaa" provides="server" owned="1" accessToken="T1"><Connection uri="http://x"/></Device>
  <Device name="phone" product="Plex for iOS" clientIdentifier="bbb" provides="client,player" owned="1" accessToken="T2"/>
  <Device name="friendbox" product="Plex Media Server" clientIdentifier="ccc" provides="server" owned="0" accessToken="T3"/>
</MediaContainer>"#;
    let servers = parse_devices(parse(body));
    assert_eq!(
        servers,
        vec![ServerRef {
            name: "noodle".into(),
            machine_id: MachineId("aaa".into())
        }]
    );
}

#[test]
fn create_response_gives_the_share_id() {
    let body = r#"<MediaContainer size="1"><SharedServer id="777" userID="42" accessToken="X" allLibraries="0"><Section id="1" key="1" shared="1"/></SharedServer></MediaContainer>"#;
    let s: SharedServers = parse(body);
    assert_eq!(s.shared[0].id, 777);
}
