//! A simulated plex.tv: the test fake and the credential-free demo (`sharesync sync --sandbox`).
//!
//! It serves both API families on one loopback address (standing in for `https://plex.tv` and
//! `https://clients.plex.tv`) and is deliberately as unkind as the real service, following
//! `plex-tv-api.md` §10: tokens are required everywhere but sign-in and PINs, v2 requires a
//! client identifier, legacy answers XML whatever `Accept` says, v2 answers XML unless asked
//! for JSON, writes replace whole sets, v2 updates reset omitted settings, removed endpoints
//! answer 410, unrouted paths get Rails' HTML 404, and every response that can carry tokens
//! does. Faults (429, 5xx, delays, garbage, cut lists, empty catalogues, dropped connections)
//! and latency can be injected; every request is recorded.
//!
//! Choices where plex-tv-api.md is silent (real plex.tv may differ; clients must not rely on
//! them): legacy 404s for unknown records are the same Rails HTML page as unrouted paths; legacy
//! 400/403 use `<Response code status/>`; legacy writes need `Content-Type: application/json`
//! and a `server_id` equal to the URL's; unknown or foreign section ids and non-numeric ids are
//! refused (legacy 400, v2 422 code 2000); an empty list on update means all libraries; a v2
//! duplicate share is 422 code 2001; a wrong verification code is 401 code 1029 again and
//! counts as a failure; after 5 failed sign-ins every sign-in answers 1031 until
//! `World::signin_failures` is reset; invites to addresses without an account appear in
//! `/api/users` with no `id` and an empty title, and in shared_servers with no `userID`; pending
//! shares have `acceptedAt=""`; v2 XML booleans are "1"/"0" and its timestamps epoch seconds;
//! an all-libraries share's v2 `libraries` holds its stale explicit list (often empty); a
//! non-owner token sees empty lists and cannot manage the owner's shares; 429s carry code 1003
//! on v2 and an empty body on legacy; shares in `World::omit_settings` come back from v2 reads
//! with `sharingSettings: null` while `invited` carries different, account-level settings, as
//! plex.tv's reads sometimes do; shares in `World::partial_settings` come back with some
//! settings keys missing (v2) or the `filterMovies` attribute missing (legacy); a managed
//! user with a restriction profile refuses any write that changes its label filters, as
//! plex.tv is reported to (v2 422 code 2002, legacy 400 `<Response>`: the same statuses as a
//! duplicate share, so a client cannot tell them apart without re-reading).
//!
//! `World::legacy_drift` makes the two families disagree on purpose (a share hidden, other
//! libraries, all libraries, pending flipped) in the legacy reads only, as plex.tv did when one
//! family changed under the other; `doctor --deep` must name each disagreement.
//!
//! Layout: `world.rs` state, `scenario.rs` starting states, `legacy.rs` / `v2.rs` routes,
//! `faults.rs` injected faults, `wire.rs` rendering and error shapes.

mod faults;
mod legacy;
mod scenario;
mod v2;
mod wire;
mod world;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultKind, FaultTarget};
pub use scenario::{LibraryRef, Scenario, ScenarioBuilder, ScenarioError, SettingsSpec};
pub use world::{
    AccountRecord, CreatedSettings, DeviceRecord, LegacyDrift, PinRecord, SectionRecord,
    ServerRecord, SettingsRecord, ShareRecord, World,
};

use faults::FaultQueue;
use wire::Reply;

/// One request as the sandbox received it, and the status it answered (0: connection dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    /// Lower-cased names; repeated headers joined with ", ".
    pub headers: HashMap<String, String>,
    pub body: String,
    pub status: u16,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

