//! [`PlexClient`]: the public face of the plex.tv client.
//!
//! Reads retry transient failures per request (transport), re-run the whole read when the
//! result is incomplete, and fall back to the other API family when an endpoint is missing
//! (404) or retired (410). Writes are sent once: the executor owns write retries.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use secrecy::SecretString;

use crate::model::{
    Access, Account, AccountId, LibraryId, MachineId, Owner, Server, ServerRef, ServerSharing,
    Share, ShareId, SharingSettings, SharingState,
};

use super::assemble::{NewShare, ServerRead};
use super::retry::backoff_delay;
use super::transport::Transport;
use super::{auth, legacy, v2, ApiFamily, ClientOptions, Pin, PlexError};

/// The plex.tv client. Cheap to clone; clones share the connection pool, the request counter
/// and the active API family. `Debug` never shows the token.
#[derive(Clone)]
pub struct PlexClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    family: Arc<AtomicU8>,
}

fn encode(f: ApiFamily) -> u8 {
    match f {
        ApiFamily::V2 => 0,
        ApiFamily::Legacy => 1,
    }
}

fn decode(v: u8) -> ApiFamily {
    if v == 1 {
        ApiFamily::Legacy
    } else {
        ApiFamily::V2
    }
}

impl std::fmt::Debug for PlexClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlexClient")
            .field("family", &self.family())
            .field("transport", &self.inner.transport)
            .finish()
    }
}

fn refuse_empty(what: &str) -> PlexError {
    PlexError::Rejected {
        status: 0,
        message: format!(
            "refusing to {what} with an empty library list: plex.tv reads an empty list as all libraries (nothing was sent)"
        ),
    }
}

fn is_missing(e: &PlexError) -> bool {
    matches!(e, PlexError::NotFound(_) | PlexError::EndpointGone(_))
}

/// One server's sharing through `family`'s endpoints.
async fn server_sharing(
    t: &Transport,
    family: ApiFamily,
    server: &ServerRef,
) -> Result<ServerRead, PlexError> {
    match family {
        ApiFamily::V2 => v2::read_server_sharing(t, server).await,
        ApiFamily::Legacy => legacy::read_server_sharing(t, server).await,
    }
}

impl PlexClient {
    /// A client with `opts` (fails only on an unusable option, such as an empty client identifier).
    pub fn new(opts: ClientOptions) -> Result<Self, PlexError> {
        let transport = Transport::new(&opts)?;
        Ok(PlexClient {
            inner: Arc::new(Inner {
                transport,
                family: Arc::new(AtomicU8::new(encode(opts.family))),
            }),
        })
    }

    /// The same client (pool, counter, family) acting with another token.
    pub fn with_token(&self, token: SecretString) -> PlexClient {
        PlexClient {
            inner: Arc::new(Inner {
                transport: self.inner.transport.with_token(token),
                family: self.inner.family.clone(),
            }),
        }
    }

    /// The active family (it may have switched after a 404/410 on a read).
    pub fn family(&self) -> ApiFamily {
        decode(self.inner.family.load(Ordering::Relaxed))
    }

    /// HTTP requests sent so far, retries included, by this client and its clones.
    pub fn request_count(&self) -> u64 {
        self.inner.transport.request_count()
    }

    /// plex.tv has answered this client's token with 401 (revoked, expired): every later
    /// request would fail the same way.
    pub fn token_rejected(&self) -> bool {
        self.inner.transport.token_rejected()
    }

    /// Response body bytes received so far by this client and its clones.
    pub fn bytes_read(&self) -> u64 {
        self.inner.transport.bytes_read()
    }

    fn t(&self) -> &Transport {
        &self.inner.transport
    }

    fn need_token(&self) -> Result<(), PlexError> {
        if self.t().has_token() {
            Ok(())
        } else {
            Err(PlexError::BadToken)
        }
    }

