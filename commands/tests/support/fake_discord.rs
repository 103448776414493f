//! A fake Discord on loopback: REST under `/api/v10` and a websocket gateway, enough for real
//! serenity and poise: the calls they make at startup and for interactions, each answered with
//! the fields serenity requires. It records every call, keeps the messages it was asked to
//! create or edit, and lets a test wait for a predicate with a timeout. Several bot connections
//! may come and go (restart tests); dispatches go to the newest.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc;

mod gateway;
mod payloads;
mod shared;

use gateway::ws_upgrade;
pub use payloads::*;
use shared::{record, Shared};
pub use shared::{Attachment, Call};

#[derive(Clone)]
pub struct FakeDiscord {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let shared = Arc::new(Shared {
            next_id: AtomicU64::new(10_000),
            ..Default::default()
        });
        let app = Router::new()
            .route("/ws", get(ws_upgrade))
            .fallback(rest)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        *shared.addr.lock().unwrap() = Some(addr);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord { addr, shared }
    }

    /// The base URL for `discord.api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// The first call (from `from` on) matching `pred`, waiting up to `timeout`.
    pub async fn wait_for_from(
        &self,
        from: usize,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Call) -> bool,
    ) -> Call {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(c) = self.calls().into_iter().skip(from).find(|c| pred(c)) {
                return c;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .calls()
                    .iter()
                    .skip(from)
                    .map(|c| {
                        format!(
                            "{} {} {}",
                            c.method,
                            c.path,
                            truncate(&c.body.to_string(), 300)
                        )
                    })
                    .collect();
                panic!(
                    "timed out waiting for {what}; calls seen:\n{}",
                    seen.join("\n")
                );
            }
        }
    }

    pub async fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Call) -> bool,
    ) -> Call {
        self.wait_for_from(0, timeout, what, pred).await
    }

    /// Index to pass to `wait_for_from` to see only what happens next.
    pub fn mark(&self) -> usize {
        self.shared.calls.lock().unwrap().len()
    }

    /// Number of live gateway connections that have identified.
    pub fn connections(&self) -> usize {
        self.shared
            .conns
            .lock()
            .unwrap()
            .iter()
            .filter(|c| !c.is_closed())
            .count()
    }

    /// Send a gateway dispatch (`t`, `d`) to the newest live connection.
    pub fn dispatch(&self, t: &str, d: Value) {
        let conn = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .rev()
            .find(|c| !c.is_closed())
            .cloned();
        let sent = conn.is_some_and(|c| c.send((t.to_string(), d.clone())).is_ok());
        assert!(sent, "no bot connected to the fake gateway");
        record(&self.shared, "DISPATCH", t, d, vec![]);
    }

    /// A message as the fake currently holds it.
    pub fn message(&self, id: u64) -> Value {
        self.shared
            .messages
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .expect("no such message")
    }

    /// The newest message posted in `channel` through `POST /channels/{id}/messages`, with the
    /// files attached to that post.
    pub fn last_post_in(&self, channel: u64) -> Option<(Value, Vec<Attachment>)> {
        let path = format!("/channels/{channel}/messages");
        let calls = self.calls();
        let call = calls
            .iter()
            .rev()
            .find(|c| c.method == "POST" && c.path == path)?;
        let messages = self.shared.messages.lock().unwrap();
        let message = messages
            .values()
            .filter(|m| m["channel_id"].as_str() == Some(channel.to_string().as_str()))
            .max_by_key(|m| m["id"].as_str().unwrap_or("0").parse::<u64>().unwrap_or(0))?
            .clone();
        Some((message, call.files.clone()))
    }

    /// The message an interaction's response created (or, for a button, is attached to).
    pub fn message_of_token(&self, token: &str) -> Option<Value> {
        let id = *self.shared.by_token.lock().unwrap().get(token)?;
        Some(self.message(id))
    }
}

pub fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

async fn read_body(req: Request) -> (Value, Vec<(String, Vec<u8>)>) {
    let multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    if multipart {
        let mut body = Value::Null;
        let mut files = Vec::new();
        if let Ok(mut mp) = Multipart::from_request(req, &()).await {
            while let Ok(Some(field)) = mp.next_field().await {
                let name = field.name().unwrap_or_default().to_string();
                let filename = field.file_name().map(str::to_string);
                let bytes = field.bytes().await.unwrap_or_default();
                if name == "payload_json" {
                    body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                } else {
                    files.push((filename.unwrap_or(name), bytes.to_vec()));
                }
            }
        }
        return (body, files);
    }
    let bytes = Bytes::from_request(req, &()).await.unwrap_or_default();
    (
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        vec![],
    )
}

fn not_found(path: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": format!("fake Discord has no route for {path}"), "code": 0})),
    )
        .into_response()
}

async fn rest(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let full = req.uri().path().to_string();
    let Some(path) = full.strip_prefix("/api/v10") else {
        record(&shared, method.as_str(), &full, Value::Null, vec![]);
        return not_found(&full);
    };
    let path = path.to_string();
    let (body, files) = read_body(req).await;
    let response = route(&shared, &method, &path, body.clone()).await;
    record(&shared, method.as_str(), &path, body, files);
    response
}

