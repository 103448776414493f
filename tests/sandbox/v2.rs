//! The v2 (JSON) API: reads and writes, retired endpoints and the shapes of a 404.

use super::*;

#[tokio::test]
async fn v2_reads_and_writes() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");

    // Catalogue: id/key/title/type, createdAt an epoch int.
    let r = json_call("GET", format!("/api/v2/servers/{doodoo}"), &t)
        .send(&sb)
        .await;
    let v = r.json();
    assert_eq!(v["librarySections"].as_array().unwrap().len(), 8);
    assert!(v["createdAt"].is_i64());
    let r = json_call("GET", "/api/v2/servers/nope", &t).send(&sb).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], 1002);

    // Accepted shares: no pending ones, tokens present, only shared libraries listed.
    let r = json_call("GET", "/api/v2/shared_servers/owned/accepted", &t)
        .send(&sb)
        .await;
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), w.shares.values().filter(|s| !s.pending).count());
    assert!(list.iter().all(|s| s["accepted"] == true
        && s["accessToken"].is_string()
        && s["inviteToken"].is_string()));
    let alice_src = share_id(&w, "noodle", "alice");
    let a = list.iter().find(|s| s["id"] == alice_src).unwrap();
    assert_eq!(a["libraries"].as_array().unwrap().len(), 3);
    assert_eq!(a["invited"]["username"], "alice");
    assert_eq!(a["invited"]["id"], account(&w, "alice"));
    let kiddo = list
        .iter()
        .find(|s| s["invited"]["title"] == "Kiddo")
        .unwrap();
    assert!(kiddo["invited"]["username"].is_null() && kiddo["invited"]["email"].is_null());
    assert_eq!(kiddo["invited"]["restricted"], true);
    // bob's all-libraries share reports a stale list: trust allLibraries and numLibraries.
    let bob = list
        .iter()
        .find(|s| s["id"] == share_id(&w, "noodle", "bob"))
        .unwrap();
    assert_eq!(bob["allLibraries"], true);
    assert_eq!(bob["numLibraries"], 7);
    assert_eq!(bob["libraries"].as_array().unwrap().len(), 2);

    // Pending invites: dave's, and the address-only one.
    let r = json_call("GET", "/api/v2/shared_servers/invites/owned/pending", &t)
        .send(&sb)
        .await;
    let pending = r.json();
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 2);
    let dave = pending
        .iter()
        .find(|i| i["invited"]["username"] == "dave")
        .unwrap();
    assert_eq!(
        dave["sharedServers"][0]["id"],
        share_id(&w, "doodoo", "dave")
    );
    assert_eq!(dave["sharedServers"][0]["accepted"], false);
    // XML variant.
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .send(&sb)
        .await;
    assert!(
        r.body.contains("<sharedServers size=")
            && r.body.contains("<sharedServer ")
            && r.body.contains("<invited ")
    );

    // Friends include managed users; sharedServers only when asked.
    let r = json_call("GET", "/api/v2/friends", &t).send(&sb).await;
    let friends = r.json();
    assert_eq!(friends.as_array().unwrap().len(), w.accounts.len());
    assert!(friends
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["sharedServers"].as_array().unwrap().is_empty()));
    let r = json_call(
        "GET",
        "/api/v2/friends?includeSharedServers=true&includeSharingSettings=true",
        &t,
    )
    .send(&sb)
    .await;
    assert!(r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|f| !f["sharedServers"].as_array().unwrap().is_empty()));

    // Create: 201; duplicate: 422; empty list: all libraries.
    let erin = account(&w, "erin");
    let tv = w.section_id("doodoo", "TV SHOWS").unwrap();
    let body = json!({"machineIdentifier": doodoo, "invitedId": erin, "librarySectionIds": [tv],
                      "settings": {"allowSync": true, "allowTuners": 1}, "skipFriendship": true});
    let r = json_call("POST", "/api/v2/shared_servers", &t)
        .json(body.clone())
        .send(&sb)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    assert_eq!(created["invitedId"], erin);
    assert_eq!(created["allLibraries"], false);
    let r = json_call("POST", "/api/v2/shared_servers", &t)
        .json(body)
        .send(&sb)
        .await;
    assert_eq!(r.status, 422);
    let heidi = account(&w, "heidi");
    let r = json_call("POST", "/api/v2/shared_servers", &t)
        .json(json!({"machineIdentifier": doodoo, "invitedId": heidi, "librarySectionIds": []}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 201);
    assert!(sb.world().share_for(&doodoo, heidi).unwrap().all_libraries);

    // Update replaces libraries AND settings: omitted settings go back to the defaults.
    let id = created["id"].as_u64().unwrap();
    let home = w.section_id("doodoo", "Home Videos").unwrap();
    let r = json_call("POST", format!("/api/v2/shared_servers/{id}"), &t)
        .json(json!({"librarySectionIds": [home]}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = sb.world().shares[&id].clone();
    assert_eq!(s.section_ids, BTreeSet::from([home]));
    assert!(!s.settings.allow_sync && s.settings.allow_tuners == 0);
    // ...and sent back, they stay.
    let r = json_call("POST", format!("/api/v2/shared_servers/{id}"), &t)
        .json(json!({"librarySectionIds": [home, tv], "settings": {"allowSync": true, "allowTuners": 2}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    let s = sb.world().shares[&id].clone();
    assert!(s.settings.allow_sync && s.settings.allow_tuners == 2);
    assert_eq!(s.section_ids.len(), 2);
    // Validation: ids must be numbers of this server; the list is required.
    for bad in [
        json!({"librarySectionIds": ["1"]}),
        json!({"librarySectionIds": [1]}),
        json!({"settings": {}}),
    ] {
        let r = json_call("POST", format!("/api/v2/shared_servers/{id}"), &t)
            .json(bad)
            .send(&sb)
            .await;
        assert_eq!(r.status, 422);
    }
    assert_eq!(
        json_call("POST", "/api/v2/shared_servers/5599999", &t)
            .json(json!({"librarySectionIds": [tv]}))
            .send(&sb)
            .await
            .status,
        404
    );
    // Delete.
    assert_eq!(
        call("DELETE", format!("/api/v2/shared_servers/{id}"))
            .token(&t)
            .send(&sb)
            .await
            .status,
        204
    );
    assert!(!sb.world().shares.contains_key(&id));
}

#[tokio::test]
async fn retired_endpoints_and_404_shapes() {
    let sb = demo().await;
    let t = sb.owner_token();
    for (m, p) in [
        ("PUT", "/api/friends/1000101"),
        ("DELETE", "/api/friends/1000101"),
        ("GET", "/api/invites/requested"),
        (
            "DELETE",
            "/api/invites/requested/42?friend=1&server=1&home=0",
        ),
        ("GET", "/api/invites/requests"),
        ("PUT", "/api/invites/requests/42"),
    ] {
        let r = call(m, p).token(&t).send(&sb).await;
        assert_eq!(r.status, 410, "{m} {p}");
        assert!(r.body.contains(
            r#"<Response code="410" status="This endpoint was deprecated and removed"/>"#
        ));
    }
    for p in ["/api/nothing", "/users/whatever", "/"] {
        let r = call("GET", p).token(&t).send(&sb).await;
        assert_eq!(r.status, 404);
        assert!(r.content_type.starts_with("text/html") && r.body.contains("<!DOCTYPE html>"));
    }
    let r = json_call("GET", "/api/v2/nothing", &t).send(&sb).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"errors":[{"code":1002,"message":"The requested resource or endpoint could not be found","status":404}]})
    );
}
