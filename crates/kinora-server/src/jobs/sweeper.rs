//! Background upkeep: return jobs whose worker stopped heartbeating to the queue, expire media
//! and files past their retention, retry blob deletions the blob store refused, and forget
//! remote workers long gone.

use std::time::Duration;

use kinora_core::clock;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jobs::media::{delete_blobs, remove_video_blobs, retry_deletions};
use crate::state::AppState;

/// Registered workers silent this long leave the registry.
const FORGET_WORKERS_AFTER_MS: i64 = 24 * 3600 * 1000;

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
    expire_files(state).await;
    retry_deletions(state, clock::now_unix()).await;
    // Gone for a day: a worker that comes back registers again.
    if let Err(e) = state
        .store
        .forget_workers(clock::now_millis() - FORGET_WORKERS_AFTER_MS)
        .await
    {
        tracing::warn!(error = %e, "forgetting departed workers failed");
    }
    (reclaimed, expired)
}

/// Files past their `expires_at` (batch inputs after 30 days by default, batch outputs per
/// `output_expires_after`): the record goes first, then the bytes.
async fn expire_files(state: &AppState) {
    loop {
        match state.store.expire_files(clock::now_unix(), 100).await {
            Ok(files) if files.is_empty() => break,
            Ok(files) => {
                for f in &files {
                    delete_blobs(state, &f.blob_prefix()).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiring files failed");
                break;
            }
        }
    }
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
