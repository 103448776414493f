//! What every handler shares: the configuration, the store, the one plex.tv session, the write
//! budget and the clock.

use std::sync::Arc;

use sharesync::apply::WriteLimiter;
use sharesync::clock::Clock;
use sharesync::config::Config;
use sharesync::session::{Session, SessionError, SharedSession};
use sharesync::store::Store;

use super::settings::BotSettings;

/// Shared by every command and button handler.
pub struct BotState {
    pub config: Config,
    pub settings: BotSettings,
    pub store: Store,
    /// Texts that must never be shown or logged (tokens).
    pub secrets: Vec<String>,
    /// The process's one plex.tv sign-in, shared by commands, buttons and schedules.
    pub session: Arc<SharedSession>,
    /// One write budget for every run of this process (they share one plex.tv token).
    pub limiter: Arc<WriteLimiter>,
    /// Applies in flight, so shutdown can let them finish.
    pub in_flight: Arc<tokio::sync::RwLock<()>>,
    /// Plex accounts for autocomplete, refreshed at most once a minute.
    pub accounts: tokio::sync::Mutex<Option<(std::time::Instant, Vec<sharesync::model::Account>)>>,
    /// The one source of "now" for handlers and schedules (tests move it by hand).
    pub clock: Arc<dyn Clock>,
}

pub type Data = Arc<BotState>;

impl BotState {
    /// The process's signed-in session: signed in once, without any prompt (a bot cannot ask
    /// for a two-factor code; it takes `plex.mfa_code` when username and password are used).
    pub async fn session(&self) -> Result<Arc<Session>, SessionError> {
        self.session.get().await
    }
}
