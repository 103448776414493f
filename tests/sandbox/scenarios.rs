//! Scenarios: the demo's ids, generated worlds, errors naming the key, and settings that reads
//! leave out or restriction profiles refuse.

use super::*;

#[test]
fn demo_scenario_ids_are_disjoint() {
    let s = Scenario::demo();
    let w = s.world();
    assert_eq!(w.owner.username.as_deref(), Some("sandbox-owner"));
    assert_eq!(w.servers.len(), 3);
    let noodle = w.server_by_name("noodle").unwrap();
    let doodoo = w.server_by_name("doodoo").unwrap();
    assert!(noodle.owned && doodoo.owned && !w.server_by_name("friends-server").unwrap().owned);
    assert_eq!(noodle.machine_id.len(), 40);
    let accounts: BTreeSet<u64> = w.accounts.keys().copied().chain([w.owner.id]).collect();
    let shares: BTreeSet<u64> = w.shares.keys().copied().collect();
    let sections: BTreeSet<u64> = w
        .servers
        .iter()
        .flat_map(|s| s.libraries.iter().map(|l| l.id))
        .collect();
    let keys: BTreeSet<u64> = w
        .servers
        .iter()
        .flat_map(|s| s.libraries.iter().map(|l| l.key))
        .collect();
    let server_ids: BTreeSet<u64> = w.servers.iter().map(|s| s.server_id).collect();
    let all = [&accounts, &shares, &sections, &keys, &server_ids];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(a.is_disjoint(b), "{a:?} vs {b:?}");
        }
    }
    assert!(sections
        .iter()
        .all(|id| (100_000_000..1_000_000_000).contains(id)));
    // The situations the demo promises.
    assert!(w.account_by_name("Kiddo").unwrap().username.is_none());
    assert!(
        w.share_for(&doodoo.machine_id, w.account_by_name("dave").unwrap().id)
            .unwrap()
            .pending
    );
    assert!(w
        .share_for(&doodoo.machine_id, w.account_by_name("erin").unwrap().id)
        .is_none());
    assert!(w
        .shares
        .values()
        .all(|s| s.account_id.is_some() || s.pending));
    assert_eq!(
        doodoo
            .libraries
            .iter()
            .filter(|l| l.title == "Kids")
            .count(),
        2
    );
    // NFC on noodle, NFD on doodoo: different strings, same title once normalised.
    let nfc = noodle
        .libraries
        .iter()
        .find(|l| l.title.starts_with("Pel"))
        .unwrap();
    let nfd = doodoo
        .libraries
        .iter()
        .find(|l| l.title.starts_with("Pel"))
        .unwrap();
    assert_ne!(nfc.title, nfd.title);
    assert_eq!(nfc.title.chars().count() + 1, nfd.title.chars().count());
}

