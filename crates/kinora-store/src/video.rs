//! `VideoStore`: videos as records and the idempotency keys that create them: create, read,
//! list, delete, expire, count.
//!
//! Time units: `now`, `created_at` and every public timestamp are Unix seconds; queue times
//! (`now_ms`, `lease_ms`, `run_at_ms`) are milliseconds because leases and backoff need them.

use async_trait::async_trait;
use kinora_core::VideoStatus;

use crate::error::Result;
use crate::record::{CreateOutcome, IdempotencyKey, NewVideo, Order, Page, VideoRecord};

#[async_trait]
pub trait VideoStore: Send + Sync {
    /// Idempotency check (per project + key) and insert as `queued`, in one transaction. The job
    /// is claimable from `created_at`.
    async fn create_video(
        &self,
        v: NewVideo,
        idem: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome>;

    /// A live video of `project`; deleted videos read as `None`.
    async fn get_video(&self, project: &str, id: &str) -> Result<Option<VideoRecord>>;

    /// A live video of any project, for workers that hold only the id.
    async fn get_video_unscoped(&self, id: &str) -> Result<Option<VideoRecord>>;

    /// Videos of `project` in creation order. `after` is the id of the previous page's last item
    /// (an unknown id is `NotFound`); `has_more` is exact.
    async fn list_videos(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<VideoRecord>>;

    /// Marks the video deleted and returns it so the caller removes its blobs. A job still queued
    /// is failed as cancelled; a running one gets `cancel_requested`.
    async fn delete_video(&self, project: &str, id: &str, now: i64) -> Result<Option<VideoRecord>>;

    /// Completed videos with `expires_at <= now` become `expired`, at most `limit` per call;
    /// returns them so the caller removes their blobs.
    async fn expire_due(&self, now: i64, limit: u32) -> Result<Vec<VideoRecord>>;

    /// Live videos per status; every status is listed, zeros included.
    async fn count_by_status(&self) -> Result<Vec<(VideoStatus, u64)>>;

    /// Forgets idempotency keys created before `before` (Unix seconds); returns how many.
    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64>;
}