/// Answer a REST call; recorded only after its effects (a message edit) are visible.
async fn route(shared: &Shared, method: &Method, path: &str, body: Value) -> Response {
    let path = path.to_string();
    let addr = shared.addr.lock().unwrap().expect("addr");
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let new_id = || shared.next_id.fetch_add(1, Ordering::SeqCst);
    match (method, seg.as_slice()) {
        (&Method::GET, ["gateway"]) => Json(json!({"url": format!("ws://{addr}/ws")})).into_response(),
        (&Method::GET, ["gateway", "bot"]) => Json(json!({
            "url": format!("ws://{addr}/ws"), "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        }))
        .into_response(),
        (&Method::GET, ["oauth2", "applications", "@me"]) => Json(json!({
            "id": APP_ID.to_string(), "name": "sharesync", "icon": null, "description": "", "bot_public": false,
            "bot_require_code_grant": false, "verify_key": "00", "team": null, "owner": user_json(1, "owner", false), "flags": 0
        }))
        .into_response(),
        (&Method::PUT, ["applications", _, "guilds", _, "commands"]) | (&Method::PUT, ["applications", _, "commands"]) => {
            let cmds: Vec<Value> = body
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut c| {
                    c["id"] = json!(new_id().to_string());
                    c["application_id"] = json!(APP_ID.to_string());
                    c["version"] = json!("1");
                    if c.get("type").is_none() {
                        c["type"] = json!(1);
                    }
                    if c.get("description").is_none() {
                        c["description"] = json!("");
                    }
                    c
                })
                .collect();
            Json(Value::Array(cmds)).into_response()
        }
        (&Method::POST, ["interactions", _, token, "callback"]) => {
            let token = token.to_string();
            let data = body.get("data").cloned().unwrap_or(Value::Null);
            match body.get("type").and_then(Value::as_u64) {
                Some(4) | Some(5) => {
                    let id = new_id();
                    shared.messages.lock().unwrap().insert(id, message_json(id, CHANNEL_ID, &data));
                    shared.by_token.lock().unwrap().insert(token.clone(), id);
                    if body["type"] == 5 {
                        shared.deferred.lock().unwrap().insert(token);
                    }
                }
                Some(7) => {
                    if let Some(id) = shared.by_token.lock().unwrap().get(&token).copied() {
                        if let Some(m) = shared.messages.lock().unwrap().get_mut(&id) {
                            merge(m, &data);
                        }
                    }
                }
                _ => {}
            }
            StatusCode::NO_CONTENT.into_response()
        }
        (&Method::POST, ["webhooks", _, token]) => {
            let token = token.to_string();
            // Discord: the first follow-up after a deferred response fills the placeholder.
            let filled = shared.deferred.lock().unwrap().remove(&token);
            let id = match shared.by_token.lock().unwrap().get(&token).copied() {
                Some(id) if filled => id,
                _ => new_id(),
            };
            let m = message_json(id, CHANNEL_ID, &body);
            shared.messages.lock().unwrap().insert(id, m.clone());
            shared.by_token.lock().unwrap().entry(token).or_insert(id);
            Json(m).into_response()
        }
        (m, ["webhooks", _, token, "messages", which]) => {
            let id = if *which == "@original" {
                shared.by_token.lock().unwrap().get(*token).copied()
            } else {
                which.parse().ok()
            };
            let Some(id) = id else { return not_found(&path) };
            let mut messages = shared.messages.lock().unwrap();
            match *m {
                Method::DELETE => {
                    messages.remove(&id);
                    StatusCode::NO_CONTENT.into_response()
                }
                Method::PATCH => {
                    shared.deferred.lock().unwrap().remove(*token);
                    let msg = messages.entry(id).or_insert_with(|| message_json(id, CHANNEL_ID, &Value::Null));
                    merge(msg, &body);
                    Json(msg.clone()).into_response()
                }
                _ => match messages.get(&id) {
                    Some(msg) => Json(msg.clone()).into_response(),
                    None => not_found(&path),
                },
            }
        }
        (&Method::POST, ["channels", channel, "messages"]) => {
            let id = new_id();
            let m = message_json(id, channel.parse().unwrap_or(CHANNEL_ID), &body);
            shared.messages.lock().unwrap().insert(id, m.clone());
            Json(m).into_response()
        }
        (&Method::PATCH, ["channels", channel, "messages", id]) => {
            let Ok(id) = id.parse::<u64>() else { return not_found(&path) };
            let mut messages = shared.messages.lock().unwrap();
            let msg = messages
                .entry(id)
                .or_insert_with(|| message_json(id, channel.parse().unwrap_or(CHANNEL_ID), &Value::Null));
            merge(msg, &body);
            Json(msg.clone()).into_response()
        }
        _ => not_found(&path),
    }
}

impl FakeDiscord {
    /// Remember which message a button press is attached to (its type 7 response edits it).
    pub fn attach_token(&self, token: &str, message_id: u64) {
        self.shared
            .by_token
            .lock()
            .unwrap()
            .insert(token.to_string(), message_id);
    }
}
