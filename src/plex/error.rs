//! Typed plex.tv failures. Front ends turn these into words for a person.

use std::time::Duration;

/// What went wrong talking to plex.tv.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlexError {
    /// 401 on an authenticated call (code 1001, legacy "Invalid authentication token", 422 "Invalid token").
    #[error("plex.tv rejected the token: run `sharesync login` or set PLEX_ACCOUNT_TOKEN to a fresh token")]
    BadToken,
    /// 401 on sign-in with code 1001: wrong username or password.
    #[error("plex.tv rejected the username or password: check PLEX_USERNAME and PLEX_PASSWORD")]
    BadCredentials,
    /// 401 code 1029: the account has two-factor authentication on.
    #[error("plex.tv asks for a two-factor code: pass --mfa-code or set PLEX_2FA_CODE")]
    TwoFactorRequired,
    /// 401 code 1031: plex.tv has flagged this IP after repeated failed sign-ins.
    #[error("plex.tv is refusing sign-ins from this IP after repeated failures: wait a while, or use `sharesync login` (PIN) instead")]
    IpLocked,
    /// 404 (code 1002, 1020, HTML page, ...).
    #[error("plex.tv says not found: {0}")]
    NotFound(String),
    /// 410: the endpoint was retired.
    #[error("plex.tv retired this endpoint: {0}")]
    EndpointGone(String),
    /// 429, with the server's `Retry-After` when it sent one.
    #[error("plex.tv is rate limiting requests")]
    RateLimited {
        /// How long plex.tv asked to wait.
        retry_after: Option<Duration>,
    },
    /// 5xx.
    #[error("plex.tv had a server error ({status}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// plex.tv's words.
        message: String,
    },
    /// Any other 4xx, with plex.tv's own text.
    #[error("plex.tv refused the request ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// plex.tv's words.
        message: String,
    },
    /// A share whose settings plex.tv's read left out can only be updated through the legacy
    /// PUT (the v2 update would reset them), and that endpoint is gone or does not know the
    /// share. Nothing was written.
    #[error("plex.tv did not return this share's restrictions, and the legacy update that leaves them alone is gone or does not take this share ({0}); not written, so they are not reset")]
    RestrictionsUnknown(String),
    /// A new share through the legacy create, whose body has no photo or all-libraries
    /// filter: created, it would be less restricted than its source. Nothing was sent.
    #[error("the source share has a {0} filter, which the legacy create cannot carry; not created, so the new share is never less restricted than its source (create it in Plex Web, or use the v2 API)")]
    RestrictionsNotCarried(&'static str),
    /// No answer in time.
    #[error("plex.tv did not answer in time")]
    Timeout,
    /// Refused, reset or dropped connections, truncated bodies.
    #[error("could not talk to plex.tv: {0}")]
    Connection(String),
    /// A body that does not parse as the documented shape.
    #[error("plex.tv sent a malformed response for {endpoint}: {reason}")]
    Malformed {
        /// The endpoint (`GET /api/users`).
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A body that parses but cannot be the whole truth (an empty catalogue
    /// for a server that has shares). Re-read; never plan from it.
    #[error("plex.tv sent an incomplete response: {0}")]
    Incomplete(String),
}

impl PlexError {
    /// Worth retrying the same request later (bounded by the caller).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PlexError::RateLimited { .. }
                | PlexError::Server { .. }
                | PlexError::Timeout
                | PlexError::Connection(_)
                | PlexError::Malformed { .. }
                | PlexError::Incomplete(_)
        )
    }
}
