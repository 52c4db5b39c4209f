//! The job queue on the videos table: claim, heartbeat, complete, fail, cancel, reclaim, release.
//!
//! Every state change is one conditional `UPDATE … RETURNING` keyed on the lease id, so a worker
//! holding a stale lease changes nothing and gets `LeaseLost`. A change that ends a job also
//! records its `video.completed` / `video.failed` webhook event in the same transaction.

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::record::{CancelOutcome, Completion, FailOutcome, JobError, Lease, VideoRecord, codes};
use crate::sql::rows::{video_columns, video_from_row};
use crate::sql::to_json;
use kinora_core::ids;

const WORKER_LOST_MESSAGE: &str =
    "The worker rendering this video stopped responding and the job ran out of attempts.";
const CANCELLED_MESSAGE: &str = "The job was cancelled.";

impl SqliteStore {
    pub(super) async fn claim_next(
        &self,
        worker: &str,
        models: Option<&[String]>,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Lease>> {
        let lease_id = ids::lease_id();
        let models = models.map(|m| to_json("models", &m)).transpose()?;
        let row = sqlx::query(concat!(
            "UPDATE videos SET status = 'in_progress', progress = 0, \
               started_at = COALESCE(started_at, ?1 / 1000), \
               lease_id = ?2, lease_owner = ?3, lease_expires_at = ?1 + ?4, heartbeat_at = ?1, \
               attempts = attempts + 1 \
             WHERE seq = (SELECT seq FROM videos \
               WHERE status = 'queued' AND run_at <= ?1 AND deleted_at IS NULL \
               AND (?5 IS NULL OR model IN (SELECT value FROM json_each(?5))) \
               ORDER BY priority, run_at, seq LIMIT 1) \
             RETURNING ",
            video_columns!()
        ))
        .bind(now_ms)
        .bind(&lease_id)
        .bind(worker)
        .bind(lease_ms)
        .bind(models)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let video = video_from_row(&row)?;
        Ok(Some(Lease {
            attempt: video.attempts,
            video,
            lease_id,
        }))
    }

    pub(super) async fn position_of(&self, id: &str) -> Result<Option<u64>> {
        // No `deleted_at` test on the counted rows: a deleted job is never queued (delete fails a
        // queued job and cancels a running one, which then fails rather than requeues), and
        // leaving it out keeps the count on the queue index alone — about 1 ms per 10,000 jobs
        // ahead instead of a table lookup each.
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM videos o \
                WHERE o.status = 'queued' \
                AND (o.priority, o.run_at, o.seq) < (v.priority, v.run_at, v.seq)) + 1 \
             FROM videos v WHERE v.id = ? AND v.status = 'queued' AND v.deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(n.map(|n| n.max(1) as u64))
    }

