//! The write limiter: at most `concurrency` writes in flight, at most `writes_per_second`
//! started per second (0: no rate limit), and a shared pause after plex.tv answers 429, so one
//! account's `Retry-After` holds back every writer, not just the one that was told.
//!
//! Writes all go to one host (plex.tv, or the URL that replaces it), so "per host" means one
//! limiter per client: runs that may overlap (the bot's, a schedule's) should share one
//! [`WriteLimiter`] through `ApplyJob::limiter` (or `Runner::with_limiter`).

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::config::Limits;

/// Paces the writes of every run that shares it (see the module docs).
#[derive(Debug)]
pub struct WriteLimiter {
    interval: Option<Duration>,
    next_slot: Mutex<Instant>,
    paused_until: Mutex<Instant>,
    in_flight: Semaphore,
}

/// Held while one write is in flight.
pub struct WritePermit<'a> {
    _permit: SemaphorePermit<'a>,
}

impl WriteLimiter {
    /// A limiter for `limits.concurrency` and `limits.writes_per_second`.
    pub fn new(limits: &Limits) -> WriteLimiter {
        let interval = (limits.writes_per_second > 0.0 && limits.writes_per_second.is_finite())
            .then(|| Duration::from_secs_f64(1.0 / limits.writes_per_second));
        let now = Instant::now();
        WriteLimiter {
            interval,
            next_slot: Mutex::new(now),
            paused_until: Mutex::new(now),
            in_flight: Semaphore::new(limits.concurrency.max(1)),
        }
    }

    /// Wait for a free slot, the rate, and any pause; hold the permit while the write is sent.
    pub async fn acquire(&self) -> WritePermit<'_> {
        let permit = self
            .in_flight
            .acquire()
            .await
            .expect("the limiter's semaphore is never closed");
        if let Some(interval) = self.interval {
            let slot = {
                let mut next = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
                let slot = (*next).max(Instant::now());
                *next = slot + interval;
                slot
            };
            tokio::time::sleep_until(slot).await;
        }
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            if until <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(until).await;
        }
        WritePermit { _permit: permit }
    }

    /// Hold back every writer for `wait` (plex.tv answered 429).
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if until > *paused {
            *paused = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spaces_writes_by_the_rate() {
        let limiter = WriteLimiter::new(&Limits {
            writes_per_second: 20.0,
            concurrency: 4,
            ..Limits::default()
        });
        let start = Instant::now();
        for _ in 0..5 {
            drop(limiter.acquire().await);
        }
        // Slots at 0, 50, 100, 150, 200 ms.
        assert!(start.elapsed() >= Duration::from_millis(195));
    }

    #[tokio::test]
    async fn pause_holds_everyone_and_concurrency_is_bounded() {
        let limiter = WriteLimiter::new(&Limits {
            writes_per_second: 0.0,
            concurrency: 1,
            ..Limits::default()
        });
        let held = limiter.acquire().await;
        assert!(
            tokio::time::timeout(Duration::from_millis(50), limiter.acquire())
                .await
                .is_err(),
            "a second write waits while one is in flight"
        );
        drop(held);
        let start = Instant::now();
        limiter.pause_for(Duration::from_millis(200));
        drop(limiter.acquire().await);
        assert!(start.elapsed() >= Duration::from_millis(195));
    }
}
