//! A simulated plex.tv: the test fake and the credential-free demo (`sharesync sync --sandbox`).
//!
//! It serves both API families on one loopback address (standing in for `https://plex.tv` and
//! `https://clients.plex.tv`) and is deliberately as unkind as the real service: tokens are
//! required everywhere but sign-in and PINs, v2 requires a
//! client identifier, legacy answers XML whatever `Accept` says, v2 answers XML unless asked
//! for JSON, writes replace whole sets, v2 updates reset omitted settings, removed endpoints
//! answer 410, unrouted paths get Rails' HTML 404, and every response that can carry tokens
//! does. Faults (429, 5xx, delays, garbage, cut lists, empty catalogues, dropped connections)
//! and latency can be injected; every request is recorded.
//!
//! Where plex.tv's behaviour is unknown, the sandbox takes the stricter side, so that a client
//! which passes here does not rely on plex.tv's leniency. Its choices (real plex.tv may differ;
//! clients must not rely on them): legacy 404s for unknown records are the same Rails HTML page as unrouted paths; legacy
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
//! Layout: `world/` the state, `scenario/` starting states, `serve.rs` the HTTP handler (faults,
//! routing, recording) over `conn.rs` (connections a fault can cut), `request.rs` the request as
//! routes see it, `legacy/` and `v2/` the two API families' routes, `faults.rs` injected faults,
//! `wire/` rendering, error shapes and request bodies. Files here use nothing of the client
//! they test (only `crate::model`, and today not even that): the fake is written from the
//! protocol, not from the client.

mod conn;
mod faults;
mod legacy;
mod request;
mod scenario;
mod serve;
mod v2;
mod wire;
mod world;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultKind, FaultTarget};
pub use request::RecordedRequest;
pub use scenario::{LibraryRef, Scenario, ScenarioBuilder, ScenarioError, SettingsSpec};
pub use world::{
    AccountRecord, CreatedSettings, DeviceRecord, LegacyDrift, PinRecord, SectionRecord,
    ServerRecord, SettingsRecord, ShareRecord, World,
};

use conn::{Conn, KillableListener};
use faults::FaultQueue;
use serve::{entry, lock, Shared};

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

    /// The loopback address it listens on.
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

    /// Forget the requests recorded so far.
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

    /// Drop every queued fault.
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
