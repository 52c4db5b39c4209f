//! `MetadataStore`'s own verbs for each backend, stamped by [`metadata_verbs!`]: deferred blob
//! deletions and the readiness ping (one statement each, the same on both), closing and the
//! queue signal (the backend's `close_pools` and `queue_wake`). The families' verbs implement
//! their own traits in their own files.

macro_rules! metadata_verbs {
    ($store:ty, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl $crate::metadata::MetadataStore for $store {
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
