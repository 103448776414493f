//! The plex.tv client: transport (headers, error bodies, retries), the two API families'
//! wire models (legacy XML, v2 JSON) and their conversion into `crate::model` types.
//!
//! Layout:
//! * `client.rs`     — [`PlexClient`]: the public surface, family fallback, whole-read retries.
//! * `transport.rs`  — one HTTP exchange: headers, timeouts, error mapping, read retries.
//! * `request.rs`    — a request and a 2xx answer; `decode.rs` — reading JSON and XML bodies.
//! * `retry.rs`      — backoff and bounded retries; requests run side by side.
//! * `error_body.rs` — the four shapes of plex.tv's error bodies.
//! * `legacy/`       — `/api/...`: the XML wire structs and their conversion (`wire.rs`), the
//!   requests (`mod.rs`).
//! * `v2/`           — `/api/v2/...`: the same for JSON.
//! * `assemble.rs`   — what both families do alike: owned servers, catalogues, both servers'
//!   state.
//! * `auth.rs`       — whoami, sign-in, PINs.
//! * `validate.rs`   — checks a read must pass before the planner may see it.
//! * `de.rs`         — lenient field decoders shared by XML and JSON.
//!
//! Secrets: wire structs have no `accessToken`/`inviteToken` fields (serde drops them), the
//! account token travels only in a sensitive header, and no `Debug` impl here prints a token.

mod assemble;
mod auth;
mod client;
mod de;
mod decode;
mod error;
mod error_body;
#[cfg(test)]
mod http_tests;
mod legacy;
mod request;
mod retry;
mod transport;
mod v2;
mod validate;

use std::time::Duration;

use secrecy::SecretString;

pub use client::PlexClient;
pub use error::PlexError;
pub use retry::{backoff_delay, retry_transient};

/// Which plex.tv API family the client talks to for sharing reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiFamily {
    /// `/api/v2/...` JSON (what Plex Web uses today).
    V2,
    /// `/api/...` XML (`/api/users`, `/api/servers/{mid}/shared_servers`).
    Legacy,
}

impl ApiFamily {
    /// The family to fall back to.
    pub fn other(self) -> ApiFamily {
        match self {
            ApiFamily::V2 => ApiFamily::Legacy,
            ApiFamily::Legacy => ApiFamily::V2,
        }
    }
}

impl std::fmt::Display for ApiFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ApiFamily::V2 => "v2",
            ApiFamily::Legacy => "legacy",
        })
    }
}

/// Default for [`ClientOptions::max_body_bytes`]: 256 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 << 20;

/// How to build a [`PlexClient`]. `Debug` redacts the token.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// `None`: the real hosts (`https://plex.tv`, and `https://clients.plex.tv` for the v2
    /// `shared_servers` endpoints). `Some(u)`: `u` replaces both.
    pub base_url: Option<String>,
    /// The API family to start with.
    pub family: ApiFamily,
    /// The account token; `None` for sign-in and PIN login.
    pub token: Option<SecretString>,
    /// Stable per install (the caller generates and persists it).
    pub client_identifier: String,
    /// `X-Plex-Product`.
    pub product: String,
    /// `X-Plex-Version`.
    pub version: String,
    /// Per request.
    pub timeout: Duration,
    /// Bounded re-reads for transient, malformed or incomplete reads.
    pub read_retries: u32,
    /// A larger answer is refused unread past this (a share list for 10,000 accounts is
    /// about 25 MB).
    pub max_body_bytes: usize,
}

impl ClientOptions {
    /// Defaults: v2, real hosts, no token, 30 s per request, 3 read retries, product
    /// "sharesync" at this crate's version.
    pub fn new(client_identifier: impl Into<String>) -> Self {
        ClientOptions {
            base_url: None,
            family: ApiFamily::V2,
            token: None,
            client_identifier: client_identifier.into(),
            product: "sharesync".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            timeout: Duration::from_secs(30),
            read_retries: 3,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// A PIN for the `plex.tv/link` login flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// The PIN's number (to check it).
    pub id: u64,
    /// The code the person enters.
    pub code: String,
    /// Where the person enters `code` (`https://plex.tv/link` for 4-character codes).
    pub link_url: String,
    /// How long the code is valid.
    pub expires_in: Duration,
}
