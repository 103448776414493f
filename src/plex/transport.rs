//! One HTTP exchange with plex.tv: URL and headers, timeouts, error-body mapping, body
//! parsing (with truncation checks) and bounded retries for reads.
//!
//! The account token only ever travels in the `X-Plex-Token` header (marked sensitive), so
//! no URL built here carries it and every URL is safe to log.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quick_xml::events::Event;
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::{error_body, ClientOptions, PlexError};

const PLEX_TV: &str = "https://plex.tv";
const CLIENTS_PLEX_TV: &str = "https://clients.plex.tv";
/// Longest wait between read retries, whatever `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Which plex.tv host a path lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `https://plex.tv`
    Plex,
    /// `https://clients.plex.tv` (v2 `shared_servers` endpoints).
    Clients,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    Json,
    Xml,
}

/// A request body. No `Debug`: a form may carry a password.
pub enum Body {
    Empty,
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
}

/// One request to plex.tv. No `Debug`: the body may carry a password.
pub struct Request {
    pub method: Method,
    pub host: Host,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub accept: Accept,
    pub body: Body,
    /// Send `X-Plex-Token` (when the client has one).
    pub auth: bool,
}

impl Request {
    pub fn get(host: Host, path: impl Into<String>, accept: Accept) -> Self {
        Request {
            method: Method::GET,
            host,
            path: path.into(),
            query: Vec::new(),
            accept,
            body: Body::Empty,
            auth: true,
        }
    }

    pub fn new(method: Method, host: Host, path: impl Into<String>, accept: Accept) -> Self {
        Request {
            method,
            ..Request::get(host, path, accept)
        }
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub fn form(mut self, fields: Vec<(&'static str, String)>) -> Self {
        self.body = Body::Form(fields);
        self
    }

    pub fn anonymous(mut self) -> Self {
        self.auth = false;
        self
    }

    /// `"GET /api/users"`: how errors and logs name this endpoint (no query, no token).
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A 2xx answer.
pub struct Response {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub endpoint: String,
}

/// Percent-encode one path segment (machine ids come from config and user input).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Shared by every clone of a client.
pub struct Transport {
    http: reqwest::Client,
    plex_base: String,
    clients_base: String,
    client_identifier: String,
    product: String,
    version: String,
    token: Option<SecretString>,
    pub read_retries: u32,
    requests: Arc<AtomicU64>,
    /// Response body bytes received (benchmarks).
    bytes_read: Arc<AtomicU64>,
    max_body_bytes: usize,
    /// plex.tv answered this transport's token with 401: it will not work again.
    token_rejected: Arc<AtomicBool>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("plex_base", &self.plex_base)
            .field("clients_base", &self.clients_base)
            .field("client_identifier", &self.client_identifier)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

fn map_reqwest(e: reqwest::Error) -> PlexError {
    if e.is_timeout() {
        return PlexError::Timeout;
    }
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(": ");
            msg.push_str(&s_text);
        }
        src = s.source();
    }
    if msg.to_ascii_lowercase().contains("timed out") {
        return PlexError::Timeout;
    }
    PlexError::Connection(msg)
}

/// Redirects followed per request.
const MAX_REDIRECTS: usize = 5;

/// A redirect keeps the request (and its `X-Plex-Token`) only on the same host and port, and
/// never from https to http.
fn may_follow(prev: &url::Url, next: &url::Url) -> bool {
    let same_place = prev.host_str() == next.host_str()
        && prev.port_or_known_default() == next.port_or_known_default();
    let downgrade = prev.scheme() == "https" && next.scheme() != "https";
    same_place && !downgrade
}

fn origin(u: &url::Url) -> String {
    format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""))
}

