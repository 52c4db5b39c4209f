//! Background upkeep: return jobs whose worker stopped heartbeating to the queue, and expire
//! media past its retention.

use std::time::Duration;

use kinora_core::clock;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jobs::media::remove_video_blobs;
use crate::state::AppState;

/// One sweep; returns (leases reclaimed, videos expired).
pub async fn sweep(state: &AppState) -> (u64, usize) {
    let reclaimed = match state.store.reclaim_expired(clock::now_millis()).await {
        Ok(n) => {
            if n > 0 {
                tracing::info!(
                    jobs = n,
                    "reclaimed jobs from workers that stopped heartbeating"
                );
                state.wake.notify_waiters();
            }
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "reclaiming leases failed");
            0
        }
    };
    let mut expired = 0;
    loop {
        match state.store.expire_due(clock::now_unix(), 100).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => {
                expired += batch.len();
                for v in &batch {
                    remove_video_blobs(state, &v.id).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiring media failed");
                break;
            }
        }
    }
    (reclaimed, expired)
}

pub fn spawn(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    // Frequent enough that a lost lease is noticed about when it lapses, and short retentions
    // (as tests use) expire promptly.
    let every = Duration::from_secs(
        state
            .settings
            .lease_seconds
            .min(state.settings.retention_seconds)
            .clamp(1, 10) as u64,
    );
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => { sweep(&state).await; }
            }
        }
    })
}
