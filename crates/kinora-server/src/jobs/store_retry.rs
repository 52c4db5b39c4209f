//! Riding out a storage outage at the end of a job. A finished render is expensive; when the
//! metadata store is briefly unreachable (PostgreSQL restarting, a failover) the attempt's result
//! is worth waiting for rather than dropping it and rendering the job again after its lease
//! lapses.

use std::future::Future;
use std::time::{Duration, Instant};

use kinora_store::StoreError;

/// How long one store call is retried while the backend reports itself unavailable. Longer than
/// a PostgreSQL restart, shorter than the default lease (30 s) plus the sweeper's pass, so a node
/// that stays cut off gives the job back to the queue instead of holding it.
pub const PATIENCE: Duration = Duration::from_secs(25);

/// Runs `call` until it succeeds, fails for a reason other than unavailability, or `PATIENCE`
/// has passed. Only for calls that are safe to repeat: every job-ending store call is fenced by
/// the lease id, so a retry after a lost answer gets `LeaseLost`, never a second effect.
pub async fn patiently<T, F, Fut>(what: &str, call: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    retry_within(what, PATIENCE, Duration::from_millis(200), call).await
}

async fn retry_within<T, F, Fut>(
    what: &str,
    patience: Duration,
    first_wait: Duration,
    mut call: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + patience;
    let mut wait = first_wait;
    loop {
        match call().await {
            Err(e) if e.is_retryable() && Instant::now() + wait < deadline => {
                tracing::warn!(error = %e, "{what}: storage unavailable; retrying in {wait:?}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(4));
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

    #[tokio::test]
    async fn retries_only_while_unavailable() {
        let calls = AtomicU32::new(0);
        let got = retry_within("test", 1000 * MS, MS, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(StoreError::Unavailable("restarting".into())),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(got.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let lost: Result<(), _> = retry_within("test", 1000 * MS, MS, || async {
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
        let down: Result<(), _> = retry_within("test", 50 * MS, MS, || async {
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