struct Shared {
    world: Mutex<World>,
    faults: Mutex<FaultQueue>,
    requests: Mutex<Vec<RecordedRequest>>,
    latency: Mutex<Duration>,
    /// Set once the server is stopping: wakes delayed answers.
    stopping: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running simulated plex.tv. Dropping it (or [`Sandbox::shutdown`]) stops it.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    owner_token: String,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Serve `scenario` on `127.0.0.1:0`.
    pub async fn start(scenario: Scenario) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Sandbox::serve(listener, scenario, std::future::pending()).await
    }

    /// Serve `scenario` on `listener` until `shutdown` completes or the handle is dropped.
    pub async fn serve(
        listener: TcpListener,
        scenario: Scenario,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<Sandbox> {
        let addr = listener.local_addr()?;
        let mut world = scenario.into_world();
        let owner_token = world.issue_token(world.owner.id);
        let (stopping, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            faults: Mutex::new(FaultQueue::default()),
            requests: Mutex::new(Vec::new()),
            latency: Mutex::new(Duration::ZERO),
            stopping,
        });
        let app = axum::Router::new()
            .fallback(entry)
            .with_state(shared.clone());
        let signal = {
            let shared = shared.clone();
            let mut stop = shared.stopping.subscribe();
            async move {
                tokio::select! {
                    _ = shutdown => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
                shared.stopping.send_replace(true);
            }
        };
        let task = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<Conn>();
            let _ = axum::serve(KillableListener(listener), service)
                .with_graceful_shutdown(signal)
                .await;
        });
        Ok(Sandbox {
            shared,
            addr,
            owner_token,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: stands in for both `https://plex.tv` and `https://clients.plex.tv`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A token valid for the owner (issued at start).
    pub fn owner_token(&self) -> String {
        self.owner_token.clone()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Queue a fault (a fault with `times == 0` is ignored).
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Faults not yet used up.
    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).remaining()
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Added to every response.
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.shared.latency) = d;
    }

    /// A copy of the current state.
    pub fn world(&self) -> World {
        lock(&self.shared.world).clone()
    }

    /// Change the state (e.g. another admin editing shares between a read and a write).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut lock(&self.shared.world))
    }

    /// The person enters the PIN's code at plex.tv/link: the PIN now carries a fresh owner
    /// token. Unknown or already linked PINs are left alone.
    pub fn approve_pin(&self, pin_id: u64) {
        let mut w = lock(&self.shared.world);
        let owner = w.owner.id;
        if w.pins.get(&pin_id).is_some_and(|p| p.auth_token.is_none()) {
            let token = w.issue_token(owner);
            if let Some(pin) = w.pins.get_mut(&pin_id) {
                pin.auth_token = Some(token);
            }
        } else {
            tracing::warn!(
                pin_id,
                "sandbox: approve_pin for an unknown or already linked PIN"
            );
        }
    }

    /// Stop accepting, let in-flight answers finish (delays are cut short), and wait.
    pub async fn shutdown(mut self) {
        self.shared.stopping.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shared.stopping.send_replace(true);
    }
}

// ---------------------------------------------------------------------------------------------
// The request as the routes see it.

pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    params: Vec<(String, String)>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An `X-Plex-*` value: header, else query parameter (plex.tv accepts both).
    pub fn plex(&self, name: &str) -> Option<&str> {
        self.header(&name.to_ascii_lowercase())
            .or_else(|| {
                self.params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            })
            .filter(|v| !v.is_empty())
    }

    pub fn token(&self) -> Option<&str> {
        self.plex("X-Plex-Token")
    }

    pub fn client_identifier(&self) -> Option<&str> {
        self.plex("X-Plex-Client-Identifier")
    }

    /// v2 content negotiation.
    pub fn wants_json(&self) -> bool {
        wire::wants_json(self.header("accept"))
    }

    pub fn is_json_body(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
    }

    /// Form fields (url-encoded body) followed by query parameters, as Rails merges them.
    pub fn form(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = if self.is_json_body() {
            Vec::new()
        } else {
            url::form_urlencoded::parse(self.body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        };
        out.extend(self.params.iter().cloned());
        out
    }

    /// Percent-decoded path segments, without empty ones (so a trailing slash is ignored).
    pub fn segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16)),
                bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16)),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

async fn entry(
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

// ---------------------------------------------------------------------------------------------
// Connections that a handler can cut (FaultKind::DropConnection): once `kill` is set, reads see
// end-of-stream and writes fail, so hyper abandons the connection without sending a byte.

#[derive(Clone, Debug)]
struct Conn {
    kill: Arc<AtomicBool>,
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, KillableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

struct KillableListener(TcpListener);

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    return (
                        KillableStream {
                            inner: stream,
                            kill: kill.clone(),
                        },
                        Conn { kill },
                    );
                }
                // Out of file descriptors and the like: back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()?;
        Ok(Conn {
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl KillableStream {
    fn killed(&self) -> bool {
        self.kill.load(Ordering::SeqCst)
    }
}

fn aborted() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "sandbox: connection dropped",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
