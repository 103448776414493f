//! A signed-in plex.tv session: credentials resolved, token checked, servers found. Both front
//! ends start here and then call the planner (and the executor) through it.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, ConfigError, PairConfig};
use crate::guard::{read_sharing_checked, Baselines, GuardedReadError, ReadLooksWrong};
use crate::model::{Owner, ServerRef, SharingState};
use crate::plan::{plan, Plan, PlanError};
use crate::plex::{ClientOptions, PlexClient, PlexError};
use crate::store::{make_private, Store, StoreError};

/// Why a session could not be had or used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// plex.tv failed.
    #[error(transparent)]
    Plex(#[from] PlexError),
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The planner refused.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// No way to sign in was configured.
    #[error("no Plex credentials: set PLEX_ACCOUNT_TOKEN (or plex.token), run `sharesync login`, or set PLEX_USERNAME and PLEX_PASSWORD")]
    NoCredentials,
    /// No owned server has the name asked for.
    #[error("no owned server is named '{wanted}'; your servers: {}", if .owned.is_empty() { "none".to_string() } else { .owned.join(", ") })]
    ServerNotFound {
        /// The name asked for.
        wanted: String,
        /// The owned servers' names.
        owned: Vec<String>,
    },
    /// The pair names one server twice.
    #[error("source and destination are the same server ({0}); pick two different servers")]
    SameServer(String),
    /// The data directory cannot be written.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The file.
        path: String,
        /// Why it cannot be written.
        #[source]
        source: std::io::Error,
    },
    /// The read looks wrong.
    #[error(transparent)]
    ReadLooksWrong(#[from] ReadLooksWrong),
    /// The record failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<GuardedReadError> for SessionError {
    fn from(e: GuardedReadError) -> Self {
        match e {
            GuardedReadError::Plex(e) => SessionError::Plex(e),
            GuardedReadError::Store(e) => SessionError::Store(e),
            GuardedReadError::LooksWrong(e) => SessionError::ReadLooksWrong(e),
        }
    }
}

impl SessionError {
    /// plex.tv refused the token (revoked or mistyped).
    pub fn is_token_rejected(&self) -> bool {
        matches!(self, SessionError::Plex(PlexError::BadToken))
    }
}

/// The token `sharesync login` saved, if there is one.
pub fn saved_token(config: &Config) -> Option<SecretString> {
    std::fs::read_to_string(config.token_file())
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
}

/// How to get a two-factor code when plex.tv asks for one and none was given.
pub type CodePrompt<'a> = &'a (dyn Fn() -> Option<String> + Sync);

/// A signed-in plex.tv session.
pub struct Session {
    /// The client, with the token.
    pub client: PlexClient,
    /// Whose token it is.
    pub owner: Owner,
}

/// The stable `X-Plex-Client-Identifier`: generated once per install, kept in the data dir.
pub fn client_identifier(config: &Config) -> Result<String, SessionError> {
    let path = config.client_id_file();
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let id = existing.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    write_private(&path, &id)?;
    Ok(id)
}

/// Write a file only its owner can read (tokens, identifiers), creating the data dir.
pub fn write_private(path: &Path, contents: &str) -> Result<(), SessionError> {
    write_private_file(path, contents.as_bytes()).map_err(|source| SessionError::DataDir {
        path: path.display().to_string(),
        source,
    })
}

/// Write `contents` to a file only its owner can read or write (0600 on Unix; an existing
/// file is narrowed too), creating its directory: tokens, saved plans (they hold e-mails).
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    make_private(path)?;
    file.write_all(contents)
}

/// A client with no token yet (sign-in and PIN login use it).
pub fn anonymous_client(config: &Config) -> Result<PlexClient, SessionError> {
    let mut opts = ClientOptions::new(client_identifier(config)?);
    opts.base_url = config.plex.url.clone();
    opts.family = config.plex.api;
    opts.timeout = std::time::Duration::from_secs(config.plex.timeout_seconds);
    Ok(PlexClient::new(opts)?)
}

impl Session {
    /// Resolve credentials in the seed script's order (token, saved login token, username and
    /// password with a two-factor code) and check the token once with plex.tv.
    pub async fn connect(
        config: &Config,
        prompt: Option<CodePrompt<'_>>,
    ) -> Result<Session, SessionError> {
        let token = Session::token(config, prompt).await?;
        Session::with_token(config, token).await
    }

    /// The token the credentials give, in the seed script's order; signs in only for a
    /// username and password.
    async fn token(
        config: &Config,
        prompt: Option<CodePrompt<'_>>,
    ) -> Result<SecretString, SessionError> {
        Ok(match (&config.plex.token, saved_token(config)) {
            (Some(t), _) => t.clone(),
            (None, Some(t)) => t,
            (None, None) => match (&config.plex.username, &config.plex.password) {
                (Some(user), Some(password)) => {
                    let anonymous = anonymous_client(config)?;
                    let code = config.plex.mfa_code.as_deref();
                    match anonymous.sign_in(user, password, code).await {
                        Err(PlexError::TwoFactorRequired) if code.is_none() => {
                            let code = prompt
                                .and_then(|p| p())
                                .ok_or(PlexError::TwoFactorRequired)?;
                            anonymous.sign_in(user, password, Some(code.trim())).await?
                        }
                        other => other?,
                    }
                }
                _ => return Err(SessionError::NoCredentials),
            },
        })
    }

    /// A session on `token`, checked once with plex.tv.
    async fn with_token(config: &Config, token: SecretString) -> Result<Session, SessionError> {
        let client = anonymous_client(config)?.with_token(token);
        let owner = client.whoami().await?;
        Ok(Session { client, owner })
    }

