//! One request to plex.tv as the clients build it, and a 2xx answer as they read it.

use reqwest::Method;

/// Which plex.tv host a path lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `https://plex.tv`
    Plex,
    /// `https://clients.plex.tv` (v2 `shared_servers` endpoints).
    Clients,
}

/// What the answer's body is asked to be.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("abc123"), "abc123");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }
}
