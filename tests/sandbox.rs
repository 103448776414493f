//! The simulated plex.tv itself, over raw HTTP: auth and error shapes of both families,
//! content negotiation, write semantics, retired endpoints, faults, the request log, PINs,
//! sign-in, and scenarios.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario, ScenarioError, World};

const CID: &str = "sandbox-test-client";

struct Resp {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// One request. `token`/`cid` go in headers; `accept_json` sets `Accept: application/json`.
struct Call<'a> {
    method: &'a str,
    path: String,
    token: Option<String>,
    cid: bool,
    accept_json: bool,
    json: Option<Value>,
    form: Option<Vec<(&'a str, &'a str)>>,
}

fn call<'a>(method: &'a str, path: impl Into<String>) -> Call<'a> {
    Call {
        method,
        path: path.into(),
        token: None,
        cid: true,
        accept_json: false,
        json: None,
        form: None,
    }
}

impl<'a> Call<'a> {
    fn token(mut self, t: &str) -> Self {
        self.token = Some(t.into());
        self
    }
    fn no_cid(mut self) -> Self {
        self.cid = false;
        self
    }
    fn accept_json(mut self) -> Self {
        self.accept_json = true;
        self
    }
    fn json(mut self, v: Value) -> Self {
        self.json = Some(v);
        self
    }
    fn form(mut self, f: Vec<(&'a str, &'a str)>) -> Self {
        self.form = Some(f);
        self
    }

    async fn send(self, sb: &Sandbox) -> Resp {
        self.try_send(sb, &http()).await.expect("request")
    }

    async fn try_send(
        self,
        sb: &Sandbox,
        client: &reqwest::Client,
    ) -> Result<Resp, reqwest::Error> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut rb = client.request(method, format!("{}{}", sb.url(), self.path));
        if let Some(t) = &self.token {
            rb = rb.header("X-Plex-Token", t);
        }
        if self.cid {
            rb = rb
                .header("X-Plex-Client-Identifier", CID)
                .header("X-Plex-Product", "sandbox-tests");
        }
        if self.accept_json {
            rb = rb.header("Accept", "application/json");
        }
        if let Some(j) = &self.json {
            rb = rb.json(j);
        }
        if let Some(f) = &self.form {
            rb = rb.form(f);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let body = r.text().await?;
        Ok(Resp {
            status,
            content_type,
            retry_after,
            body,
        })
    }
}

async fn demo() -> Sandbox {
    Sandbox::start(Scenario::demo()).await.unwrap()
}

fn mid(w: &World, name: &str) -> String {
    w.server_by_name(name).unwrap().machine_id.clone()
}

fn account(w: &World, name: &str) -> u64 {
    w.account_by_name(name).unwrap().id
}

fn share_id(w: &World, server: &str, who: &str) -> u64 {
    w.share_for(&mid(w, server), account(w, who)).unwrap().id
}

