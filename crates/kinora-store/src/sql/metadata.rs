//! `MetadataStore` for each backend: the trait's verbs forwarded to the backend's own methods,
//! and the few verbs whose single statement reads the same on both (blob deletions, the queue
//! listing, the readiness ping), stamped by [`metadata_verbs!`]. A backend supplies
//! `close_pools` and `queue_wake` for what really differs.

macro_rules! metadata_verbs {
    ($store:ty, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl $crate::metadata::MetadataStore for $store {
            async fn create_video(
                &self,
                v: $crate::record::NewVideo,
                idem: Option<$crate::record::IdempotencyKey>,
            ) -> $crate::Result<$crate::record::CreateOutcome> {
                self.create_video_tx(v, idem).await
            }
            async fn get_video(&self, project: &str, id: &str) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                self.read_video(Some(project), id).await
            }
            async fn get_video_unscoped(&self, id: &str) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                self.read_video(None, id).await
            }
            async fn list_videos(
                &self,
                project: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::record::VideoRecord>> {
                self.list_video_page(project, after, limit, order).await
            }
            async fn queue_position(&self, id: &str) -> $crate::Result<Option<u64>> {
                self.position_of(id).await
            }
            async fn queued_ids(&self) -> $crate::Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT id, model FROM videos WHERE status = 'queued' ORDER BY priority, run_at, seq",
                )
                .fetch_all(&self.$read)
                .await?)
            }
            async fn claim_for(
                &self,
                worker: &str,
                models: Option<&[String]>,
                now_ms: i64,
                lease_ms: i64,
            ) -> $crate::Result<Option<$crate::record::Lease>> {
                self.claim_next(worker, models, now_ms, lease_ms).await
            }
            async fn heartbeat(
                &self,
                id: &str,
                lease_id: &str,
                progress: u8,
                now_ms: i64,
                lease_ms: i64,
            ) -> $crate::Result<bool> {
                self.beat(id, lease_id, progress, now_ms, lease_ms).await
            }
            async fn complete(
                &self,
                id: &str,
                lease_id: &str,
                c: $crate::record::Completion,
                now: i64,
            ) -> $crate::Result<$crate::record::VideoRecord> {
                self.finish_ok(id, lease_id, c, now).await
            }
            async fn fail(
                &self,
                id: &str,
                lease_id: &str,
                err: $crate::record::JobError,
                retry_at_ms: Option<i64>,
                now: i64,
            ) -> $crate::Result<$crate::record::FailOutcome> {
                self.finish_err(id, lease_id, err, retry_at_ms, now).await
            }
            async fn request_cancel(&self, project: &str, id: &str, now: i64) -> $crate::Result<$crate::record::CancelOutcome> {
                self.cancel(project, id, now).await
            }
            async fn reclaim_expired(&self, now_ms: i64) -> $crate::Result<u64> {
                self.reclaim(now_ms).await
            }
            async fn release_owner(&self, worker_prefix: &str, now_ms: i64) -> $crate::Result<u64> {
                self.release(worker_prefix, now_ms).await
            }
            async fn delete_video(&self, project: &str, id: &str, now: i64) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                self.mark_deleted(project, id, now).await
            }
            async fn expire_due(&self, now: i64, limit: u32) -> $crate::Result<Vec<$crate::record::VideoRecord>> {
                self.expire(now, limit).await
            }
            async fn count_by_status(&self) -> $crate::Result<Vec<(kinora_core::VideoStatus, u64)>> {
                self.status_counts().await
            }
            async fn purge_idempotency_keys(&self, before: i64) -> $crate::Result<u64> {
                self.purge_keys(before).await
            }
            async fn create_character(&self, c: $crate::record::CharacterRecord) -> $crate::Result<()> {
                self.insert_character(c).await
            }
            async fn get_character(&self, project: &str, id: &str) -> $crate::Result<Option<$crate::record::CharacterRecord>> {
                self.read_character(project, id).await
            }
            async fn list_characters(
                &self,
                project: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::record::CharacterRecord>> {
                self.list_character_page(project, after, limit, order).await
            }
            async fn delete_character(&self, project: &str, id: &str) -> $crate::Result<bool> {
                self.remove_character(project, id).await
            }
            async fn defer_blob_deletion(&self, prefix: &str, retry_at: i64) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO blob_deletions (prefix, retry_at) VALUES ($1, $2) \
                     ON CONFLICT (prefix) DO UPDATE SET retry_at = excluded.retry_at",
                )
                .bind(prefix)
                .bind(retry_at)
                .execute(&self.$write)
                .await?;
                Ok(())
            }
            async fn due_blob_deletions(&self, now: i64, limit: u32) -> $crate::Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT prefix FROM blob_deletions WHERE retry_at <= $1 ORDER BY retry_at LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.$read)
                .await?)
            }
            async fn forget_blob_deletion(&self, prefix: &str) -> $crate::Result<()> {
                sqlx::query("DELETE FROM blob_deletions WHERE prefix = $1")
                    .bind(prefix)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }
            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.$read).await?;
                Ok(())
            }
            async fn close(&self) {
                self.close_pools().await;
            }
            fn queue_signal(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
                self.queue_wake()
            }
        }
    };
}
pub(crate) use metadata_verbs;
