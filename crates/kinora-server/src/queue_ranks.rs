//! `queue_position` for reads at API rates.
//!
//! A job's exact position is a count over the queue index, about 1 ms per 5,000 jobs ahead on
//! the 2-core machine, and a list page of 20 queued videos pays it 20 times. Instead, one snapshot
//! of the queue's claim order serves every read for up to `MAX_AGE`; a job the snapshot does not
//! know (it joined after) refreshes it if the snapshot is older than `MISS_AGE`, and only then
//! falls back to the exact count. While one reader refreshes, the others keep answering from the
//! previous snapshot. So positions are at most `MAX_AGE` plus one refresh old, and a busy node
//! reads the queue a bounded number of times per second however many clients poll.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kinora_store::{MetadataStore, Result};

const MAX_AGE: Duration = Duration::from_millis(250);
const MISS_AGE: Duration = Duration::from_millis(50);

#[derive(Default)]
pub struct QueueRanks {
    snapshot: Mutex<Snapshot>,
    /// One reader refreshes at a time; the others answer from the previous snapshot meanwhile, so
    /// a refresh of a long queue never stalls reads.
    refreshing: AtomicBool,
}

#[derive(Default, Clone)]
struct Snapshot {
    taken: Option<Instant>,
    ranks: Arc<HashMap<String, u64>>,
}

/// Clears the refresh flag however the refresh ends.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl QueueRanks {
    /// The 1-based position of queued job `id` among the queued jobs of its worker pool
    /// (`pool_of` maps a model id to its pool), or `None` when it is not queued.
    pub async fn position(
        &self,
        store: &dyn MetadataStore,
        id: &str,
        pool_of: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Option<u64>> {
        self.position_at(store, id, Instant::now(), pool_of).await
    }

    fn current(&self) -> Snapshot {
        self.snapshot.lock().map(|s| s.clone()).unwrap_or_default()
    }

    async fn position_at(
        &self,
        store: &dyn MetadataStore,
        id: &str,
        now: Instant,
        pool_of: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Option<u64>> {
        let mut snap = self.current();
        let age = snap.taken.map(|t| now.saturating_duration_since(t));
        let miss = !snap.ranks.contains_key(id);
        let due = match age {
            None => true,
            Some(age) => age > MAX_AGE || (miss && age > MISS_AGE),
        };
        if due && !self.refreshing.swap(true, Ordering::AcqRel) {
            let _guard = Refreshing(&self.refreshing);
            let queued = store.queued_ids().await?;
            let mut per_pool: HashMap<String, u64> = HashMap::new();
            let ranks = queued
                .into_iter()
                .map(|(id, model)| {
                    let rank = per_pool.entry(pool_of(&model)).or_default();
                    *rank += 1;
                    (id, *rank)
                })
                .collect();
            snap = Snapshot {
                taken: Some(now),
                ranks: Arc::new(ranks),
            };
            if let Ok(mut shared) = self.snapshot.lock() {
                *shared = snap.clone();
            }
        }
        if let Some(rank) = snap.ranks.get(id) {
            return Ok(Some(*rank));
        }
        // Joined within the last MISS_AGE while another reader refreshes: the exact count over
        // every pool, at most a refresh away from the per-pool rank.
        store.queue_position(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinora_core::{JobSpec, VideoSize};
    use kinora_store::NewVideo;

    fn video(id: &str) -> NewVideo {
        NewVideo {
            id: id.into(),
            project: "p".into(),
            model: "sora-2".into(),
            prompt: Some("p".into()),
            size: VideoSize::new(1280, 720),
            seconds: 4,
            seed: 1,
            spec: JobSpec::Create {
                input_reference: None,
                characters: Vec::new(),
            },
            remixed_from_video_id: None,
            batch_id: None,
            priority: 0,
            max_attempts: 3,
            created_at: 1_700_000_000,
        }
    }

    const POOL: &(dyn Fn(&str) -> String + Sync) = &|_: &str| "builtin".to_string();

    #[tokio::test]
    async fn snapshot_then_new_jobs_then_claims() {
        let store = kinora_store::open_sqlite_memory().await.unwrap();
        let ranks = QueueRanks::default();
        store.create_video(video("video_a"), None).await.unwrap();
        store.create_video(video("video_b"), None).await.unwrap();
        assert_eq!(
            ranks.position(&*store, "video_b", POOL).await.unwrap(),
            Some(2)
        );
        // Joined after the snapshot: found by the exact count until the snapshot is refreshed.
        store.create_video(video("video_c"), None).await.unwrap();
        assert_eq!(
            ranks.position(&*store, "video_c", POOL).await.unwrap(),
            Some(3)
        );
        assert_eq!(
            ranks.position(&*store, "video_zz", POOL).await.unwrap(),
            None
        );
        store
            .claim("w", 1_700_000_000_000, 30_000)
            .await
            .unwrap()
            .unwrap();
        // Within MAX_AGE the snapshot still answers; after it, the claim shows.
        let t0 = ranks.current().taken.unwrap();
        assert_eq!(
            ranks
                .position_at(&*store, "video_b", t0, POOL)
                .await
                .unwrap(),
            Some(2)
        );
        let later = t0 + MAX_AGE + Duration::from_millis(1);
        assert_eq!(
            ranks
                .position_at(&*store, "video_b", later, POOL)
                .await
                .unwrap(),
            Some(1)
        );
        assert_eq!(
            ranks
                .position_at(&*store, "video_a", later, POOL)
                .await
                .unwrap(),
            None
        );
    }
}