fn xml_ok(body: &str, root: &str) -> bool {
    body.starts_with("<?xml") && body.trim_end().ends_with(&format!("</{root}>"))
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_failures_in_both_families() {
    let sb = demo().await;
    let token = sb.owner_token();

    for t in [None, Some("not-a-token")] {
        let mut c = call("GET", "/api/users");
        if let Some(t) = t {
            c = c.token(t);
        }
        let r = c.send(&sb).await;
        assert_eq!(r.status, 401);
        assert!(
            r.content_type.starts_with("application/xml"),
            "{}",
            r.content_type
        );
        assert!(
            r.body.contains("<errors>")
                && r.body
                    .contains("<error>Invalid authentication token.</error>")
        );

        let mut c = call("GET", "/api/v2/user").accept_json();
        if let Some(t) = t {
            c = c.token(t);
        }
        let r = c.send(&sb).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json(),
            json!({"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]})
        );
    }
    // v2 XML error when Accept isn't JSON.
    let r = call("GET", "/api/v2/user").token("nope").send(&sb).await;
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains(
            r#"<error code="1001" message="User could not be authenticated" status="401"/>"#
        ),
        "{}",
        r.body
    );
    // v2 without a client identifier: 400 code 1000, even with a good token.
    let r = call("GET", "/api/v2/user")
        .token(&token)
        .no_cid()
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["code"], 1000);
    // Legacy does not need one.
    let r = call("GET", "/api/users")
        .token(&token)
        .no_cid()
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    // Token and client identifier as query parameters.
    let r = call(
        "GET",
        format!("/api/v2/user?X-Plex-Token={token}&X-Plex-Client-Identifier=q"),
    )
    .no_cid()
    .accept_json()
    .send(&sb)
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["username"], "sandbox-owner");
    assert_eq!(r.json()["authToken"], token.as_str());
    let r = call("GET", format!("/api/users?X-Plex-Token={token}"))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    // Sign-out invalidates the token.
    let t2 = sb.with_world(|w| {
        let id = w.owner.id;
        w.issue_token(id)
    });
    assert_eq!(
        call("DELETE", "/api/v2/users/signout")
            .token(&t2)
            .send(&sb)
            .await
            .status,
        204
    );
    assert_eq!(
        call("GET", "/api/v2/user")
            .token(&t2)
            .send(&sb)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn content_negotiation() {
    let sb = demo().await;
    let t = sb.owner_token();
    // Legacy: XML whatever Accept says.
    let r = call("GET", "/api/users")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert!(r.content_type.starts_with("application/xml"));
    assert!(xml_ok(&r.body, "MediaContainer"), "{}", r.body);
    // v2: JSON only when asked.
    let r = call("GET", "/api/v2/resources")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert!(r.content_type.starts_with("application/json"));
    let list = r.json();
    assert!(list.as_array().unwrap().len() >= 5);
    let r = call("GET", "/api/v2/resources").token(&t).send(&sb).await;
    assert!(r.content_type.starts_with("application/xml"));
    assert!(
        r.body.contains("<resources size=")
            && r.body.contains("<resource ")
            && r.body.contains("<connection ")
    );
    assert!(r.body.contains(r#"owned="1""#), "v2 XML booleans are 0/1");
    // JSON timestamps are ISO strings, XML ones epoch seconds.
    let w = sb.world();
    let noodle = w.server_by_name("noodle").unwrap();
    let json_res = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["clientIdentifier"] == noodle.machine_id.as_str())
        .unwrap();
    assert!(json_res["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(r
        .body
        .contains(&format!(r#"createdAt="{}""#, noodle.created_at)));
    // Resources: tokens, a non-server device, a server owned by someone else.
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["accessToken"].is_string()));
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["provides"] != "server" && r["owned"] == true));
    let foreign = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "friends-server")
        .unwrap();
    assert_eq!(foreign["owned"], false);
    assert_eq!(foreign["ownerId"], account(&w, "ivan"));
    // Legacy resources: Device elements.
    let r = call("GET", "/api/resources?includeHttps=1")
        .token(&t)
        .send(&sb)
        .await;
    assert!(
        r.body.contains("<Device ")
            && r.body.contains("<Connection ")
            && r.body.contains("accessToken=")
    );
}

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

#[tokio::test]
async fn v2_reads_and_writes() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");

    // Catalogue: id/key/title/type, createdAt an epoch int.
    let r = call("GET", format!("/api/v2/servers/{doodoo}"))
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    let v = r.json();
    assert_eq!(v["librarySections"].as_array().unwrap().len(), 8);
    assert!(v["createdAt"].is_i64());
    let r = call("GET", "/api/v2/servers/nope")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], 1002);

    // Accepted shares: no pending ones, tokens present, only shared libraries listed.
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .accept_json()
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
    let r = call("GET", "/api/v2/shared_servers/invites/owned/pending")
        .token(&t)
        .accept_json()
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
    let r = call("GET", "/api/v2/friends")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    let friends = r.json();
    assert_eq!(friends.as_array().unwrap().len(), w.accounts.len());
    assert!(friends
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["sharedServers"].as_array().unwrap().is_empty()));
    let r = call(
        "GET",
        "/api/v2/friends?includeSharedServers=true&includeSharingSettings=true",
    )
    .token(&t)
    .accept_json()
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
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .accept_json()
        .json(body.clone())
        .send(&sb)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    assert_eq!(created["invitedId"], erin);
    assert_eq!(created["allLibraries"], false);
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .accept_json()
        .json(body)
        .send(&sb)
        .await;
    assert_eq!(r.status, 422);
    let heidi = account(&w, "heidi");
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .accept_json()
        .json(json!({"machineIdentifier": doodoo, "invitedId": heidi, "librarySectionIds": []}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 201);
    assert!(sb.world().share_for(&doodoo, heidi).unwrap().all_libraries);

    // Update replaces libraries AND settings: omitted settings go back to the defaults.
    let id = created["id"].as_u64().unwrap();
    let home = w.section_id("doodoo", "Home Videos").unwrap();
    let r = call("POST", format!("/api/v2/shared_servers/{id}"))
        .token(&t)
        .accept_json()
        .json(json!({"librarySectionIds": [home]}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = sb.world().shares[&id].clone();
    assert_eq!(s.section_ids, BTreeSet::from([home]));
    assert!(!s.settings.allow_sync && s.settings.allow_tuners == 0);
    // ...and sent back, they stay.
    let r = call("POST", format!("/api/v2/shared_servers/{id}"))
        .token(&t)
        .accept_json()
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
        let r = call("POST", format!("/api/v2/shared_servers/{id}"))
            .token(&t)
            .accept_json()
            .json(bad)
            .send(&sb)
            .await;
        assert_eq!(r.status, 422);
    }
    assert_eq!(
        call("POST", "/api/v2/shared_servers/5599999")
            .token(&t)
            .accept_json()
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
    let r = call("GET", "/api/v2/nothing")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"errors":[{"code":1002,"message":"The requested resource or endpoint could not be found","status":404}]})
    );
}