impl Transport {
    pub fn new(opts: &ClientOptions) -> Result<Self, PlexError> {
        if opts.client_identifier.trim().is_empty() {
            return Err(PlexError::Rejected {
                status: 0,
                message: "a client identifier is required (X-Plex-Client-Identifier)".into(),
            });
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .user_agent(format!("{}/{}", opts.product, opts.version))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let next = attempt.url().clone();
                match attempt.previous().last() {
                    _ if attempt.previous().len() > MAX_REDIRECTS => attempt.error("too many redirects"),
                    Some(prev) if may_follow(prev, &next) => attempt.follow(),
                    _ => attempt.error(format!(
                        "refusing to follow a redirect to {} (the Plex token is only sent to the host it was meant for, over the same or a safer scheme)",
                        origin(&next)
                    )),
                }
            }))
            .build()
            .map_err(map_reqwest)?;
        let (plex_base, clients_base) = match &opts.base_url {
            Some(u) => {
                let u = u.trim().trim_end_matches('/').to_string();
                url::Url::parse(&u).map_err(|e| PlexError::Rejected {
                    status: 0,
                    message: format!("invalid plex.tv base URL: {e}"),
                })?;
                (u.clone(), u)
            }
            None => (PLEX_TV.to_string(), CLIENTS_PLEX_TV.to_string()),
        };
        Ok(Transport {
            http,
            plex_base,
            clients_base,
            client_identifier: opts.client_identifier.clone(),
            product: opts.product.clone(),
            version: opts.version.clone(),
            token: opts.token.clone(),
            read_retries: opts.read_retries,
            requests: Arc::new(AtomicU64::new(0)),
            bytes_read: Arc::new(AtomicU64::new(0)),
            max_body_bytes: opts.max_body_bytes,
            token_rejected: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The same transport (connection pool and request counter) with another token.
    pub fn with_token(&self, token: SecretString) -> Self {
        Transport {
            http: self.http.clone(),
            plex_base: self.plex_base.clone(),
            clients_base: self.clients_base.clone(),
            client_identifier: self.client_identifier.clone(),
            product: self.product.clone(),
            version: self.version.clone(),
            token: Some(token),
            read_retries: self.read_retries,
            requests: self.requests.clone(),
            bytes_read: self.bytes_read.clone(),
            max_body_bytes: self.max_body_bytes,
            token_rejected: Arc::new(AtomicBool::new(false)),
        }
    }

    /// plex.tv has rejected this transport's token (a 401 to an authenticated request).
    pub fn token_rejected(&self) -> bool {
        self.token_rejected.load(Ordering::Relaxed)
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    fn url(&self, req: &Request) -> Result<url::Url, PlexError> {
        let base = match req.host {
            Host::Plex => &self.plex_base,
            Host::Clients => &self.clients_base,
        };
        let mut url =
            url::Url::parse(&format!("{base}{}", req.path)).map_err(|e| PlexError::Rejected {
                status: 0,
                message: format!("cannot build a URL for {}: {e}", req.endpoint()),
            })?;
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &req.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn headers(&self, req: &Request) -> Result<HeaderMap, PlexError> {
        let mut h = HeaderMap::new();
        let text = |v: &str| {
            HeaderValue::from_str(v).map_err(|_| PlexError::Rejected {
                status: 0,
                message: "a header value has characters HTTP cannot carry".into(),
            })
        };
        h.insert(ACCEPT, HeaderValue::from_static(accept_value(req.accept)));
        h.insert("X-Plex-Client-Identifier", text(&self.client_identifier)?);
        h.insert("X-Plex-Product", text(&self.product)?);
        h.insert("X-Plex-Version", text(&self.version)?);
        if req.auth {
            if let Some(token) = &self.token {
                let mut v = HeaderValue::from_str(token.expose_secret())
                    .map_err(|_| PlexError::BadToken)?;
                v.set_sensitive(true);
                h.insert("X-Plex-Token", v);
            }
        }
        Ok(h)
    }

    /// The body, refused once it passes `max_body_bytes` (by its `Content-Length`, or as it
    /// arrives): a runaway answer never fills the memory.
    async fn capped_body(
        &self,
        mut resp: reqwest::Response,
        endpoint: &str,
    ) -> Result<Vec<u8>, PlexError> {
        let cap = self.max_body_bytes;
        let too_large = || PlexError::Rejected {
            status: 0,
            message: format!("the answer to {endpoint} is larger than {cap} bytes; not read"),
        };
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(map_reqwest)? {
            if body.len() + chunk.len() > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        self.bytes_read
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        Ok(body)
    }

    /// Send once. `Ok` only for 2xx; every other status becomes its typed error.
    pub async fn send(&self, req: &Request) -> Result<Response, PlexError> {
        let url = self.url(req)?;
        let mut rb = self
            .http
            .request(req.method.clone(), url)
            .headers(self.headers(req)?);
        rb = match &req.body {
            Body::Empty => rb,
            Body::Json(v) => rb.json(v),
            Body::Form(fields) => rb.form(fields),
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let endpoint = req.endpoint();
        let resp = rb.send().await.map_err(|e| {
            let e = map_reqwest(e);
            tracing::debug!(%endpoint, error = %e, "plex.tv request failed");
            e
        })?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = error_body::retry_after(
            resp.headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        let body = self.capped_body(resp, &endpoint).await?;
        tracing::debug!(%endpoint, status, bytes = body.len(), "plex.tv answered");
        if (200..300).contains(&status) {
            Ok(Response {
                content_type,
                body,
                endpoint,
            })
        } else {
            let info = error_body::parse(content_type.as_deref(), &body);
            let e = error_body::to_error(status, info, retry_after);
            if e == PlexError::BadToken && req.auth && self.token.is_some() {
                self.token_rejected.store(true, Ordering::Relaxed);
            }
            Err(e)
        }
    }

    /// A read: send and parse, re-trying transient failures (including bodies that fail
    /// to parse) up to `read_retries` times.
    pub async fn read<T>(
        &self,
        req: &Request,
        parse: impl Fn(&Response) -> Result<T, PlexError>,
    ) -> Result<T, PlexError> {
        let parse = &parse;
        retry_transient(self.read_retries, |attempt| async move {
            if attempt > 0 {
                tracing::debug!(endpoint = %req.endpoint(), attempt, "re-reading");
            }
            let resp = self.send(req).await?;
            parse(&resp)
        })
        .await
    }
}

fn accept_value(a: Accept) -> &'static str {
    match a {
        Accept::Json => "application/json",
        Accept::Xml => "application/xml",
    }
}

/// How long to wait before retry number `attempt + 1` after `err`: `Retry-After` when
/// plex.tv sent one (capped at 30 s), otherwise exponential backoff with jitter (200 ms base,
/// 1 s base for a 429 without `Retry-After`), capped at 30 s.
pub fn backoff_delay(attempt: u32, err: &PlexError) -> Duration {
    if let PlexError::RateLimited {
        retry_after: Some(d),
    } = err
    {
        return (*d).min(MAX_BACKOFF);
    }
    let base_ms: u64 = match err {
        PlexError::RateLimited { .. } => 1_000,
        _ => 200,
    };
    let exp = base_ms.saturating_mul(1u64 << attempt.min(16));
    let cap = MAX_BACKOFF.as_millis() as u64;
    let ceiling = exp.min(cap);
    let ms = rand::thread_rng().gen_range(ceiling / 2..=ceiling);
    Duration::from_millis(ms)
}

/// Run `op` and re-run it on transient errors ([`PlexError::is_transient`]) up to `retries`
/// more times, waiting [`backoff_delay`] between attempts. `op` gets the attempt number
/// (0 first). Exposed for the executor, which owns write retries and their idempotency.
pub async fn retry_transient<T, F, Fut>(retries: u32, mut op: F) -> Result<T, PlexError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, PlexError>>,
{
    let mut attempt = 0;
    loop {
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() && attempt < retries => {
                let wait = backoff_delay(attempt, &e);
                tracing::debug!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "transient plex.tv failure, retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A tuple of results from requests run side by side → all values, or the first error in
/// argument order (deterministic, whichever finished first).
pub trait AllOk {
    type Out;
    fn all_ok(self) -> Result<Self::Out, PlexError>;
}

macro_rules! impl_all_ok {
    ($($t:ident $v:ident),+) => {
        impl<$($t),+> AllOk for ($(Result<$t, PlexError>,)+) {
            type Out = ($($t,)+);
            fn all_ok(self) -> Result<Self::Out, PlexError> {
                let ($($v,)+) = self;
                Ok(($($v?,)+))
            }
        }
    };
}
impl_all_ok!(A a, B b);
impl_all_ok!(A a, B b, C c);
impl_all_ok!(A a, B b, C c, D d);
impl_all_ok!(A a, B b, C c, D d, E e);

/// Run reads side by side and wait for all of them (no request is left in flight when one
/// fails), then give every value or the first error in argument order.
macro_rules! all_of {
    ($($f:expr),+ $(,)?) => {
        $crate::plex::transport::AllOk::all_ok(futures::join!($($f),+))
    };
}
pub(crate) use all_of;

fn malformed(endpoint: &str, reason: impl Into<String>) -> PlexError {
    let mut reason: String = reason.into();
    if reason.chars().count() > 300 {
        reason = reason.chars().take(300).collect::<String>() + "…";
    }
    PlexError::Malformed {
        endpoint: endpoint.to_string(),
        reason,
    }
}

/// Parse a JSON body (v2).
pub fn json<T: DeserializeOwned>(resp: &Response) -> Result<T, PlexError> {
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed(&resp.endpoint, "empty body"));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        if e.is_eof() {
            malformed(&resp.endpoint, format!("truncated JSON: {e}"))
        } else {
            let ct = resp.content_type.as_deref().unwrap_or("none");
            malformed(&resp.endpoint, format!("{e} (content-type {ct})"))
        }
    })
}

/// Check an XML document is complete and well formed and its root element is `root`.
pub fn check_xml(text: &str, root: &str) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth: usize = 0;
    let mut seen_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    if seen_root {
                        return Err("more than one root element".into());
                    }
                    let name = e.local_name();
                    if name.as_ref() != root.as_bytes() {
                        return Err(format!(
                            "root element is <{}>, expected <{root}>",
                            String::from_utf8_lossy(name.as_ref())
                        ));
                    }
                    seen_root = true;
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => {
                if depth == 0 {
                    if seen_root {
                        return Err("more than one root element".into());
                    }
                    let name = e.local_name();
                    if name.as_ref() != root.as_bytes() {
                        return Err(format!(
                            "root element is <{}>, expected <{root}>",
                            String::from_utf8_lossy(name.as_ref())
                        ));
                    }
                    seen_root = true;
                }
            }
            Ok(Event::End(_)) => {
                depth = depth.checked_sub(1).ok_or("unbalanced end tag")?;
            }
            Ok(Event::Text(t)) if depth == 0 => {
                if !t.iter().all(u8::is_ascii_whitespace) {
                    return Err("text outside the root element".into());
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("{e} at byte {}", reader.error_position())),
        }
    }
    if !seen_root {
        return Err(format!("no <{root}> element"));
    }
    if depth != 0 {
        return Err(format!("truncated XML: {depth} element(s) left open"));
    }
    Ok(())
}

/// Parse an XML body (legacy) whose root element must be `root`.
pub fn xml<T: DeserializeOwned>(resp: &Response, root: &str) -> Result<T, PlexError> {
    let text = std::str::from_utf8(&resp.body)
        .map_err(|e| malformed(&resp.endpoint, format!("not UTF-8: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(malformed(&resp.endpoint, "empty body"));
    }
    check_xml(text, root).map_err(|r| malformed(&resp.endpoint, r))?;
    quick_xml::de::from_str(text).map_err(|e| malformed(&resp.endpoint, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_their_host_and_scheme() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(may_follow(&u("https://plex.tv/a"), &u("https://plex.tv/b")));
        assert!(may_follow(
            &u("http://127.0.0.1:8/a"),
            &u("https://127.0.0.1:8/b")
        ));
        assert!(!may_follow(&u("https://plex.tv/a"), &u("http://plex.tv/b")));
        assert!(!may_follow(
            &u("https://plex.tv/a"),
            &u("https://evil.example/b")
        ));
        assert!(!may_follow(
            &u("https://plex.tv/a"),
            &u("https://plex.tv:8443/b")
        ));
        assert!(may_follow(
            &u("http://127.0.0.1:8/a"),
            &u("http://127.0.0.1:8/b")
        ));
    }

    #[test]
    fn xml_completeness() {
        assert!(check_xml(
            r#"<?xml version="1.0"?><MediaContainer size="0"/>"#,
            "MediaContainer"
        )
        .is_ok());
        assert!(check_xml(
            "<MediaContainer><User id=\"1\"/></MediaContainer>",
            "MediaContainer"
        )
        .is_ok());
        let cut = "<MediaContainer><User id=\"1\"/><User id=\"2\"";
        assert!(check_xml(cut, "MediaContainer").is_err());
        let cut = "<MediaContainer><User id=\"1\"/><User id=\"2\"/>";
        assert!(check_xml(cut, "MediaContainer")
            .unwrap_err()
            .contains("truncated"));
        assert!(check_xml("<foo/>", "MediaContainer").is_err());
        assert!(check_xml("not xml at all", "MediaContainer").is_err());
        assert!(check_xml("<MediaContainer></Media>", "MediaContainer").is_err());
    }

    #[test]
    fn json_truncation_is_malformed() {
        let resp = Response {
            content_type: Some("application/json".into()),
            body: br#"[{"id":1},{"id":"#.to_vec(),
            endpoint: "GET /x".into(),
        };
        let e = json::<serde_json::Value>(&resp).unwrap_err();
        assert!(
            matches!(e, PlexError::Malformed { ref reason, .. } if reason.contains("truncated"))
        );
    }

    #[test]
    fn backoff_bounds() {
        let e = PlexError::Server {
            status: 503,
            message: String::new(),
        };
        for attempt in 0..40 {
            let d = backoff_delay(attempt, &e);
            assert!(d <= MAX_BACKOFF);
        }
        assert!(backoff_delay(0, &e) <= Duration::from_millis(200));
        let rl = PlexError::RateLimited {
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(backoff_delay(0, &rl), MAX_BACKOFF);
        let rl = PlexError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(backoff_delay(5, &rl), Duration::from_secs(2));
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("abc123"), "abc123");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }

    #[tokio::test]
    async fn retries_stop_at_the_bound_and_skip_bad_token() {
        let mut calls = 0;
        let r: Result<(), _> = retry_transient(2, |_| {
            calls += 1;
            async {
                Err(PlexError::RateLimited {
                    retry_after: Some(Duration::ZERO),
                })
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r: Result<(), _> = retry_transient(5, |_| {
            calls += 1;
            async { Err(PlexError::BadToken) }
        })
        .await;
        assert_eq!(r, Err(PlexError::BadToken));
        assert_eq!(calls, 1);
    }
}
