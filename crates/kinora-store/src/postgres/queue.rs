//! The claim on PostgreSQL: the oldest claimable job of the asked models, leased in one
//! statement. The rest of the queue is shared (`crate::sql::queue`).

use super::PostgresStore;
use crate::error::Result;
use crate::record::Lease;
use crate::sql::rows::{video_columns, video_from_row};
use kinora_core::ids;

impl PostgresStore {
    pub(super) async fn claim_next(
        &self,
        worker: &str,
        models: Option<&[String]>,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Lease>> {
        let lease_id = ids::lease_id();
        // SKIP LOCKED: a job another node is claiming right now is passed over, not waited for,
        // so concurrent claimers each take a different job.
        let row = sqlx::query(concat!(
            "UPDATE videos SET status = 'in_progress', progress = 0, \
               started_at = COALESCE(started_at, $1 / 1000), \
               lease_id = $2, lease_owner = $3, lease_expires_at = $1 + $4, heartbeat_at = $1, \
               attempts = attempts + 1 \
             WHERE seq = (SELECT seq FROM videos \
               WHERE status = 'queued' AND run_at <= $1 AND deleted_at IS NULL \
               AND ($5::TEXT[] IS NULL OR model = ANY($5)) \
               ORDER BY priority, run_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING ",
            video_columns!()
        ))
        .bind(now_ms)
        .bind(&lease_id)
        .bind(worker)
        .bind(lease_ms)
        .bind(models)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let video = video_from_row(&row)?;
        Ok(Some(Lease {
            attempt: video.attempts,
            video,
            lease_id,
        }))
    }
}