#[tokio::test]
async fn faults_rate_limit_and_server_errors() {
    let sb = demo().await;
    let t = sb.owner_token();
    sb.inject(Fault::new(
        FaultTarget::Any,
        FaultKind::RateLimit {
            retry_after_secs: Some(7),
        },
        2,
    ));
    for _ in 0..2 {
        let r = call("GET", "/api/users").token(&t).send(&sb).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after.as_deref(), Some("7"));
        assert!(r.body.is_empty());
    }
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    assert!(sb.pending_faults().is_empty());

    sb.inject(Fault::once(FaultKind::RateLimit {
        retry_after_secs: None,
    }));
    let r = call("GET", "/api/v2/user")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 429);
    assert!(r.retry_after.is_none());
    assert_eq!(r.json()["errors"][0]["status"], 429);

    // Targets: a write fault leaves reads alone; a path fault only hits its path.
    sb.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::ServerError(503),
        1,
    ));
    sb.inject(Fault::new(
        FaultTarget::PathContains("/owned/accepted".into()),
        FaultKind::ServerError(500),
        1,
    ));
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 500);
    assert!(r.content_type.starts_with("text/plain"));
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .json(json!({"machineIdentifier": doodoo, "invitedId": account(&w, "heidi"), "librarySectionIds": []}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 503);
    assert!(r.content_type.starts_with("text/html") && r.body.contains("nginx"));
    assert!(
        sb.world()
            .share_for(&doodoo, account(&w, "heidi"))
            .is_none(),
        "a 5xx fault changes nothing"
    );
    sb.inject(Fault::new(
        FaultTarget::Reads,
        FaultKind::ServerError(502),
        1,
    ));
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        502
    );
}

#[tokio::test]
async fn faults_bodies_catalogue_delay_and_drop() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let noodle = mid(&w, "noodle");

    // Malformed: 200 and unparsable, in JSON and XML.
    sb.inject(Fault::new(FaultTarget::Any, FaultKind::MalformedBody, 2));
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    let r = call("GET", "/api/users").token(&t).send(&sb).await;
    assert_eq!(r.status, 200);
    assert!(!xml_ok(&r.body, "MediaContainer"));

    // Truncated: half the list, no closing.
    sb.inject(Fault::new(FaultTarget::Reads, FaultKind::TruncatedBody, 2));
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert!(r.body.starts_with('[') && !r.body.ends_with(']'));
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    let r = call("GET", format!("/api/servers/{noodle}/shared_servers"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("<?xml") && !r.body.contains("</MediaContainer>"));
    let n = w.shares_on(&noodle).count();
    assert_eq!(r.body.matches("<SharedServer ").count(), n / 2);
    assert!(r.body.contains(&format!(r#"size="{n}""#)));

    // Empty catalogue: only catalogue requests take it.
    sb.inject(Fault::new(FaultTarget::Any, FaultKind::EmptyCatalogue, 2));
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    assert_eq!(sb.pending_faults().len(), 1);
    let r = call("GET", format!("/api/servers/{noodle}"))
        .token(&t)
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Server ") && !r.body.contains("<Section "));
    let r = call("GET", format!("/api/v2/servers/{noodle}"))
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.json()["librarySections"], json!([]));
    assert!(sb.pending_faults().is_empty());
    let r = call("GET", format!("/api/v2/servers/{noodle}"))
        .token(&t)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.json()["librarySections"].as_array().unwrap().len(), 7);

    // Delay: the client times out; a write still lands.
    sb.inject(Fault::once(FaultKind::Delay(Duration::from_millis(400))));
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let heidi = account(&w, "heidi");
    let err = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .json(json!({"machineIdentifier": noodle, "invitedId": heidi, "librarySectionIds": []}))
        .try_send(&sb, &impatient)
        .await
        .err()
        .expect("timed out");
    assert!(err.is_timeout(), "{err}");
    assert!(sb.world().share_for(&noodle, heidi).is_some());
    // Delayed but in time.
    sb.inject(Fault::once(FaultKind::Delay(Duration::from_millis(50))));
    let start = Instant::now();
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
    assert!(start.elapsed() >= Duration::from_millis(50));

    // Dropped connection: no HTTP response at all; recorded with status 0; nothing changes.
    sb.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::DropConnection,
        1,
    ));
    let grandpa = account(&w, "Grandpa");
    let err = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .json(json!({"machineIdentifier": noodle, "invitedId": grandpa, "librarySectionIds": []}))
        .try_send(&sb, &http())
        .await
        .err()
        .expect("dropped");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert!(sb.world().share_for(&noodle, grandpa).is_none());
    assert_eq!(sb.requests().last().unwrap().status, 0);
    // The server is fine afterwards.
    assert_eq!(
        call("GET", "/api/users").token(&t).send(&sb).await.status,
        200
    );
}

