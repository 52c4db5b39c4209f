//! `BatchStore` on PostgreSQL: records, paging, driver leases, cancel and expiry. The validation
//! and finalization steps are in `batch_flow`.

use async_trait::async_trait;
use sqlx::{PgConnection, Row};

use super::PostgresStore;
use super::webhooks::emit_event;
use crate::batch::{
    BatchCancel, BatchCounts, BatchOutputs, BatchRecord, BatchStore, LineError, RequestResult,
    StagedRequest,
};
use crate::error::Result;
use crate::record::{Order, Page};
use crate::sql::rows::{BATCH_COLUMNS, batch_from_row};
use crate::sql::{PageOf, keyset_page, to_json};

/// Ends the batch's queued jobs with `code` and asks its running ones to stop. No per-video
/// webhook: the batch's own event reports them.
pub(super) async fn stop_jobs(
    conn: &mut PgConnection,
    batch_id: &str,
    code: &str,
    message: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE videos SET status = 'failed', completed_at = $1, error_code = $2, \
           error_message = $3, cancel_requested = TRUE \
         WHERE batch_id = $4 AND status = 'queued'",
    )
    .bind(now)
    .bind(code)
    .bind(message)
    .bind(batch_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE videos SET cancel_requested = TRUE WHERE batch_id = $1 AND status = 'in_progress'",
    )
    .bind(batch_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `batch.<status>` for `b`; true if any delivery was recorded.
pub(super) async fn emit_batch_event(
    conn: &mut PgConnection,
    b: &BatchRecord,
    now: i64,
) -> Result<bool> {
    let event = format!("batch.{}", b.status.as_str());
    emit_event(
        conn,
        &b.project,
        &event,
        serde_json::json!({ "id": b.id }),
        now,
    )
    .await
}

#[async_trait]
impl BatchStore for PostgresStore {
    async fn create_batch(&self, b: BatchRecord) -> Result<()> {
        let metadata = b
            .metadata
            .as_ref()
            .map(|m| to_json("metadata", m))
            .transpose()?;
        sqlx::query(
            "INSERT INTO batches (id, project, endpoint, input_file_id, completion_window, \
               status, model, metadata, output_expires_after, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&b.id)
        .bind(&b.project)
        .bind(&b.endpoint)
        .bind(&b.input_file_id)
        .bind(&b.completion_window)
        .bind(b.status.as_str())
        .bind(&b.model)
        .bind(metadata)
        .bind(b.output_expires_after)
        .bind(b.created_at)
        .bind(b.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_batch(&self, project: &str, id: &str) -> Result<Option<BatchRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE project = $1 AND id = $2"
        ))
        .bind(project)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(batch_from_row).transpose()
    }

    async fn list_batches(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<BatchRecord>> {
        let of = PageOf {
            table: "batches",
            columns: BATCH_COLUMNS,
            live_only: false,
        };
        keyset_page!(&self.pool, of, project, after, limit, order, batch_from_row)
    }

    async fn batch_counts(&self, id: &str) -> Result<BatchCounts> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, \
               COUNT(*) FILTER (WHERE v.status IN ('completed', 'expired')) AS completed, \
               COUNT(*) FILTER (WHERE r.error IS NOT NULL OR v.id IS NULL \
                                OR v.status = 'failed') AS failed \
             FROM batch_requests r LEFT JOIN videos v ON v.id = r.video_id \
             WHERE r.batch_id = $1 \
               AND EXISTS (SELECT 1 FROM batches b WHERE b.id = r.batch_id \
                           AND b.status NOT IN ('validating', 'failed'))",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let n = |c: &str| -> Result<u64> { Ok(row.try_get::<i64, _>(c)?.max(0) as u64) };
        Ok(BatchCounts {
            total: n("total")?,
            completed: n("completed")?,
            failed: n("failed")?,
        })
    }

    async fn open_batches(&self, limit: u32) -> Result<Vec<BatchRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches \
             WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') \
             ORDER BY (status = 'in_progress'), seq LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_from_row).collect()
    }

    async fn acquire_batch(
        &self,
        id: &str,
        driver: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        // One conditional UPDATE: PostgreSQL re-checks the condition on the row a concurrent
        // acquirer just wrote, so only one driver wins.
        let done = sqlx::query(
            "UPDATE batches SET driver = $1, driver_until = $2 + $3 \
             WHERE id = $4 AND (driver IS NULL OR driver = $1 OR driver_until < $2)",
        )
        .bind(driver)
        .bind(now_ms)
        .bind(lease_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_batch(&self, id: &str, driver: &str) -> Result<()> {
        sqlx::query(
            "UPDATE batches SET driver = NULL, driver_until = NULL WHERE id = $1 AND driver = $2",
        )
        .bind(id)
        .bind(driver)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_staged(&self, batch_id: &str) -> Result<()> {
        self.clear_staged_rows(batch_id).await
    }
    async fn stage_requests(&self, batch_id: &str, rows: &[StagedRequest]) -> Result<()> {
        self.stage_rows(batch_id, rows).await
    }
    async fn enqueue_batch(
        &self,
        id: &str,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Option<BatchRecord>> {
        self.enqueue_staged(id, max_attempts, now_ms).await
    }
    async fn fail_batch(&self, id: &str, errors: Vec<LineError>, now: i64) -> Result<()> {
        self.fail_validation(id, errors, now).await
    }

    async fn cancel_batch(&self, project: &str, id: &str, now: i64) -> Result<BatchCancel> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE batches SET status = 'cancelling', outcome = 'cancelled', cancelling_at = $1 \
             WHERE project = $2 AND id = $3 AND status IN ('validating', 'in_progress') \
             RETURNING {BATCH_COLUMNS}"
        ))
        .bind(now)
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match row {
            Some(row) => {
                let b = batch_from_row(&row)?;
                stop_jobs(
                    &mut tx,
                    id,
                    crate::record::codes::CANCELLED,
                    "The batch was cancelled before this request ran.",
                    now,
                )
                .await?;
                BatchCancel::Cancelling(b)
            }
            None => match sqlx::query(&format!(
                "SELECT {BATCH_COLUMNS} FROM batches WHERE project = $1 AND id = $2"
            ))
            .bind(project)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(row) => BatchCancel::Ended(batch_from_row(&row)?),
                None => BatchCancel::NotFound,
            },
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn expire_batches(&self, now: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE batches SET outcome = 'expired' \
             WHERE status = 'in_progress' AND outcome IS NULL AND expires_at <= $1 RETURNING id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            stop_jobs(
                &mut tx,
                id,
                "batch_expired",
                "This request could not be executed before the completion window expired.",
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    async fn unfinished_jobs(&self, batch_id: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM videos \
             WHERE batch_id = $1 AND status IN ('queued', 'in_progress')",
        )
        .bind(batch_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as u64)
    }

    async fn begin_finalizing(&self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE batches SET status = 'finalizing', finalizing_at = $1, \
               outcome = COALESCE(outcome, 'completed') \
             WHERE id = $2 AND status IN ('in_progress', 'cancelling')",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn request_results(
        &self,
        batch_id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<RequestResult>> {
        self.result_page(batch_id, after_line, limit).await
    }

    async fn finish_batch(&self, id: &str, outputs: BatchOutputs, now: i64) -> Result<BatchRecord> {
        self.finish_finalizing(id, outputs, now).await
    }
}
