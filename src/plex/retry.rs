//! Bounded retries of transient failures, and requests run side by side.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use super::PlexError;

/// Longest wait between read retries, whatever `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long to wait before retry number `attempt + 1` after `err`: `Retry-After` when
/// plex.tv sent one (capped at 30 s), otherwise exponential backoff with jitter (200 ms base,
/// 1 s base for a 429 without `Retry-After`), capped at 30 s.
pub fn backoff_delay(attempt: u32, err: &PlexError) -> Duration {
    if let PlexError::RateLimited {
        retry_after: Some(d),
    } = err
    {
        return (*d).min(MAX_BACKOFF);
    }
    let base_ms: u64 = match err {
        PlexError::RateLimited { .. } => 1_000,
        _ => 200,
    };
    let exp = base_ms.saturating_mul(1u64 << attempt.min(16));
    let cap = MAX_BACKOFF.as_millis() as u64;
    let ceiling = exp.min(cap);
    let ms = rand::thread_rng().gen_range(ceiling / 2..=ceiling);
    Duration::from_millis(ms)
}

/// Run `op` and re-run it on transient errors ([`PlexError::is_transient`]) up to `retries`
/// more times, waiting [`backoff_delay`] between attempts. `op` gets the attempt number
/// (0 first). Exposed for the executor, which owns write retries and their idempotency.
pub async fn retry_transient<T, F, Fut>(retries: u32, mut op: F) -> Result<T, PlexError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, PlexError>>,
{
    let mut attempt = 0;
    loop {
        match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() && attempt < retries => {
                let wait = backoff_delay(attempt, &e);
                tracing::debug!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "transient plex.tv failure, retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A tuple of results from requests run side by side → all values, or the first error in
/// argument order (deterministic, whichever finished first).
pub trait AllOk {
    type Out;
    fn all_ok(self) -> Result<Self::Out, PlexError>;
}

macro_rules! impl_all_ok {
    ($($t:ident $v:ident),+) => {
        impl<$($t),+> AllOk for ($(Result<$t, PlexError>,)+) {
            type Out = ($($t,)+);
            fn all_ok(self) -> Result<Self::Out, PlexError> {
                let ($($v,)+) = self;
                Ok(($($v?,)+))
            }
        }
    };
}
impl_all_ok!(A a, B b);
impl_all_ok!(A a, B b, C c);
impl_all_ok!(A a, B b, C c, D d);
impl_all_ok!(A a, B b, C c, D d, E e);

/// Run reads side by side and wait for all of them (no request is left in flight when one
/// fails), then give every value or the first error in argument order.
macro_rules! all_of {
    ($($f:expr),+ $(,)?) => {
        $crate::plex::retry::AllOk::all_ok(futures::join!($($f),+))
    };
}
pub(crate) use all_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_bounds() {
        let e = PlexError::Server {
            status: 503,
            message: String::new(),
        };
        for attempt in 0..40 {
            let d = backoff_delay(attempt, &e);
            assert!(d <= MAX_BACKOFF);
        }
        assert!(backoff_delay(0, &e) <= Duration::from_millis(200));
        let rl = PlexError::RateLimited {
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(backoff_delay(0, &rl), MAX_BACKOFF);
        let rl = PlexError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(backoff_delay(5, &rl), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn retries_stop_at_the_bound_and_skip_bad_token() {
        let mut calls = 0;
        let r: Result<(), _> = retry_transient(2, |_| {
            calls += 1;
            async {
                Err(PlexError::RateLimited {
                    retry_after: Some(Duration::ZERO),
                })
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r: Result<(), _> = retry_transient(5, |_| {
            calls += 1;
            async { Err(PlexError::BadToken) }
        })
        .await;
        assert_eq!(r, Err(PlexError::BadToken));
        assert_eq!(calls, 1);
    }
}