#[tokio::test]
async fn request_log_and_latency() {
    let sb = demo().await;
    let t = sb.owner_token();
    sb.clear_requests();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let share = share_id(&w, "doodoo", "alice");
    let tv = w.section_id("doodoo", "TV SHOWS").unwrap();
    call("GET", "/api/users?includeHttps=1")
        .token(&t)
        .send(&sb)
        .await;
    call(
        "PUT",
        format!("/api/servers/{doodoo}/shared_servers/{share}"),
    )
    .token(&t)
    .json(json!({"server_id": doodoo, "shared_server": {"library_section_ids": [tv]}}))
    .send(&sb)
    .await;
    call("GET", "/api/v2/user").send(&sb).await;
    let log = sb.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(
        (
            log[0].method.as_str(),
            log[0].path.as_str(),
            log[0].query.as_str()
        ),
        ("GET", "/api/users", "includeHttps=1")
    );
    assert_eq!(log[0].query_param("includeHttps").as_deref(), Some("1"));
    assert_eq!(log[0].header("X-Plex-Token"), Some(t.as_str()));
    assert_eq!(
        log[0]
            .headers
            .get("x-plex-client-identifier")
            .map(String::as_str),
        Some(CID)
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].method, "PUT");
    assert_eq!(
        log[1].json().unwrap()["shared_server"]["library_section_ids"],
        json!([tv])
    );
    assert_eq!(log[2].status, 401);
    sb.clear_requests();
    assert!(sb.requests().is_empty());

    sb.set_latency(Duration::from_millis(30));
    let start = Instant::now();
    call("GET", "/api/nothing").send(&sb).await;
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[tokio::test]
async fn pin_flow() {
    let sb = demo().await;
    assert_eq!(
        call("POST", "/api/v2/pins")
            .no_cid()
            .accept_json()
            .send(&sb)
            .await
            .status,
        400
    );
    let r = call("POST", "/api/v2/pins").accept_json().send(&sb).await;
    assert_eq!(r.status, 201);
    let pin = r.json();
    let id = pin["id"].as_u64().unwrap();
    assert_eq!(pin["code"].as_str().unwrap().len(), 4);
    assert_eq!(pin["expiresIn"], 900);
    assert!(pin["authToken"].is_null());
    assert_eq!(pin["clientIdentifier"], CID);
    let strong = call("POST", "/api/v2/pins?strong=true")
        .accept_json()
        .send(&sb)
        .await
        .json();
    assert_eq!(strong["code"].as_str().unwrap().len(), 25);

    // Polling: same client only; null until linked.
    let r = call("GET", format!("/api/v2/pins/{id}"))
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["authToken"].is_null());
    let other = http()
        .get(format!("{}/api/v2/pins/{id}", sb.url()))
        .header("X-Plex-Client-Identifier", "someone-else")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
    sb.approve_pin(id);
    let r = call("GET", format!("/api/v2/pins/{id}"))
        .accept_json()
        .send(&sb)
        .await;
    let token = r.json()["authToken"].as_str().unwrap().to_string();
    let me = call("GET", "/api/v2/user")
        .token(&token)
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "sandbox-owner");
    // XML form.
    let r = call("GET", format!("/api/v2/pins/{id}")).send(&sb).await;
    assert!(r.body.contains("<pin ") && r.body.contains(&format!(r#"authToken="{token}""#)));

    // Expired or unknown: 404 code 1020.
    sb.with_world(|w| w.pins.get_mut(&id).unwrap().expires_at = 0);
    let r = call("GET", format!("/api/v2/pins/{id}"))
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], 1020);
    let r = call("GET", "/api/v2/pins/12345")
        .accept_json()
        .send(&sb)
        .await;
    assert_eq!(r.json()["errors"][0]["code"], 1020);
}