    /// Run a whole read in one family, re-running it while it comes back incomplete.
    async fn complete<T, F, Fut>(&self, family: ApiFamily, read: &F) -> Result<T, PlexError>
    where
        F: Fn(ApiFamily) -> Fut,
        Fut: Future<Output = Result<T, PlexError>>,
    {
        let retries = self.t().read_retries;
        let mut attempt = 0;
        loop {
            match read(family).await {
                Err(e @ PlexError::Incomplete(_)) if attempt < retries => {
                    tracing::warn!(error = %e, attempt, "incomplete read from plex.tv, reading again");
                    tokio::time::sleep(backoff_delay(attempt, &e)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Run a read in the active family; if its endpoint is missing there (404/410), try the
    /// other family and, when that works, make it the active one.
    async fn read<T, F, Fut>(&self, what: &str, read: F) -> Result<T, PlexError>
    where
        F: Fn(ApiFamily) -> Fut,
        Fut: Future<Output = Result<T, PlexError>>,
    {
        let family = self.family();
        match self.complete(family, &read).await {
            Err(first) if is_missing(&first) => {
                let other = family.other();
                tracing::warn!(%what, from = %family, to = %other, error = %first,
                    "plex.tv endpoint missing; trying the other API family");
                match self.complete(other, &read).await {
                    Ok(v) => {
                        tracing::warn!(%what, from = %family, to = %other,
                            "switched the plex.tv API family");
                        self.inner.family.store(encode(other), Ordering::Relaxed);
                        Ok(v)
                    }
                    // Missing in both families: it really is not there.
                    Err(second) if is_missing(&second) => Err(first),
                    Err(second) => Err(second),
                }
            }
            other => other,
        }
    }

    /// `GET /api/v2/user`: whose token this is.
    pub async fn whoami(&self) -> Result<Owner, PlexError> {
        self.need_token()?;
        auth::whoami(self.t()).await
    }

    /// Username/email + password (+ 2FA code) → a fresh account token.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &SecretString,
        code: Option<&str>,
    ) -> Result<SecretString, PlexError> {
        auth::sign_in(self.t(), login, password, code).await
    }

    /// Start a `plex.tv/link` login: a PIN for the person to enter.
    pub async fn create_pin(&self) -> Result<Pin, PlexError> {
        auth::create_pin(self.t()).await
    }

    /// `None` until the PIN is approved; `NotFound` once it expired.
    pub async fn check_pin(&self, id: u64) -> Result<Option<SecretString>, PlexError> {
        auth::check_pin(self.t(), id).await
    }

    /// The account's own servers (resources that provide `server` and are owned).
    pub async fn owned_servers(&self) -> Result<Vec<ServerRef>, PlexError> {
        self.need_token()?;
        let t = self.t();
        self.read("resources", |f| async move {
            match f {
                ApiFamily::V2 => v2::owned_servers(t).await,
                // Legacy `/api/resources` has been seen to leave owned servers out: an empty
                // answer is checked against v2 rather than taken as "you own no servers".
                ApiFamily::Legacy => match legacy::owned_servers(t).await? {
                    none if none.is_empty() => v2::owned_servers(t).await,
                    some => Ok(some),
                },
            }
        })
        .await
    }

    /// A server's catalogue: every library with its global id and its local key.
    pub async fn server(&self, server: &ServerRef) -> Result<Server, PlexError> {
        self.need_token()?;
        let t = self.t();
        self.read("server catalogue", |f| async move {
            match f {
                ApiFamily::V2 => v2::catalogue(t, server).await,
                ApiFamily::Legacy => legacy::catalogue(t, server).await,
            }
        })
        .await
    }

    /// Who sees what on both servers, validated. v2: 4 requests; legacy: 5 — whatever the
    /// number of accounts.
    pub async fn read_sharing(
        &self,
        source: &ServerRef,
        dest: &ServerRef,
    ) -> Result<SharingState, PlexError> {
        self.need_token()?;
        let t = self.t();
        self.read("sharing", |f| async move {
            match f {
                ApiFamily::V2 => v2::read_sharing(t, source, dest).await,
                ApiFamily::Legacy => legacy::read_sharing(t, source, dest).await,
            }
        })
        .await
    }

    /// Who sees what on one server through `family` only, never switching (`doctor --deep`
    /// compares the two families' answers).
    pub async fn read_server_sharing_in(
        &self,
        family: ApiFamily,
        server: &ServerRef,
    ) -> Result<(BTreeMap<AccountId, Account>, ServerSharing), PlexError> {
        self.need_token()?;
        let t = self.t();
        self.complete(family, &|f| server_sharing(t, f, server))
            .await
    }

    /// Who sees what on one server (the executor's fresh re-read): 3 requests.
    pub async fn read_server_sharing(
        &self,
        server: &ServerRef,
    ) -> Result<(BTreeMap<AccountId, Account>, ServerSharing), PlexError> {
        self.need_token()?;
        let t = self.t();
        self.read("sharing", |f| server_sharing(t, f, server)).await
    }

    /// One share's access and settings read now (one request; the executor's per-write
    /// freshness check). `None`: the share no longer exists.
    pub async fn read_share_access(
        &self,
        server: &MachineId,
        share: ShareId,
    ) -> Result<Option<(Access, Option<SharingSettings>)>, PlexError> {
        self.need_token()?;
        legacy::share_access(self.t(), server, share).await
    }

    /// Replace a share's libraries with `libraries` (send the union; this is a replace).
    /// Refuses, without sending, an empty set and a share that has `All` (an explicit list
    /// would drop libraries added later). Never changes the share's settings: v2 sends
    /// `share.settings` back unchanged; legacy does not carry settings.
    pub async fn update_share(
        &self,
        server: &MachineId,
        share: &Share,
        libraries: &BTreeSet<LibraryId>,
    ) -> Result<(), PlexError> {
        if libraries.is_empty() {
            return Err(refuse_empty("update a share"));
        }
        if share.access == Access::All {
            return Err(PlexError::Rejected {
                status: 0,
                message: format!(
                    "refusing to turn share {} from all libraries into an explicit list (nothing was sent)",
                    share.id
                ),
            });
        }
        self.need_token()?;
        let legacy_put = || legacy::update_share(self.t(), server, share.id, libraries);
        match (self.family(), &share.settings) {
            (ApiFamily::V2, Some(settings)) => {
                v2::update_share(self.t(), share.id, settings, libraries).await
            }
            // The read did not return this share's settings. The v2 update replaces libraries
            // AND settings: sent without them, or with guessed ones, it would reset the share's
            // filters. The legacy per-share PUT carries library ids only, so it cannot touch
            // settings; it takes the same shared-server id. A re-read could return them again
            // without settings, and skipping would leave the grant undone for no reason. If the
            // legacy PUT is retired (410) or does not know the share (404, as it may for a
            // pending one), nothing else is safe: the account fails with a reason and nothing
            // is written, never falling back to the v2 update.
            (ApiFamily::V2, None) => legacy_put().await.map_err(|e| match e {
                PlexError::EndpointGone(what) | PlexError::NotFound(what) => {
                    PlexError::RestrictionsUnknown(what)
                }
                e => e,
            }),
            (ApiFamily::Legacy, _) => legacy_put().await,
        }
    }

    /// Share `libraries` on `server` with `account` (by account id), carrying `settings`
    /// (the source share's restrictions, or plex.tv's defaults when a pair does not copy
    /// them). Refuses an empty set: plex.tv reads it as all libraries.
    pub async fn create_share(
        &self,
        server: &MachineId,
        account: &Account,
        libraries: &BTreeSet<LibraryId>,
        settings: &SharingSettings,
    ) -> Result<ShareId, PlexError> {
        if libraries.is_empty() {
            return Err(refuse_empty("create a share"));
        }
        self.need_token()?;
        let new = NewShare {
            server,
            account: account.id,
            libraries,
            settings,
        };
        match self.family() {
            ApiFamily::V2 => v2::create_share(self.t(), &new).await,
            ApiFamily::Legacy => legacy::create_share(self.t(), &new).await,
        }
    }

    /// Remove a share (only `undo` does this).
    pub async fn delete_share(&self, server: &MachineId, share: ShareId) -> Result<(), PlexError> {
        self.need_token()?;
        match self.family() {
            ApiFamily::V2 => v2::delete_share(self.t(), share).await,
            ApiFamily::Legacy => legacy::delete_share(self.t(), server, share).await,
        }
    }
}
