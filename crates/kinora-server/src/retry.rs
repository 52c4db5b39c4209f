//! Trying a call again while its failure is transient: the one backoff loop behind the node's
//! job-ending store calls (`jobs::store_retry`) and `kinora worker`'s calls to its node
//! (`worker::http`). Each error type says which of its failures may pass by themselves.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use kinora_store::StoreError;
use tokio::time::Instant;

/// A failure that may pass if the same call is made again later.
pub trait Transient: Display {
    fn is_transient(&self) -> bool;
}

impl Transient for StoreError {
    fn is_transient(&self) -> bool {
        self.is_retryable()
    }
}

/// How long to keep trying, and how to wait in between.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// No new try starts once a wait would end after this long since the first.
    pub patience: Duration,
    /// The first wait; each next one is twice as long, up to `max_wait`.
    pub first_wait: Duration,
    pub max_wait: Duration,
}

/// Runs `call` until it succeeds, fails for good, or `backoff.patience` has passed; returns the
/// last result. Only for calls that are safe to repeat.
pub async fn retrying<T, E, F, Fut>(what: &str, backoff: Backoff, mut call: F) -> Result<T, E>
where
    E: Transient,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + backoff.patience;
    let mut wait = backoff.first_wait;
    loop {
        match call().await {
            Err(e) if e.is_transient() && Instant::now() + wait < deadline => {
                tracing::warn!(error = %e, "{what} failed; retrying in {wait:?}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(backoff.max_wait);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const MS: Duration = Duration::from_millis(1);

    fn within(patience: Duration) -> Backoff {
        Backoff {
            patience,
            first_wait: MS,
            max_wait: 4 * MS,
        }
    }

    #[tokio::test]
    async fn retries_only_while_transient() {
        let calls = AtomicU32::new(0);
        let got = retrying("test", within(1000 * MS), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(StoreError::Unavailable("restarting".into())),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(got.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let lost: Result<(), _> = retrying("test", within(1000 * MS), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(StoreError::LeaseLost)
        })
        .await;
        assert!(matches!(lost, Err(StoreError::LeaseLost)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_after_its_patience() {
        let start = Instant::now();
        let calls = AtomicU32::new(0);
        let down: Result<(), _> = retrying("test", within(50 * MS), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(StoreError::Unavailable("down".into()))
        })
        .await;
        assert!(matches!(down, Err(StoreError::Unavailable(_))));
        assert!(calls.load(Ordering::SeqCst) >= 3);
        assert!(
            start.elapsed() >= 10 * MS,
            "it kept trying for a while first"
        );
    }
}