#[test]
fn generated_scenarios_are_deterministic_and_sized() {
    let a = Scenario::generated(300, 12, 9);
    let b = Scenario::generated(300, 12, 9);
    let c = Scenario::generated(300, 12, 10);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let w = a.world();
    assert_eq!(w.accounts.len(), 300);
    let noodle = w.server_by_name("noodle").unwrap();
    let doodoo = w.server_by_name("doodoo").unwrap();
    assert_eq!((noodle.libraries.len(), doodoo.libraries.len()), (12, 12));
    let titles = |s: &sharesync::sandbox::ServerRecord| {
        s.libraries
            .iter()
            .map(|l| l.title.clone())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(titles(noodle), titles(doodoo));
    assert_ne!(
        noodle.libraries[0].title, doodoo.libraries[0].title,
        "keys differ between servers"
    );
    let on = |s: &sharesync::sandbox::ServerRecord| w.shares_on(&s.machine_id).count();
    assert!(on(noodle) > 240 && on(noodle) < 300);
    assert!(on(doodoo) > 180 && on(doodoo) < 270);
    assert!(w.shares.values().any(|s| s.pending));
    assert!(w.shares.values().any(|s| s.all_libraries));
    assert!(w.accounts.values().any(|a| a.is_managed()));
    assert!(w
        .accounts
        .values()
        .any(|a| w.share_for(&doodoo.machine_id, a.id).is_none()
            && w.share_for(&noodle.machine_id, a.id).is_some()));
    for s in w.shares.values() {
        let server = w.server(&s.machine_id).unwrap();
        assert!(s.section_ids.iter().all(|id| server.section(*id).is_some()));
        assert!(!(s.pending && w.accounts[&s.account_id.unwrap()].is_managed()));
    }
    let big = Scenario::generated(10_000, 20, 42);
    assert_eq!(big.world().accounts.len(), 10_000);
    assert!(big
        .world()
        .shares
        .keys()
        .all(|id| (5_500_001..6_000_000).contains(id)));
    assert!(big
        .world()
        .accounts
        .keys()
        .all(|id| (1_000_101..1_100_000).contains(id)));
}

#[tokio::test]
async fn generated_scenario_is_served() {
    let sb = Sandbox::start(Scenario::generated(500, 6, 3))
        .await
        .unwrap();
    let t = sb.owner_token();
    let r = call("GET", "/api/users").token(&t).send(&sb).await;
    assert_eq!(r.body.matches("<User ").count(), 500);
    let r = json_call("GET", "/api/v2/shared_servers/owned/accepted", &t)
        .send(&sb)
        .await;
    let w = sb.world();
    assert_eq!(
        r.json().as_array().unwrap().len(),
        w.shares.values().filter(|s| !s.pending).count()
    );
}

#[test]
fn scenario_errors_name_the_key() {
    let base = "[owner]\nusername = \"o\"\n[[server]]\nname = \"s\"\nlibraries = [{ title = \"Movies\", type = \"movie\" }, { title = \"Kids\", type = \"movie\" }, { title = \"Kids\", type = \"show\" }]\n[[account]]\nusername = \"a\"\n";
    let err = |extra: &str| -> String {
        match Scenario::from_toml_str(&format!("{base}{extra}")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {extra}"),
        }
    };
    let e = err("[[share]]\nserver = \"s\"\naccount = \"a\"\nlibraries = [\"Movies\", \"Nope\"]\n");
    assert!(
        e.contains("share[0].libraries[1]") && e.contains("Nope"),
        "{e}"
    );
    let e = err("[[share]]\nserver = \"s\"\naccount = \"a\"\nlibraries = [\"Kids\"]\n");
    assert!(e.contains("several libraries titled 'Kids'"), "{e}");
    let e = err("[[share]]\nserver = \"s\"\naccount = \"zed\"\nlibraries = \"all\"\n");
    assert!(e.contains("share[0].account") && e.contains("zed"), "{e}");
    let e = err("[[account]]\nusername = \"b\"\ncolour = \"red\"\n");
    assert!(e.contains("account") && e.contains("colour"), "{e}");
    let e = err("[[share]]\nserver = \"s\"\naccount = \"a\"\nlibraries = \"some\"\n");
    assert!(e.contains("share[0].libraries"), "{e}");
    let e = err("[[account]]\ntitle = \"M\"\nmanaged = true\nemail = \"m@x\"\n");
    assert!(e.contains("account[1]") && e.contains("managed"), "{e}");
    // Keys resolve duplicated titles.
    let ok = Scenario::from_toml_str(&format!(
        "{base}[[share]]\nserver = \"s\"\naccount = \"a\"\nlibraries = [3, \"Movies\"]\n"
    ))
    .unwrap();
    assert_eq!(
        ok.world().shares.values().next().unwrap().section_ids.len(),
        2
    );
    // `omit_settings` chooses the shares whose v2 reads leave their settings out.
    let omitted = Scenario::from_toml_str(&format!(
        "{base}[[share]]\nserver = \"s\"\naccount = \"a\"\nlibraries = [\"Movies\"]\nomit_settings = true\n"
    ))
    .unwrap();
    let w = omitted.world();
    assert_eq!(
        w.omit_settings,
        w.shares.keys().copied().collect::<BTreeSet<u64>>()
    );
    assert!(matches!(
        Scenario::load(std::path::Path::new("/nonexistent/scenario.toml")),
        Err(ScenarioError::Io { .. })
    ));
}

/// Strictness about settings: chosen v2 reads leave a share's `sharingSettings` out (its
/// `invited` carries different, account-level ones; the legacy read keeps them); both creates take settings; a managed user with a restriction
/// profile refuses label filters on create and on a v2 update, with nothing written.
#[tokio::test]
async fn omitted_settings_and_restriction_profiles() {
    use sharesync::sandbox::SettingsSpec;
    let scenario = Scenario::builder()
        .server("noodle", &[("Movies", "movie"), ("TV Shows", "show")])
        .server("doodoo", &[("Movies", "movie"), ("TV Shows", "show")])
        .friend("alice")
        .managed("Kiddo")
        .restriction_profile("little_kid")
        .managed("Teen")
        .share("doodoo", "alice", ["Movies"])
        .settings(SettingsSpec {
            allow_sync: Some(true),
            filter_movies: Some("contentRating=PG-13".into()),
            ..SettingsSpec::default()
        })
        .omit_settings()
        .share("doodoo", "Kiddo", ["Movies"])
        .settings(SettingsSpec {
            filter_movies: Some("contentRating=G".into()),
            ..SettingsSpec::default()
        })
        .build();
    let sb = Sandbox::start(scenario).await.unwrap();
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let alice_share = share_id(&w, "doodoo", "alice");
    let kiddo_share = share_id(&w, "doodoo", "Kiddo");

    // v2: alice's share (and its `invited`) carry null settings; Kiddo's carry them.
    let r = json_call("GET", "/api/v2/shared_servers/owned/accepted", &t)
        .send(&sb)
        .await;
    let list = r.json();
    let find = |id: u64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let alice = find(alice_share);
    assert!(alice["sharingSettings"].is_null(), "{alice}");
    // `invited` carries the account's settings, which differ from the share's.
    let invited = &alice["invited"]["sharingSettings"];
    assert_eq!(invited["allowSync"], false, "{alice}");
    assert_eq!(invited["filterMovies"], serde_json::Value::Null, "{alice}");
    let kiddo = find(kiddo_share);
    assert_eq!(kiddo["sharingSettings"]["filterMovies"], "contentRating=G");
    // Legacy: the attributes are there.
    let r = call("GET", format!("/api/servers/{doodoo}/shared_servers"))
        .token(&t)
        .send(&sb)
        .await;
    assert!(
        r.body.contains(r#"filterMovies="contentRating=PG-13""#),
        "{}",
        r.body
    );

    // A v2 update without settings resets them (the v2 update replaces libraries and
    // settings; the stricter reading).
    let movies = w.section_id("doodoo", "Movies").unwrap();
    let tv = w.section_id("doodoo", "TV Shows").unwrap();
    let r = json_call("POST", format!("/api/v2/shared_servers/{alice_share}"), &t)
        .json(json!({"librarySectionIds": [movies, tv]}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = sb.world().shares[&alice_share].settings.clone();
    assert!(
        !s.allow_sync && s.filter_movies.as_deref() == Some(""),
        "{s:?}"
    );

    // Restriction profile: a label filter is refused on create (both families) and on a v2
    // update; nothing changes. Without a label clause, or without a profile, it is taken.
    let kiddo_id = account(&w, "Kiddo");
    let noodle = mid(&w, "noodle");
    let n_movies = w.section_id("noodle", "Movies").unwrap();
    let labelled = json!({"filterMovies": "contentRating=G|label!=Horror"});
    let r = json_call("POST", "/api/v2/shared_servers", &t)
        .json(json!({"machineIdentifier": noodle, "invitedId": kiddo_id,
                     "librarySectionIds": [n_movies], "settings": labelled}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["code"], 2002);
    let r = call("POST", format!("/api/servers/{noodle}/shared_servers"))
        .token(&t)
        .json(json!({"server_id": noodle,
                     "shared_server": {"library_section_ids": [n_movies], "invited_id": kiddo_id},
                     "sharing_settings": {"filterMovies": "label!=Horror"}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("restriction profile"), "{}", r.body);
    assert!(sb.world().share_for(&noodle, kiddo_id).is_none());
    let r = json_call("POST", format!("/api/v2/shared_servers/{kiddo_share}"), &t)
        .json(json!({"librarySectionIds": [movies, tv],
                     "settings": {"filterMovies": "contentRating=G|label=Kids"}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let k = sb.world().shares[&kiddo_share].clone();
    assert_eq!(k.section_ids, BTreeSet::from([movies]), "nothing written");
    assert_eq!(k.settings.filter_movies.as_deref(), Some("contentRating=G"));
    // Legacy create takes `sharing_settings` ("0"/"1" flags) but reads only allowSync,
    // allowCameraUpload, allowChannels and the movie, TV and music filters: the rest is
    // ignored. No label, no refusal.
    let r = call("POST", format!("/api/servers/{noodle}/shared_servers"))
        .token(&t)
        .json(json!({"server_id": noodle,
                     "shared_server": {"library_section_ids": [n_movies], "invited_id": kiddo_id},
                     "sharing_settings": {"filterMovies": "contentRating=G", "allowSync": "1", "allowTuners": "2",
                                          "allowSubtitleAdmin": "1", "filterPhotos": "label!=Private",
                                          "filterAll": "contentRating=G"}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = sb
        .world()
        .share_for(&noodle, kiddo_id)
        .unwrap()
        .settings
        .clone();
    assert_eq!(created.filter_movies.as_deref(), Some("contentRating=G"));
    assert!(created.allow_sync);
    assert_eq!(created.allow_tuners, 0, "allowTuners ignored");
    assert!(!created.allow_subtitle_admin, "allowSubtitleAdmin ignored");
    assert!(
        created
            .filter_photos
            .as_deref()
            .unwrap_or_default()
            .is_empty()
            && created.filter_all.as_deref().unwrap_or_default().is_empty(),
        "photo and all-libraries filters ignored: {created:?}"
    );
    // A managed user without a profile may get label filters.
    let teen = account(&w, "Teen");
    let r = json_call("POST", "/api/v2/shared_servers", &t)
        .json(json!({"machineIdentifier": noodle, "invitedId": teen,
                     "librarySectionIds": [n_movies], "settings": {"filterMovies": "label!=Horror"}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
