//! The legacy (XML) API: reads of users, catalogues and shares; writes that replace the set,
//! create shares of all libraries, pending, managed and duplicate ones.

use super::*;

#[tokio::test]
async fn legacy_reads_users_catalogue_and_shares() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let r = call("GET", "/api/users").token(&t).send(&sb).await;
    let b = &r.body;
    // The managed user has no username/email attributes.
    let kiddo = b.lines().find(|l| l.contains(r#"title="Kiddo""#)).unwrap();
    assert!(
        !kiddo.contains("username=") && !kiddo.contains("email="),
        "{kiddo}"
    );
    assert!(kiddo.contains(r#"home="1""#) && kiddo.contains(r#"restricted="1""#));
    // A friend with no shares: a User with no Server child.
    let heidi_id = account(&w, "heidi");
    assert!(b.contains(&format!(
        r#"<User id="{heidi_id}" title="heidi" username="heidi" email="heidi@example.com""#
    )));
    assert!(b.contains(r#"restricted="0"/>"#));
    // A server shared to the owner appears with owned="0"; dave's pending share with pending="1".
    assert!(b.contains(r#"name="friends-server""#) && b.contains(r#"owned="0""#));
    let dave_dest = share_id(&w, "doodoo", "dave");
    assert!(b.contains(&format!(r#"<Server id="{dave_dest}""#)));
    let line = b
        .lines()
        .find(|l| l.contains(&format!(r#"<Server id="{dave_dest}""#)))
        .unwrap();
    assert!(line.contains(r#"pending="1""#), "{line}");
    // bob's all-libraries share counts every noodle library.
    let bob_src = share_id(&w, "noodle", "bob");
    let line = b
        .lines()
        .find(|l| l.contains(&format!(r#"<Server id="{bob_src}""#)))
        .unwrap();
    assert!(
        line.contains(r#"numLibraries="7" allLibraries="1""#),
        "{line}"
    );
    // The address-only invite: no id, empty title.
    assert!(b.contains(r#"<User title="" username="" email="newcomer@example.net""#));

    // Catalogue: ids are 9 digits, keys 1..n; unknown server: Rails HTML 404.
    let noodle = mid(&w, "noodle");
    let r = call("GET", format!("/api/servers/{noodle}"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    let movies = w
        .server_by_name("noodle")
        .unwrap()
        .section_by_title("Movies")
        .unwrap();
    assert!(r.body.contains(&format!(
        r#"<Section id="{}" key="1" type="movie" title="Movies"/>"#,
        movies.id
    )));
    assert_eq!(r.body.matches("<Section ").count(), 7);
    let r = call(
        "GET",
        "/api/servers/0000000000000000000000000000000000000000",
    )
    .token(&t)
    .send(&sb)
    .await;
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("text/html"));

    // shared_servers: a Section for every library, shared per share; pending → empty acceptedAt.
    let r = call("GET", format!("/api/servers/{noodle}/shared_servers"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    let n_shares = w.shares_on(&noodle).count();
    assert_eq!(r.body.matches("<SharedServer ").count(), n_shares);
    assert_eq!(r.body.matches("<Section ").count(), n_shares * 7);
    assert_eq!(r.body.matches("accessToken=").count(), n_shares);
    let alice = share_id(&w, "noodle", "alice");
    let r = call(
        "GET",
        format!("/api/servers/{noodle}/shared_servers/{alice}"),
    )
    .token(&t)
    .send(&sb)
    .await;
    assert_eq!(r.body.matches("<SharedServer ").count(), 1);
    assert_eq!(r.body.matches(r#"shared="1""#).count(), 3);
    assert_eq!(r.body.matches(r#"shared="0""#).count(), 4);
    assert!(r
        .body
        .contains(&format!(r#"userID="{}""#, account(&w, "alice"))));
    let doodoo = mid(&w, "doodoo");
    let r = call(
        "GET",
        format!("/api/servers/{doodoo}/shared_servers/{dave_dest}"),
    )
    .token(&t)
    .send(&sb)
    .await;
    assert!(r.body.contains(r#"acceptedAt="""#), "{}", r.body);
    // A share id on the wrong server: 404.
    let r = call(
        "GET",
        format!("/api/servers/{doodoo}/shared_servers/{alice}"),
    )
    .token(&t)
    .send(&sb)
    .await;
    assert_eq!(r.status, 404);
    // Another owner's server: no managing its shares.
    let foreign = mid(&w, "friends-server");
    let r = call("GET", format!("/api/servers/{foreign}/shared_servers"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn legacy_put_replaces_the_set() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let alice = account(&w, "alice");
    let share = share_id(&w, "doodoo", "alice");
    let tv = w.section_id("doodoo", "TV SHOWS").unwrap();
    let home = w.section_id("doodoo", "Home Videos").unwrap();
    let before = w.share_for(&doodoo, alice).unwrap().settings.clone();
    let url = format!("/api/servers/{doodoo}/shared_servers/{share}");
    let put = |ids: Value| {
        call("PUT", url.clone())
            .token(&t)
            .json(json!({"server_id": doodoo, "shared_server": {"library_section_ids": ids}}))
    };

    let r = put(json!([tv, home])).send(&sb).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(xml_ok(&r.body, "MediaContainer"));
    // " movies " is gone: the list replaced the set.
    assert_eq!(
        sb.world().visible_section_ids(&doodoo, alice).unwrap(),
        BTreeSet::from([tv, home])
    );
    // Legacy PUT leaves settings alone.
    assert_eq!(
        sb.world().share_for(&doodoo, alice).unwrap().settings,
        before
    );

    // Keys, strings, ids of another server: 400 and nothing changes.
    let noodle_movies = w.section_id("noodle", "Movies").unwrap();
    for bad in [
        json!([2]),
        json!([tv.to_string()]),
        json!(format!("[{tv}]")),
        json!([noodle_movies]),
    ] {
        let r = put(bad.clone()).send(&sb).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.contains(r#"<Response code="400""#));
    }
    assert_eq!(
        sb.world().visible_section_ids(&doodoo, alice).unwrap(),
        BTreeSet::from([tv, home])
    );
    // Missing server_id or wrong content type: 400.
    let r = call("PUT", url.clone())
        .token(&t)
        .json(json!({"shared_server": {"library_section_ids": [tv]}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 400);

    // Empty list: the sandbox makes it all libraries (clients must never send it).
    assert_eq!(put(json!([])).send(&sb).await.status, 200);
    let s = sb.world().share_for(&doodoo, alice).unwrap().clone();
    assert!(s.all_libraries);
    assert_eq!(
        sb.world().visible_section_ids(&doodoo, alice).unwrap(),
        w.server_by_name("doodoo").unwrap().section_ids()
    );

    // Unknown share: 404 HTML.
    let r = call(
        "PUT",
        format!("/api/servers/{doodoo}/shared_servers/5599999"),
    )
    .token(&t)
    .json(json!({"server_id": doodoo, "shared_server": {"library_section_ids": [tv]}}))
    .send(&sb)
    .await;
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("text/html"));

    // A pending share can be edited too.
    let dave = share_id(&w, "doodoo", "dave");
    let r = call(
        "PUT",
        format!("/api/servers/{doodoo}/shared_servers/{dave}"),
    )
    .token(&t)
    .json(json!({"server_id": doodoo, "shared_server": {"library_section_ids": [tv]}}))
    .send(&sb)
    .await;
    assert_eq!(r.status, 200);
    assert!(sb.world().shares[&dave].pending);

    // DELETE one share: 200, user still listed; DELETE the collection: HTML 404.
    let r = call(
        "DELETE",
        format!("/api/servers/{doodoo}/shared_servers/{share}"),
    )
    .token(&t)
    .send(&sb)
    .await;
    assert_eq!(r.status, 200);
    assert!(sb.world().share_for(&doodoo, alice).is_none());
    let users = call("GET", "/api/users").token(&t).send(&sb).await.body;
    assert!(users.contains(&format!(r#"<User id="{alice}""#)));
    assert!(!users.contains(&format!(r#"<Server id="{share}""#)));
    let r = call("DELETE", format!("/api/servers/{doodoo}/shared_servers"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 404);
    assert!(r
        .body
        .contains("The page you were looking for doesn't exist"));
}

#[tokio::test]
async fn legacy_create_all_pending_managed_and_duplicate() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let url = format!("/api/servers/{doodoo}/shared_servers");
    let create = |shared: Value| {
        call("POST", url.clone()).token(&t).json(json!({
            "server_id": doodoo,
            "shared_server": shared,
            "sharing_settings": {"allowSync": "1", "filterMovies": ""}
        }))
    };

    // Empty list: all libraries; invited_id of a friend: accepted at once.
    let erin = account(&w, "erin");
    let r = create(json!({"library_section_ids": [], "invited_id": erin}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<SharedServer ") && r.body.contains(r#"allLibraries="1""#));
    assert_eq!(r.body.matches(r#"shared="1""#).count(), 8);
    let s = sb.world().share_for(&doodoo, erin).unwrap().clone();
    assert!(s.all_libraries && !s.pending && s.settings.allow_sync);
    assert!(r.body.contains(&format!(r#"<SharedServer id="{}""#, s.id)));

    // Already shared: 400 with plex.tv's words.
    let r = create(json!({"library_section_ids": [], "invited_email": "alice@example.com"}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains(
        r#"<Response code="400" status="You're already sharing this server with alice. Please edit your existing share."/>"#
    ));

    // A managed user (invited_id): accepted.
    let grandpa = account(&w, "Grandpa");
    let tv = w.section_id("doodoo", "TV SHOWS").unwrap();
    let r = create(json!({"library_section_ids": [tv], "invited_id": grandpa}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(!sb.world().share_for(&doodoo, grandpa).unwrap().pending);

    // An address nobody has: pending, listed with pending="1".
    let r = create(json!({"library_section_ids": [tv], "invited_email": "stranger@example.org"}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    let w2 = sb.world();
    let pending = w2
        .shares_on(&doodoo)
        .find(|s| s.invited_email.as_deref() == Some("stranger@example.org"))
        .unwrap();
    assert!(pending.pending && pending.account_id.is_none());
    let users = call("GET", "/api/users").token(&t).send(&sb).await.body;
    let line = users
        .lines()
        .find(|l| l.contains(&format!(r#"<Server id="{}""#, pending.id)))
        .unwrap();
    assert!(line.contains(r#"pending="1""#));

    // Unknown section id, and key instead of id: 400.
    let heidi = account(&w, "heidi");
    for ids in [json!([123]), json!([1, 2])] {
        let r = create(json!({"library_section_ids": ids, "invited_id": heidi}))
            .send(&sb)
            .await;
        assert_eq!(r.status, 400);
    }
    assert!(sb.world().share_for(&doodoo, heidi).is_none());
}
