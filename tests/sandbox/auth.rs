//! Authentication: tokens and client identifiers in both families, content negotiation, PINs,
//! sign-in with two-factor codes and lockout.

use super::*;

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
    let r = json_call("GET", "/api/users", &t).send(&sb).await;
    assert!(r.content_type.starts_with("application/xml"));
    assert!(xml_ok(&r.body, "MediaContainer"), "{}", r.body);
    // v2: JSON only when asked.
    let r = json_call("GET", "/api/v2/resources", &t).send(&sb).await;
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
    let me = json_call("GET", "/api/v2/user", &token).send(&sb).await;
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
