//! `[limits]`: how fast and how much one run may write, and how it shares a destination.

use serde::Deserialize;

/// The `[limits]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Writes per second to plex.tv; 0 turns the limiter off.
    #[serde(default = "default_wps")]
    pub writes_per_second: f64,
    /// Writes in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Most accounts one run may update (0: no limit). Checked over each plan before it is written (`guard::blast`).
    #[serde(default = "default_max_accounts")]
    pub max_accounts_per_run: usize,
    /// Most destination shares (each an invitation) one run may create (0: no limit).
    #[serde(default = "default_max_new_shares")]
    pub max_new_shares_per_run: usize,
    /// Most of the source's accounts one run may update, 0..=1 (0: no limit); never refuses a
    /// run of `guard::blast::FRACTION_FLOOR` accounts or fewer.
    #[serde(default = "default_max_fraction")]
    pub max_fraction: f64,
    /// A destination lease with no heartbeat for this long is taken to be a dead process's and
    /// taken over (its holder renews it every few seconds, even while waiting out a
    /// `Retry-After`).
    #[serde(default = "default_lease_timeout")]
    pub lease_timeout_seconds: u64,
    /// A write is computed from a read of its share at most this old; an older one is read
    /// again (that one share, one request) just before the write.
    #[serde(default = "default_max_snapshot_age")]
    pub max_snapshot_age_seconds: f64,
}

fn default_wps() -> f64 {
    2.0
}
fn default_concurrency() -> usize {
    2
}
fn default_max_accounts() -> usize {
    200
}
fn default_max_new_shares() -> usize {
    50
}
fn default_max_fraction() -> f64 {
    0.5
}
fn default_lease_timeout() -> u64 {
    60
}
fn default_max_snapshot_age() -> f64 {
    5.0
}

impl Limits {
    /// The defaults without the blast-radius limits (executor tests and benchmarks, which
    /// write to hundreds of accounts on purpose).
    pub fn no_blast_limits() -> Limits {
        Limits {
            max_accounts_per_run: 0,
            max_new_shares_per_run: 0,
            max_fraction: 0.0,
            ..Limits::default()
        }
    }

    /// `max_snapshot_age_seconds` as a duration (0 when not representable).
    pub fn max_snapshot_age(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.max_snapshot_age_seconds).unwrap_or_default()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            writes_per_second: default_wps(),
            concurrency: default_concurrency(),
            max_accounts_per_run: default_max_accounts(),
            max_new_shares_per_run: default_max_new_shares(),
            max_fraction: default_max_fraction(),
            lease_timeout_seconds: default_lease_timeout(),
            max_snapshot_age_seconds: default_max_snapshot_age(),
        }
    }
}
