//! Riding out a storage outage at the end of a job. A finished render is expensive; when the
//! metadata store is briefly unreachable (PostgreSQL restarting, a failover) the attempt's result
//! is worth waiting for rather than dropping it and rendering the job again after its lease
//! lapses.

use std::future::Future;
use std::time::Duration;

use kinora_store::StoreError;

use crate::retry::{Backoff, retrying};

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
    let backoff = Backoff {
        patience: PATIENCE,
        first_wait: Duration::from_millis(200),
        max_wait: Duration::from_secs(4),
    };
    retrying(what, backoff, call).await
}