    /// Save a token for later runs (PIN login), readable only by its owner.
    pub fn save_token(config: &Config, token: &SecretString) -> Result<(), SessionError> {
        write_private(&config.token_file(), token.expose_secret())
    }

    /// An owned server by name (case-insensitive) or machineIdentifier.
    pub async fn find_server(&self, wanted: &str) -> Result<ServerRef, SessionError> {
        let servers = self.client.owned_servers().await?;
        find_server(&servers, wanted)
    }

    /// Both servers of a pair, refusing a pair whose ends are the same server.
    pub async fn pair_servers(
        &self,
        pair: &PairConfig,
    ) -> Result<(ServerRef, ServerRef), SessionError> {
        let servers = self.client.owned_servers().await?;
        let source = find_server(&servers, &pair.source)?;
        let dest = find_server(&servers, &pair.dest)?;
        if source.machine_id == dest.machine_id {
            return Err(SessionError::SameServer(source.name));
        }
        Ok((source, dest))
    }

    /// Read both servers and plan the pair.
    pub async fn plan_pair(
        &self,
        pair: &PairConfig,
        only_accounts: Vec<String>,
    ) -> Result<(SharingState, Plan), SessionError> {
        let (source, dest) = self.pair_servers(pair).await?;
        let state = self.client.read_sharing(&source, &dest).await?;
        let plan = plan(&state, &pair.plan_options(only_accounts))?;
        Ok((state, plan))
    }

    /// Read both servers, held to their last good reads ([`crate::guard::baseline`]), and plan
    /// the pair. What every plan that may be applied starts from.
    pub async fn plan_pair_checked(
        &self,
        pair: &PairConfig,
        only_accounts: Vec<String>,
        store: &Store,
        baselines: Baselines<'_>,
    ) -> Result<(SharingState, Plan), SessionError> {
        let (source, dest) = self.pair_servers(pair).await?;
        let state = read_sharing_checked(&self.client, store, &source, &dest, baselines).await?;
        let plan = plan(&state, &pair.plan_options(only_accounts))?;
        Ok((state, plan))
    }
}

/// One sign-in per process: the first [`SharedSession::get`] signs in (token, saved token, or
/// username and password with a two-factor code) and every later one reuses that session,
/// until plex.tv rejects its token. A rejected token, or refused credentials, is logged once
/// and answered from memory from then on, never tried again in a loop: plex.tv locks sign-ins
/// from an address after repeated attempts, and a two-factor code works once. A restart (after
/// fixing the credentials) signs in again.
pub struct SharedSession {
    config: Config,
    state: tokio::sync::Mutex<Signed>,
}

enum Signed {
    Not,
    /// A token from the credentials whose check with plex.tv has not passed yet (plex.tv was
    /// unreachable, say): kept, so a later call checks it again instead of signing in again.
    Token(SecretString),
    In(Arc<Session>),
    /// plex.tv refused: the error, answered to every later caller without a request.
    Refused(PlexError),
}

/// Refusals that another attempt with the same credentials cannot fix.
fn is_refusal(e: &PlexError) -> bool {
    matches!(
        e,
        PlexError::BadToken | PlexError::BadCredentials | PlexError::TwoFactorRequired
    )
}

impl SharedSession {
    /// A session for `config`, connected on first use.
    pub fn new(config: Config) -> SharedSession {
        SharedSession {
            config,
            state: tokio::sync::Mutex::new(Signed::Not),
        }
    }

    /// The process's session, signing in the first time (callers at the same moment wait for
    /// that one sign-in rather than starting their own).
    pub async fn get(&self) -> Result<Arc<Session>, SessionError> {
        let mut state = self.state.lock().await;
        if let Signed::In(session) = &*state {
            if !session.client.token_rejected() {
                return Ok(session.clone());
            }
            tracing::warn!("plex.tv rejected the Plex token; no request is sent with it again");
            *state = Signed::Refused(PlexError::BadToken);
        }
        if let Signed::Refused(e) = &*state {
            return Err(SessionError::Plex(e.clone()));
        }
        let refused = |state: &mut Signed, e: PlexError| {
            tracing::warn!("plex.tv refused the sign-in ({e}); not trying again until restarted");
            *state = Signed::Refused(e.clone());
            SessionError::Plex(e)
        };
        let token = match &*state {
            Signed::Token(token) => token.clone(),
            _ => match Session::token(&self.config, None).await {
                Ok(token) => {
                    *state = Signed::Token(token.clone());
                    token
                }
                Err(SessionError::Plex(e)) if is_refusal(&e) => return Err(refused(&mut state, e)),
                // Anything else (plex.tv unreachable, a config problem) may pass: next time.
                Err(e) => return Err(e),
            },
        };
        match Session::with_token(&self.config, token).await {
            Ok(session) => {
                let session = Arc::new(session);
                *state = Signed::In(session.clone());
                Ok(session)
            }
            Err(SessionError::Plex(e)) if is_refusal(&e) => Err(refused(&mut state, e)),
            // plex.tv did not answer the check: the token stays, checked again next time.
            Err(e) => Err(e),
        }
    }
}

/// The owned server named `wanted` (name or machineIdentifier, case-insensitive).
pub fn find_server(servers: &[ServerRef], wanted: &str) -> Result<ServerRef, SessionError> {
    let wanted_trim = wanted.trim();
    servers
        .iter()
        .find(|s| s.machine_id.0.eq_ignore_ascii_case(wanted_trim))
        .or_else(|| {
            servers
                .iter()
                .find(|s| s.name.trim().to_lowercase() == wanted_trim.to_lowercase())
        })
        .cloned()
        .ok_or_else(|| SessionError::ServerNotFound {
            wanted: wanted_trim.to_string(),
            owned: servers.iter().map(|s| s.name.clone()).collect(),
        })
}
