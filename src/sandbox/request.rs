//! A request as the sandbox sees it: recorded for tests ([`RecordedRequest`]) and parsed for the
//! routes ([`Req`]).

use std::collections::HashMap;

use super::wire;

/// One request as the sandbox received it, and the status it answered (0: connection dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    /// Lower-cased names; repeated headers joined with ", ".
    pub headers: HashMap<String, String>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// The status it answered; 0 when the connection was dropped.
    pub status: u16,
}

impl RecordedRequest {
    /// A header by name (any case).
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

pub(crate) struct Req {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    /// Lower-cased names; repeated headers joined with ", ".
    pub headers: HashMap<String, String>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// Decoded query parameters.
    pub params: Vec<(String, String)>,
}

impl Req {
    /// A header by its lower-cased name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// A decoded query parameter.
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

    /// The caller's `X-Plex-Token`.
    pub fn token(&self) -> Option<&str> {
        self.plex("X-Plex-Token")
    }

    /// The caller's `X-Plex-Client-Identifier`.
    pub fn client_identifier(&self) -> Option<&str> {
        self.plex("X-Plex-Client-Identifier")
    }

    /// v2 content negotiation.
    pub fn wants_json(&self) -> bool {
        wire::wants_json(self.header("accept"))
    }

    /// Whether the body says it is JSON (`Content-Type`).
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