#[tokio::test]
async fn sign_in_two_factor_and_lockout() {
    let scenario = Scenario::builder()
        .owner("owner")
        .owner_password("correct horse", Some("123456"))
        .server("noodle", &[("Movies", "movie")])
        .friend_with_password("pal", "pal-pass", None)
        .build();
    let sb = Sandbox::start(scenario).await.unwrap();
    let signin = |fields: Vec<(&'static str, &'static str)>| {
        call("POST", "/api/v2/users/signin")
            .accept_json()
            .form(fields)
    };

    let r = signin(vec![("login", "owner"), ("password", "correct horse")])
        .send(&sb)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errors"][0]["code"], 1029);
    assert_eq!(
        r.json()["errors"][0]["message"],
        "Please enter the verification code"
    );
    let r = signin(vec![("login", "owner"), ("password", "wrong")])
        .send(&sb)
        .await;
    assert_eq!(r.json()["errors"][0]["code"], 1001);
    let r = signin(vec![
        ("login", "owner@example.com"),
        ("password", "correct horse"),
        ("verificationCode", "123456"),
    ])
    .send(&sb)
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.json()["authToken"].as_str().unwrap().to_string();
    assert_ne!(token, sb.owner_token());
    assert_eq!(
        call("GET", "/api/users")
            .token(&token)
            .send(&sb)
            .await
            .status,
        200
    );
    // XML answer without Accept JSON.
    let r = call("POST", "/api/v2/users/signin")
        .form(vec![("login", "pal"), ("password", "pal-pass")])
        .send(&sb)
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.contains("<user ") && r.body.contains("authToken="));
    // No client identifier: 400.
    let r = call("POST", "/api/v2/users/signin")
        .no_cid()
        .accept_json()
        .form(vec![("login", "pal")])
        .send(&sb)
        .await;
    assert_eq!(r.status, 400);

    // Five failures: 1031 for everyone, even with the right password.
    for _ in 0..5 {
        let r = signin(vec![("login", "pal"), ("password", "nope")])
            .send(&sb)
            .await;
        assert_eq!(r.json()["errors"][0]["code"], 1001);
    }
    let r = signin(vec![("login", "pal"), ("password", "pal-pass")])
        .send(&sb)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errors"][0]["code"], 1031);
    sb.with_world(|w| w.signin_failures = 0);
    assert_eq!(
        signin(vec![("login", "pal"), ("password", "pal-pass")])
            .send(&sb)
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn with_world_edits_are_served_and_shutdown_stops() {
    let sb = demo().await;
    let t = sb.owner_token();
    let w = sb.world();
    let doodoo = mid(&w, "doodoo");
    let alice = account(&w, "alice");
    let home = w.section_id("doodoo", "Home Videos").unwrap();
    // Another admin adds a library to alice's share behind the client's back.
    sb.with_world(|w| {
        let id = w.share_for(&doodoo, alice).unwrap().id;
        w.shares.get_mut(&id).unwrap().section_ids.insert(home);
    });
    let share = share_id(&w, "doodoo", "alice");
    let r = call(
        "GET",
        format!("/api/servers/{doodoo}/shared_servers/{share}"),
    )
    .token(&t)
    .send(&sb)
    .await;
    assert_eq!(r.body.matches(r#"shared="1""#).count(), 2);
    let url = sb.url();
    sb.shutdown().await;
    assert!(http().get(format!("{url}/api/users")).send().await.is_err());
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

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
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .accept_json()
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
    let r = call("GET", "/api/v2/shared_servers/owned/accepted")
        .token(&t)
        .accept_json()
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
    let r = call("POST", format!("/api/v2/shared_servers/{alice_share}"))
        .token(&t)
        .accept_json()
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
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .accept_json()
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
    let r = call("POST", format!("/api/v2/shared_servers/{kiddo_share}"))
        .token(&t)
        .accept_json()
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
    let r = call("POST", "/api/v2/shared_servers")
        .token(&t)
        .accept_json()
        .json(json!({"machineIdentifier": noodle, "invitedId": teen,
                     "librarySectionIds": [n_movies], "settings": {"filterMovies": "label!=Horror"}}))
        .send(&sb)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