    pub(super) async fn beat(
        &self,
        id: &str,
        lease_id: &str,
        progress: u8,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE videos SET lease_expires_at = ?1 + ?2, heartbeat_at = ?1, \
               progress = MAX(progress, ?3) \
             WHERE id = ?4 AND lease_id = ?5 AND status = 'in_progress' \
             RETURNING cancel_requested",
        )
        .bind(now_ms)
        .bind(lease_ms)
        .bind(i64::from(progress.min(100)))
        .bind(id)
        .bind(lease_id)
        .fetch_optional(&self.writer)
        .await?;
        cancel.map(|c| c != 0).ok_or(StoreError::LeaseLost)
    }

    pub(super) async fn finish_ok(
        &self,
        id: &str,
        lease_id: &str,
        c: Completion,
        now: i64,
    ) -> Result<VideoRecord> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE videos SET status = 'completed', progress = 100, completed_at = ?1, \
               usage_seconds = ?2, usage_cost_usd = ?3, media = ?4, expires_at = ?5, seconds = ?6, \
               error_code = NULL, error_message = NULL, \
               lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = ?7 AND lease_id = ?8 AND status = 'in_progress' RETURNING ",
            video_columns!()
        ))
        .bind(now)
        .bind(i64::from(c.usage.seconds))
        .bind(c.usage.cost_usd)
        .bind(to_json("media", &c.media)?)
        .bind(c.expires_at)
        .bind(i64::from(c.seconds))
        .bind(id)
        .bind(lease_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::LeaseLost);
        };
        let record = video_from_row(&row)?;
        Self::video_event(&mut tx, &record.project, "video.completed", &record.id, now).await?;
        tx.commit().await?;
        self.webhook_signal.notify_one();
        Ok(record)
    }

    pub(super) async fn finish_err(
        &self,
        id: &str,
        lease_id: &str,
        err: JobError,
        retry_at_ms: Option<i64>,
        now: i64,
    ) -> Result<FailOutcome> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(run_at) = retry_at_ms {
            let requeued = sqlx::query(
                "UPDATE videos SET status = 'queued', progress = 0, run_at = ?1, \
                   last_error_code = ?2, last_error_message = ?3, \
                   lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = ?4 AND lease_id = ?5 AND status = 'in_progress' \
                   AND attempts < max_attempts AND cancel_requested = 0",
            )
            .bind(run_at)
            .bind(&err.code)
            .bind(&err.message)
            .bind(id)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
            if requeued.rows_affected() == 1 {
                tx.commit().await?;
                return Ok(FailOutcome::Requeued { run_at_ms: run_at });
            }
        }
        let row = sqlx::query(concat!(
            "UPDATE videos SET status = 'failed', completed_at = ?1, \
               error_code = ?2, error_message = ?3, \
               last_error_code = ?2, last_error_message = ?3, \
               lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = ?4 AND lease_id = ?5 AND status = 'in_progress' RETURNING ",
            video_columns!()
        ))
        .bind(now)
        .bind(&err.code)
        .bind(&err.message)
        .bind(id)
        .bind(lease_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::LeaseLost);
        };
        let record = video_from_row(&row)?;
        Self::video_event(&mut tx, &record.project, "video.failed", &record.id, now).await?;
        tx.commit().await?;
        self.webhook_signal.notify_one();
        Ok(FailOutcome::Failed(record))
    }

    pub(super) async fn cancel(&self, project: &str, id: &str, now: i64) -> Result<CancelOutcome> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM videos WHERE project = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(status) = status else {
            return Ok(CancelOutcome::NotFound);
        };
        let row = match status.as_str() {
            "queued" => sqlx::query(concat!(
                "UPDATE videos SET status = 'failed', completed_at = ?, error_code = ?, \
                       error_message = ?, cancel_requested = 1 \
                     WHERE project = ? AND id = ? RETURNING ",
                video_columns!()
            ))
            .bind(now)
            .bind(codes::CANCELLED)
            .bind("The job was cancelled before it started."),
            "in_progress" => sqlx::query(concat!(
                "UPDATE videos SET cancel_requested = 1 WHERE project = ? AND id = ? RETURNING ",
                video_columns!()
            )),
            _ => sqlx::query(concat!(
                "SELECT ",
                video_columns!(),
                " FROM videos WHERE project = ? AND id = ?"
            )),
        }
        .bind(project)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let record = video_from_row(&row)?;
        let ended = status == "queued";
        if ended {
            Self::video_event(&mut tx, project, "video.failed", id, now).await?;
        }
        tx.commit().await?;
        if ended {
            self.webhook_signal.notify_one();
        }
        Ok(match status.as_str() {
            "queued" => CancelOutcome::Cancelled(record),
            "in_progress" => CancelOutcome::Requested(record),
            _ => CancelOutcome::AlreadyTerminal(record),
        })
    }

    pub(super) async fn reclaim(&self, now_ms: i64) -> Result<u64> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let requeued = sqlx::query(
            "UPDATE videos SET status = 'queued', progress = 0, run_at = ?1, \
               last_error_code = ?2, last_error_message = 'lease expired', \
               lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE status = 'in_progress' AND lease_expires_at < ?1 \
               AND attempts < max_attempts AND cancel_requested = 0",
        )
        .bind(now_ms)
        .bind(codes::WORKER_LOST)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let failed: Vec<(String, String)> = sqlx::query_as(
            "UPDATE videos SET status = 'failed', completed_at = ?1 / 1000, \
               error_code = CASE WHEN cancel_requested = 1 THEN ?2 ELSE ?3 END, \
               error_message = CASE WHEN cancel_requested = 1 THEN ?4 ELSE ?5 END, \
               lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE status = 'in_progress' AND lease_expires_at < ?1 RETURNING project, id",
        )
        .bind(now_ms)
        .bind(codes::CANCELLED)
        .bind(codes::WORKER_LOST)
        .bind(CANCELLED_MESSAGE)
        .bind(WORKER_LOST_MESSAGE)
        .fetch_all(&mut *tx)
        .await?;
        emit_failed(&mut tx, &failed, now_ms / 1000).await?;
        tx.commit().await?;
        if !failed.is_empty() {
            self.webhook_signal.notify_one();
        }
        Ok(requeued + failed.len() as u64)
    }

    pub(super) async fn release(&self, worker_prefix: &str, now_ms: i64) -> Result<u64> {
        if worker_prefix.is_empty() {
            // An empty prefix would match every worker of every node.
            return Err(StoreError::Conflict(
                "release_owner needs a non-empty worker prefix".into(),
            ));
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // substr rather than LIKE: worker names may contain % or _.
        let owned = "status = 'in_progress' AND substr(lease_owner, 1, length(?2)) = ?2";
        let cancelled: Vec<(String, String)> = sqlx::query_as(&format!(
            "UPDATE videos SET status = 'failed', completed_at = ?1 / 1000, error_code = ?3, \
               error_message = ?4, lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE {owned} AND cancel_requested = 1 RETURNING project, id"
        ))
        .bind(now_ms)
        .bind(worker_prefix)
        .bind(codes::CANCELLED)
        .bind(CANCELLED_MESSAGE)
        .fetch_all(&mut *tx)
        .await?;
        emit_failed(&mut tx, &cancelled, now_ms / 1000).await?;
        let released = sqlx::query(&format!(
            "UPDATE videos SET status = 'queued', progress = 0, run_at = ?1, \
               attempts = MAX(attempts - 1, 0), \
               lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE {owned}"
        ))
        .bind(now_ms)
        .bind(worker_prefix)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if !cancelled.is_empty() {
            self.webhook_signal.notify_one();
        }
        Ok(cancelled.len() as u64 + released)
    }
}

/// `video.failed` for each `(project, id)` a bulk transition just ended.
async fn emit_failed(
    conn: &mut sqlx::SqliteConnection,
    ended: &[(String, String)],
    now: i64,
) -> Result<()> {
    for (project, id) in ended {
        SqliteStore::video_event(conn, project, "video.failed", id, now).await?;
    }
    Ok(())
}
