//! The batch steps that move many rows: staging validated lines, enqueuing them in one
//! transaction, failing a batch's validation, and finalization; stamped onto each backend by
//! [`batch_flow_verbs!`].

pub(crate) const CLEAR: &str = "DELETE FROM batch_requests WHERE batch_id = $1";
pub(crate) const STAGE: &str = "INSERT INTO batch_requests (batch_id, line, custom_id, video_id, \
     model, prompt, size, seconds, seed, spec, error) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
/// Binds: project, now, first priority, max attempts, now (ms), batch id. Rows keep their line
/// order in consecutive priorities.
pub(crate) const ENQUEUE: &str = "INSERT INTO videos (id, project, model, status, progress, \
       created_at, prompt, size, seconds, seed, spec, batch_id, priority, max_attempts, attempts, \
       run_at) \
     SELECT video_id, $1, model, 'queued', 0, $2, prompt, size, seconds, seed, spec, \
       batch_id, $3 + ROW_NUMBER() OVER (ORDER BY line) - 1, $4, 0, $5 \
     FROM batch_requests WHERE batch_id = $6 AND video_id IS NOT NULL \
     ORDER BY line";
/// The batch's label: its most common model, the earliest on a tie.
pub(crate) const MAIN_MODEL: &str = "SELECT model FROM batch_requests \
     WHERE batch_id = $1 AND model IS NOT NULL \
     GROUP BY model ORDER BY COUNT(*) DESC, MIN(line) LIMIT 1";

/// Binds: now, model, id.
pub(crate) fn started_sql() -> String {
    format!(
        "UPDATE batches SET status = 'in_progress', in_progress_at = $1, model = $2 \
         WHERE id = $3 RETURNING {}",
        super::rows::BATCH_COLUMNS
    )
}

/// Binds: now, errors JSON, id.
pub(crate) fn failed_sql() -> String {
    format!(
        "UPDATE batches SET status = 'failed', failed_at = $1, errors = $2 \
         WHERE id = $3 AND status IN ('validating', 'cancelling') RETURNING {}",
        super::rows::BATCH_COLUMNS
    )
}

pub(crate) const RESULT_LINES: &str = "SELECT line, custom_id, error, video_id \
     FROM batch_requests WHERE batch_id = $1 AND line > $2 ORDER BY line LIMIT $3";
pub(crate) const RESULT_VIDEOS: &str = concat!(
    "SELECT ",
    crate::sql::rows::video_columns!(),
    " FROM videos WHERE id IN (SELECT video_id FROM batch_requests \
       WHERE batch_id = $1 AND line > $2 AND line <= $3 AND video_id IS NOT NULL)"
);

/// Binds: output file id, error file id, now, id.
pub(crate) fn finished_sql() -> String {
    format!(
        "UPDATE batches SET status = outcome, output_file_id = $1, error_file_id = $2, \
           completed_at = CASE WHEN outcome = 'completed' THEN $3 END, \
           expired_at = CASE WHEN outcome = 'expired' THEN $3 END, \
           cancelled_at = CASE WHEN outcome = 'cancelled' THEN $3 END, \
           driver = NULL, driver_until = NULL \
         WHERE id = $4 AND status = 'finalizing' RETURNING {}",
        super::rows::BATCH_COLUMNS
    )
}

/// One request line's result row, its video looked up in `videos` (taken out of it).
pub(crate) fn result_of<R: super::Cols>(
    row: &R,
    videos: &mut std::collections::HashMap<String, crate::record::VideoRecord>,
) -> crate::Result<crate::batch::RequestResult> {
    let error = row
        .col::<Option<String>>("error")?
        .map(|e| {
            serde_json::from_str::<crate::batch::LineError>(&e)
                .map_err(|e| super::corrupt("line error", e))
        })
        .transpose()?;
    let video_id: Option<String> = row.col("video_id")?;
    Ok(crate::batch::RequestResult {
        line: row.col::<i64>("line")?.max(0) as u64,
        custom_id: row.col("custom_id")?,
        error,
        // Absent for a request that never ran (invalid, or the batch ended first).
        video: video_id.and_then(|id| videos.remove(&id)),
    })
}

