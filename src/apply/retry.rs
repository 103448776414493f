//! How the executor retries a write: bounded, `Retry-After` honoured when plex.tv sends one,
//! exponential backoff with jitter otherwise (and for 5xx, timeouts, dropped connections and
//! malformed answers). Before every retry the executor re-reads the destination, because a
//! write whose answer was lost may have landed.

use std::time::Duration;

use rand::Rng;

use crate::plex::PlexError;

/// How failed writes are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first request, per account.
    pub retries: u32,
    /// First backoff for 5xx, timeouts, dropped connections (doubles each retry).
    pub base: Duration,
    /// First backoff for a 429 without `Retry-After` (doubles each retry).
    pub rate_limit_base: Duration,
    /// Longest backoff we choose ourselves.
    pub max_delay: Duration,
    /// Longest `Retry-After` we wait out; plex.tv asking for more gives up on the account.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            base: Duration::from_millis(500),
            rate_limit_base: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// What to do after a failed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backoff {
    /// Wait this long, re-read, try again.
    Wait(Duration),
    /// plex.tv asked for a longer pause than we wait out.
    TooLong(Duration),
}

impl RetryPolicy {
    /// A policy for tests: same shape, millisecond waits (a `Retry-After` is still honoured).
    pub fn fast() -> Self {
        RetryPolicy {
            retries: 5,
            base: Duration::from_millis(5),
            rate_limit_base: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(300),
        }
    }

    /// The wait before retry number `attempt + 1` after `err`.
    pub fn backoff(&self, attempt: u32, err: &PlexError) -> Backoff {
        if let PlexError::RateLimited {
            retry_after: Some(d),
        } = err
        {
            return if *d > self.max_retry_after {
                Backoff::TooLong(*d)
            } else {
                Backoff::Wait(*d)
            };
        }
        let base = match err {
            PlexError::RateLimited { .. } => self.rate_limit_base,
            _ => self.base,
        };
        let ceiling = base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay)
            .as_millis() as u64;
        let ms = if ceiling == 0 {
            0
        } else {
            rand::thread_rng().gen_range(ceiling / 2..=ceiling)
        };
        Backoff::Wait(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_and_bounded() {
        let p = RetryPolicy::default();
        let rl = |s| PlexError::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(p.backoff(3, &rl(1)), Backoff::Wait(Duration::from_secs(1)));
        assert_eq!(
            p.backoff(0, &rl(3600)),
            Backoff::TooLong(Duration::from_secs(3600))
        );
    }

    #[test]
    fn exponential_with_jitter_and_a_cap() {
        let p = RetryPolicy::default();
        let e = PlexError::Server {
            status: 502,
            message: String::new(),
        };
        for attempt in 0..20 {
            let Backoff::Wait(d) = p.backoff(attempt, &e) else {
                panic!("5xx always waits")
            };
            let ceiling = (p.base * 2u32.pow(attempt.min(16))).min(p.max_delay);
            assert!(d <= ceiling && d >= ceiling / 2, "{attempt}: {d:?}");
        }
        let Backoff::Wait(d) = p.backoff(0, &PlexError::RateLimited { retry_after: None }) else {
            panic!()
        };
        assert!(d >= p.rate_limit_base / 2 && d <= p.rate_limit_base);
    }
}
