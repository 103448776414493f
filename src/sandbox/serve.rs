//! The HTTP side: one axum fallback handler takes every request, applies the next matching fault,
//! routes it to the legacy or v2 family under the world lock, records it and answers.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::conn::Conn;
use super::faults::{FaultKind, FaultQueue};
use super::request::{RecordedRequest, Req};
use super::wire::{self, Reply};
use super::world::World;
use super::{legacy, v2};

/// What the handle and every request share.
pub(crate) struct Shared {
    /// The state every route reads and writes.
    pub world: Mutex<World>,
    /// Faults waiting for a matching request.
    pub faults: Mutex<FaultQueue>,
    /// Every request so far, in arrival order.
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Added to every response.
    pub latency: Mutex<Duration>,
    /// Set once the server is stopping: wakes delayed answers.
    pub stopping: watch::Sender<bool>,
}

/// A lock that a panicked holder does not poison for the rest of the test.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The whole of one request's handling, under the world lock.
fn route(shared: &Shared, req: &Req, empty_catalogue: bool) -> Reply {
    let mut world = lock(&shared.world);
    if req.path == "/api/v2" || req.path.starts_with("/api/v2/") {
        v2::handle(&mut world, req, empty_catalogue)
    } else if req.path.starts_with("/api/") {
        legacy::handle(&mut world, req, empty_catalogue)
    } else {
        wire::html_404()
    }
}

/// The one handler: every request of both families comes through here.
pub(crate) async fn entry(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let query = parts.uri.query().unwrap_or("").to_string();
    let req = Req {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        params: url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        query,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };

    let fault = lock(&shared.faults).take(&req.method, &req.path);
    let mut delay = *lock(&shared.latency);
    let (status, headers, body) = match fault {
        Some(FaultKind::DropConnection) => {
            record(&shared, req, 0);
            conn.kill.store(true, Ordering::SeqCst);
            pause(&shared, delay).await;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(FaultKind::RateLimit { retry_after_secs }) => {
            let mut reply = if req.path.starts_with("/api/v2") {
                wire::v2_error(req.wants_json(), 429, 1003, "Too Many Requests")
            } else {
                Reply::new(429, wire::Body::Empty)
            };
            if let Some(s) = retry_after_secs {
                reply = reply.header("retry-after", s);
            }
            finish(&reply, reply.render())
        }
        Some(FaultKind::ServerError(code)) => {
            let reply = wire::server_error(code);
            finish(&reply, reply.render())
        }
        Some(FaultKind::MalformedBody) => {
            let mut reply = route(&shared, &req, false);
            reply.status = 200;
            finish(&reply, reply.render_malformed())
        }
        Some(FaultKind::TruncatedBody) => {
            let mut reply = route(&shared, &req, false);
            reply.status = 200;
            finish(&reply, reply.render_truncated())
        }
        Some(FaultKind::Delay(d)) => {
            delay += d;
            let reply = route(&shared, &req, false);
            finish(&reply, reply.render())
        }
        Some(FaultKind::EmptyCatalogue) => {
            let reply = route(&shared, &req, true);
            finish(&reply, reply.render())
        }
        None => {
            let reply = route(&shared, &req, false);
            finish(&reply, reply.render())
        }
    };
    record(&shared, req, status);
    pause(&shared, delay).await;

    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn finish(reply: &Reply, body: String) -> (u16, Vec<(String, String)>, String) {
    let mut headers = reply.headers.clone();
    if let Some(ct) = reply.content_type() {
        headers.push(("content-type".into(), ct.into()));
    }
    headers.push(("cache-control".into(), "no-cache".into()));
    (reply.status, headers, body)
}

fn record(shared: &Shared, req: Req, status: u16) {
    lock(&shared.requests).push(RecordedRequest {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        body: req.body,
        status,
    });
}

/// Sleep, unless the sandbox is stopping.
async fn pause(shared: &Shared, d: Duration) {
    if d.is_zero() {
        return;
    }
    let mut stop = shared.stopping.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}
