//! One HTTP exchange with plex.tv: URL and headers, timeouts, error-body mapping and bounded
//! retries for reads. The request itself is `request.rs`, reading its body `decode.rs`.
//!
//! The account token only ever travels in the `X-Plex-Token` header (marked sensitive), so
//! no URL built here carries it and every URL is safe to log.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};

use super::request::{Accept, Body, Host, Request, Response};
use super::retry::retry_transient;
use super::{error_body, ClientOptions, PlexError};

const PLEX_TV: &str = "https://plex.tv";
const CLIENTS_PLEX_TV: &str = "https://clients.plex.tv";

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
}