macro_rules! batch_flow_verbs {
    ($store:ty, $write:ident, $read:ident, for_update = $for_update:literal, greatest = $greatest:literal) => {
        impl $store {
            pub(super) async fn clear_staged_rows(&self, batch_id: &str) -> $crate::Result<()> {
                sqlx::query($crate::sql::batch_flow::CLEAR)
                    .bind(batch_id)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            pub(super) async fn stage_rows(
                &self,
                batch_id: &str,
                rows: &[$crate::batch::StagedRequest],
            ) -> $crate::Result<()> {
                use $crate::sql::to_json;
                let mut tx = self.begin_write().await?;
                for r in rows {
                    let v = r.video.as_ref();
                    let error = r.error.as_ref().map(|e| to_json("error", e)).transpose()?;
                    let spec = v.map(|v| to_json("spec", &v.spec)).transpose()?;
                    sqlx::query($crate::sql::batch_flow::STAGE)
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
            ) -> $crate::Result<Option<$crate::batch::BatchRecord>> {
                use $crate::sql::batch_flow as q;
                let now = now_ms.div_euclid(1000);
                let mut tx = self.begin_write().await?;
                // Two nodes enqueuing batches at once would read the same frontier and give
                // their rows the same priorities: one at a time.
                Self::lock_key(&mut tx, "batches", "enqueue").await?;
                let project: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT project FROM batches WHERE id = $1 AND status = 'validating'",
                    $for_update
                ))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(project) = project else {
                    return Ok(None);
                };
                // Start-time fair queueing: this batch's first row goes at the frontier of queued
                // batch work, or after this project's own queued rows if they reach further.
                let base: i64 = sqlx::query_scalar(concat!(
                    "SELECT ",
                    $greatest,
                    "( \
                       COALESCE((SELECT MIN(priority) FROM videos \
                                 WHERE status = 'queued' AND priority >= $1), $1), \
                       COALESCE((SELECT MAX(priority) + 1 FROM videos \
                                 WHERE status = 'queued' AND project = $2 AND priority >= $1), $1))"
                ))
                .bind($crate::batch::BATCH_PRIORITY_BASE)
                .bind(&project)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(q::ENQUEUE)
                    .bind(&project)
                    .bind(now)
                    .bind(base)
                    .bind(i64::from(max_attempts))
                    .bind(now_ms)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let model: Option<String> = sqlx::query_scalar(q::MAIN_MODEL)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let row = sqlx::query(&q::started_sql())
                    .bind(now)
                    .bind(model)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let batch = $crate::sql::rows::batch_from_row(&row)?;
                Self::wake_queue_in(&mut tx).await?;
                tx.commit().await?;
                Ok(Some(batch))
            }

            pub(super) async fn fail_validation(
                &self,
                id: &str,
                errors: Vec<$crate::batch::LineError>,
                now: i64,
            ) -> $crate::Result<()> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(&$crate::sql::batch_flow::failed_sql())
                    .bind(now)
                    .bind($crate::sql::to_json("errors", &errors)?)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let mut emitted = false;
                if let Some(row) = row {
                    sqlx::query($crate::sql::batch_flow::CLEAR)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    let batch = $crate::sql::rows::batch_from_row(&row)?;
                    emitted = Self::batch_event(&mut tx, &batch, now).await?;
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
            ) -> $crate::Result<Vec<$crate::batch::RequestResult>> {
                use $crate::sql::Cols as _;
                use $crate::sql::batch_flow as q;
                let rows = sqlx::query(q::RESULT_LINES)
                    .bind(batch_id)
                    .bind(after_line as i64)
                    .bind(i64::from(limit))
                    .fetch_all(&self.$read)
                    .await?;
                let Some(last) = rows.last() else {
                    return Ok(Vec::new());
                };
                let last_line: i64 = last.col("line")?;
                let videos = sqlx::query(q::RESULT_VIDEOS)
                    .bind(batch_id)
                    .bind(after_line as i64)
                    .bind(last_line)
                    .fetch_all(&self.$read)
                    .await?;
                let mut videos = videos
                    .iter()
                    .map(|r| $crate::sql::rows::video_from_row(r).map(|v| (v.id.clone(), v)))
                    .collect::<$crate::Result<std::collections::HashMap<_, _>>>()?;
                rows.iter().map(|row| q::result_of(row, &mut videos)).collect()
            }

            pub(super) async fn finish_finalizing(
                &self,
                id: &str,
                outputs: $crate::batch::BatchOutputs,
                now: i64,
            ) -> $crate::Result<$crate::batch::BatchRecord> {
                let mut tx = self.begin_write().await?;
                for f in [&outputs.output, &outputs.errors].into_iter().flatten() {
                    $crate::sql::files::insert_file!(&mut *tx, f)?;
                }
                let row = sqlx::query(&$crate::sql::batch_flow::finished_sql())
                    .bind(outputs.output.as_ref().map(|f| f.id.as_str()))
                    .bind(outputs.errors.as_ref().map(|f| f.id.as_str()))
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let row = row.ok_or_else(|| {
                    $crate::StoreError::Conflict(format!("batch {id} is not finalizing"))
                })?;
                let batch = $crate::sql::rows::batch_from_row(&row)?;
                let emitted = Self::batch_event(&mut tx, &batch, now).await?;
                tx.commit().await?;
                self.emitted(emitted);
                Ok(batch)
            }
        }
    };
}
pub(crate) use batch_flow_verbs;
