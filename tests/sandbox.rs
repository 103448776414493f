//! The simulated plex.tv itself, over raw HTTP: auth and error shapes of both families,
//! content negotiation, write semantics, retired endpoints, faults, the request log, PINs,
//! sign-in, and scenarios.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario, ScenarioError, World};

#[path = "sandbox/auth.rs"]
mod auth;
#[path = "sandbox/faults.rs"]
mod faults;
#[path = "sandbox/legacy.rs"]
mod legacy;
#[path = "sandbox/scenarios.rs"]
mod scenarios;
#[path = "sandbox/v2.rs"]
mod v2;

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

/// A call with `token` that asks for JSON, as the v2 client's calls do.
fn json_call<'a>(method: &'a str, path: impl Into<String>, token: &str) -> Call<'a> {
    call(method, path).token(token).accept_json()
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
