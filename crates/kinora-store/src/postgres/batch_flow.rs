//! The batch steps that move many rows: staging validated lines, enqueuing them in one
//! transaction, failing a batch's validation, and finalization.

use std::collections::HashMap;

use sqlx::Row;

use super::batches::emit_batch_event;
use super::{PostgresStore, QUEUE_CHANNEL, notify};
use crate::batch::{
    BATCH_PRIORITY_BASE, BatchOutputs, BatchRecord, LineError, RequestResult, StagedRequest,
};
use crate::error::{Result, StoreError};
use crate::sql::rows::{BATCH_COLUMNS, batch_from_row};
use crate::sql::rows::{video_columns, video_from_row};
use crate::sql::to_json;

/// Advisory lock key serializing batch enqueues across nodes: "kinora" in ASCII, then 1.
const ENQUEUE_LOCK: i64 = 0x6b69_6e6f_7261_0001;

impl PostgresStore {
    pub(super) async fn clear_staged_rows(&self, batch_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM batch_requests WHERE batch_id = $1")
            .bind(batch_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn stage_rows(&self, batch_id: &str, rows: &[StagedRequest]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for r in rows {
            let v = r.video.as_ref();
            let error = r.error.as_ref().map(|e| to_json("error", e)).transpose()?;
            let spec = v.map(|v| to_json("spec", &v.spec)).transpose()?;
            sqlx::query(
                "INSERT INTO batch_requests (batch_id, line, custom_id, video_id, model, prompt, \
                   size, seconds, seed, spec, error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(batch_id)
            .bind(r.line as i64)
            .bind(&r.custom_id)
            .bind(v.map(|v| v.video_id.as_str()))
            .bind(v.map(|v| v.model.as_str()))
            .bind(v.map(|v| v.prompt.as_str()))
            .bind(v.map(|v| v.size.to_string()))
            .bind(v.map(|v| i64::from(v.seconds)))
            // Stored bit-for-bit, as in `videos`.
            .bind(v.map(|v| v.seed as i64))
            .bind(spec)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn enqueue_staged(
        &self,
        id: &str,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Option<BatchRecord>> {
        let now = now_ms.div_euclid(1000);
        let mut tx = self.pool.begin().await?;
        // Two nodes enqueuing batches at once would read the same frontier and give their rows
        // the same priorities; one at a time, as SQLite's single writer does.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ENQUEUE_LOCK)
            .execute(&mut *tx)
            .await?;
        let project: Option<String> = sqlx::query_scalar(
            "SELECT project FROM batches WHERE id = $1 AND status = 'validating' FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(project) = project else {
            return Ok(None);
        };
        // Start-time fair queueing: this batch's first row goes at the frontier of queued batch
        // work, or after this project's own queued rows if they reach further.
        let base: i64 = sqlx::query_scalar(
            "SELECT GREATEST( \
               COALESCE((SELECT MIN(priority) FROM videos \
                         WHERE status = 'queued' AND priority >= $1), $1), \
               COALESCE((SELECT MAX(priority) + 1 FROM videos \
                         WHERE status = 'queued' AND project = $2 AND priority >= $1), $1))",
        )
        .bind(BATCH_PRIORITY_BASE)
        .bind(&project)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO videos (id, project, model, status, progress, created_at, prompt, size, \
               seconds, seed, spec, batch_id, priority, max_attempts, attempts, run_at) \
             SELECT video_id, $1, model, 'queued', 0, $2, prompt, size, seconds, seed, spec, \
               batch_id, $3 + ROW_NUMBER() OVER (ORDER BY line) - 1, $4, 0, $5 \
             FROM batch_requests WHERE batch_id = $6 AND video_id IS NOT NULL \
             ORDER BY line",
        )
        .bind(&project)
        .bind(now)
        .bind(base)
        .bind(i64::from(max_attempts))
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let model: Option<String> = sqlx::query_scalar(
            "SELECT model FROM batch_requests WHERE batch_id = $1 AND model IS NOT NULL \
             GROUP BY model ORDER BY COUNT(*) DESC, MIN(line) LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "UPDATE batches SET status = 'in_progress', in_progress_at = $1, model = $2 \
             WHERE id = $3 RETURNING {BATCH_COLUMNS}"
        ))
        .bind(now)
        .bind(model)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let batch = batch_from_row(&row)?;
        notify(&mut tx, QUEUE_CHANNEL).await?;
        tx.commit().await?;
        Ok(Some(batch))
    }

    pub(super) async fn fail_validation(
        &self,
        id: &str,
        errors: Vec<LineError>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE batches SET status = 'failed', failed_at = $1, errors = $2 \
             WHERE id = $3 AND status IN ('validating', 'cancelling') RETURNING {BATCH_COLUMNS}"
        ))
        .bind(now)
        .bind(to_json("errors", &errors)?)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut emitted = false;
        if let Some(row) = row {
            sqlx::query("DELETE FROM batch_requests WHERE batch_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            emitted = emit_batch_event(&mut tx, &batch_from_row(&row)?, now).await?;
        }
        tx.commit().await?;
        self.emitted(emitted);
        Ok(())
    }

    pub(super) async fn result_page(
        &self,
        batch_id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<RequestResult>> {
        let rows = sqlx::query(
            "SELECT line, custom_id, error, video_id FROM batch_requests \
             WHERE batch_id = $1 AND line > $2 ORDER BY line LIMIT $3",
        )
        .bind(batch_id)
        .bind(after_line as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(Vec::new());
        };
        let last_line: i64 = last.try_get("line")?;
        let videos = sqlx::query(concat!(
            "SELECT ",
            video_columns!(),
            " FROM videos WHERE id IN (SELECT video_id FROM batch_requests \
               WHERE batch_id = $1 AND line > $2 AND line <= $3 AND video_id IS NOT NULL)"
        ))
        .bind(batch_id)
        .bind(after_line as i64)
        .bind(last_line)
        .fetch_all(&self.pool)
        .await?;
        let mut videos = videos
            .iter()
            .map(|r| video_from_row(r).map(|v| (v.id.clone(), v)))
            .collect::<Result<HashMap<_, _>>>()?;
        rows.iter()
            .map(|row| {
                let error = row
                    .try_get::<Option<String>, _>("error")?
                    .map(|e| {
                        serde_json::from_str::<LineError>(&e)
                            .map_err(|e| StoreError::Backend(format!("stored line error: {e}")))
                    })
                    .transpose()?;
                let video_id: Option<String> = row.try_get("video_id")?;
                Ok(RequestResult {
                    line: row.try_get::<i64, _>("line")?.max(0) as u64,
                    custom_id: row.try_get("custom_id")?,
                    error,
                    // Absent for a request that never ran (invalid, or the batch ended first).
                    video: video_id.and_then(|id| videos.remove(&id)),
                })
            })
            .collect()
    }

    pub(super) async fn finish_finalizing(
        &self,
        id: &str,
        outputs: BatchOutputs,
        now: i64,
    ) -> Result<BatchRecord> {
        let mut tx = self.pool.begin().await?;
        for f in [&outputs.output, &outputs.errors].into_iter().flatten() {
            crate::sql::files::insert_file!(&mut *tx, f)?;
        }
        let row = sqlx::query(&format!(
            "UPDATE batches SET status = outcome, output_file_id = $1, error_file_id = $2, \
               completed_at = CASE WHEN outcome = 'completed' THEN $3 END, \
               expired_at = CASE WHEN outcome = 'expired' THEN $3 END, \
               cancelled_at = CASE WHEN outcome = 'cancelled' THEN $3 END, \
               driver = NULL, driver_until = NULL \
             WHERE id = $4 AND status = 'finalizing' RETURNING {BATCH_COLUMNS}"
        ))
        .bind(outputs.output.as_ref().map(|f| f.id.as_str()))
        .bind(outputs.errors.as_ref().map(|f| f.id.as_str()))
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let batch = batch_from_row(&row.ok_or(StoreError::Conflict(format!(
            "batch {id} is not finalizing"
        )))?)?;
        let emitted = emit_batch_event(&mut tx, &batch, now).await?;
        tx.commit().await?;
        self.emitted(emitted);
        Ok(batch)
    }
}
