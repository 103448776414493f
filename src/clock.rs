//! Where "now" comes from, injected so tests run at fixed instants.

use chrono::{DateTime, Utc};

/// Where "now" comes from: the system clock in production, a fixed instant in tests.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
