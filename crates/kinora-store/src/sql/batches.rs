//! `BatchStore`: records, paging, driver leases, cancel and expiry, stamped onto each backend by
//! [`batch_verbs!`]. The steps that move many rows (staging, enqueue, finalization) are in
//! `batch_flow`.

/// Binds: project, id.
pub(crate) fn select_sql() -> String {
    format!(
        "SELECT {} FROM batches WHERE project = $1 AND id = $2",
        super::rows::BATCH_COLUMNS
    )
}

pub(crate) const INSERT: &str = "INSERT INTO batches (id, project, endpoint, input_file_id, \
     completion_window, status, model, metadata, output_expires_after, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Binds: batch id. Counted with CASE, not `FILTER` (PostgreSQL) or summed booleans (SQLite).
pub(crate) const COUNTS: &str = "SELECT COUNT(*) AS total, \
       COALESCE(SUM(CASE WHEN v.status IN ('completed', 'expired') THEN 1 ELSE 0 END), 0) \
         AS completed, \
       COALESCE(SUM(CASE WHEN r.error IS NOT NULL OR v.id IS NULL OR v.status = 'failed' \
         THEN 1 ELSE 0 END), 0) AS failed \
     FROM batch_requests r LEFT JOIN videos v ON v.id = r.video_id \
     WHERE r.batch_id = $1 \
       AND EXISTS (SELECT 1 FROM batches b WHERE b.id = r.batch_id \
                   AND b.status NOT IN ('validating', 'failed'))";

/// Binds: limit. Batches that still need a driver, the in-progress ones last.
pub(crate) fn open_sql() -> String {
    format!(
        "SELECT {} FROM batches \
         WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') \
         ORDER BY (status = 'in_progress'), seq LIMIT $1",
        super::rows::BATCH_COLUMNS
    )
}

/// Binds: driver, now (ms), lease (ms), id. One conditional UPDATE: the database re-checks the
/// condition on the row a concurrent acquirer just wrote, so only one driver wins.
pub(crate) const ACQUIRE: &str = "UPDATE batches SET driver = $1, driver_until = $2 + $3 \
     WHERE id = $4 AND (driver IS NULL OR driver = $1 OR driver_until < $2)";
pub(crate) const RELEASE: &str =
    "UPDATE batches SET driver = NULL, driver_until = NULL WHERE id = $1 AND driver = $2";

/// Binds: now, project, id.
pub(crate) fn cancel_sql() -> String {
    format!(
        "UPDATE batches SET status = 'cancelling', outcome = 'cancelled', cancelling_at = $1 \
         WHERE project = $2 AND id = $3 AND status IN ('validating', 'in_progress') \
         RETURNING {}",
        super::rows::BATCH_COLUMNS
    )
}

pub(crate) const EXPIRE: &str = "UPDATE batches SET outcome = 'expired' \
     WHERE status = 'in_progress' AND outcome IS NULL AND expires_at <= $1 RETURNING id";
pub(crate) const UNFINISHED: &str =
    "SELECT COUNT(*) FROM videos WHERE batch_id = $1 AND status IN ('queued', 'in_progress')";
pub(crate) const BEGIN_FINALIZING: &str = "UPDATE batches SET status = 'finalizing', \
     finalizing_at = $1, outcome = COALESCE(outcome, 'completed') \
     WHERE id = $2 AND status IN ('in_progress', 'cancelling')";

/// Binds: now, code, message, batch id. No per-video webhook: the batch's own event reports them.
pub(crate) const FAIL_QUEUED: &str = "UPDATE videos SET status = 'failed', completed_at = $1, \
     error_code = $2, error_message = $3, cancel_requested = TRUE \
     WHERE batch_id = $4 AND status = 'queued'";
pub(crate) const STOP_RUNNING: &str =
    "UPDATE videos SET cancel_requested = TRUE WHERE batch_id = $1 AND status = 'in_progress'";

macro_rules! batch_verbs {
    ($store:ty, $conn:ty, $write:ident, $read:ident) => {
        impl $store {
            /// Ends the batch's queued jobs with `code` and asks its running ones to stop.
            async fn stop_jobs(
                conn: &mut $conn,
                batch_id: &str,
                code: &str,
                message: &str,
                now: i64,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::batches::FAIL_QUEUED)
                    .bind(now)
                    .bind(code)
                    .bind(message)
                    .bind(batch_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::batches::STOP_RUNNING)
                    .bind(batch_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// `batch.<status>` for `b`; true when the sender should be woken after the commit.
            async fn batch_event(
                conn: &mut $conn,
                b: &$crate::batch::BatchRecord,
                now: i64,
            ) -> $crate::Result<bool> {
                let event = format!("batch.{}", b.status.as_str());
                Self::event(conn, &b.project, &event, serde_json::json!({ "id": b.id }), now)
                    .await
            }
        }

        #[async_trait::async_trait]
        impl $crate::batch::BatchStore for $store {
            async fn create_batch(&self, b: $crate::batch::BatchRecord) -> $crate::Result<()> {
                let metadata = b
                    .metadata
                    .as_ref()
                    .map(|m| $crate::sql::to_json("metadata", m))
                    .transpose()?;
                sqlx::query($crate::sql::batches::INSERT)
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
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn get_batch(
                &self,
                project: &str,
                id: &str,
            ) -> $crate::Result<Option<$crate::batch::BatchRecord>> {
                let row = sqlx::query(&$crate::sql::batches::select_sql())
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.$read)
                    .await?;
                row.as_ref()
                    .map($crate::sql::rows::batch_from_row)
                    .transpose()
            }

            async fn list_batches(
                &self,
                project: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::batch::BatchRecord>> {
                let of = $crate::sql::PageOf {
                    table: "batches",
                    columns: $crate::sql::rows::BATCH_COLUMNS,
                    live_only: false,
                };
                $crate::sql::keyset_page!(
                    &self.$read,
                    of,
                    project,
                    after,
                    limit,
                    order,
                    $crate::sql::rows::batch_from_row,
                )
            }

            async fn batch_counts(&self, id: &str) -> $crate::Result<$crate::batch::BatchCounts> {
                use sqlx::Row as _;
                let row = sqlx::query($crate::sql::batches::COUNTS)
                    .bind(id)
                    .fetch_one(&self.$read)
                    .await?;
                let n = |c: &str| -> $crate::Result<u64> {
                    Ok(row.try_get::<i64, _>(c)?.max(0) as u64)
                };
                Ok($crate::batch::BatchCounts {
                    total: n("total")?,
                    completed: n("completed")?,
                    failed: n("failed")?,
                })
            }

            async fn open_batches(
                &self,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::batch::BatchRecord>> {
                let rows = sqlx::query(&$crate::sql::batches::open_sql())
                    .bind(i64::from(limit))
                    .fetch_all(&self.$read)
                    .await?;
                rows.iter().map($crate::sql::rows::batch_from_row).collect()
            }

            async fn acquire_batch(
                &self,
                id: &str,
                driver: &str,
                now_ms: i64,
                lease_ms: i64,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::batches::ACQUIRE)
                    .bind(driver)
                    .bind(now_ms)
                    .bind(lease_ms)
                    .bind(id)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_batch(&self, id: &str, driver: &str) -> $crate::Result<()> {
                sqlx::query($crate::sql::batches::RELEASE)
                    .bind(id)
                    .bind(driver)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn clear_staged(&self, batch_id: &str) -> $crate::Result<()> {
                self.clear_staged_rows(batch_id).await
            }
            async fn stage_requests(
                &self,
                batch_id: &str,
                rows: &[$crate::batch::StagedRequest],
            ) -> $crate::Result<()> {
                self.stage_rows(batch_id, rows).await
            }
            async fn enqueue_batch(
                &self,
                id: &str,
                max_attempts: u32,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::batch::BatchRecord>> {
                self.enqueue_staged(id, max_attempts, now_ms).await
            }
            async fn fail_batch(
                &self,
                id: &str,
                errors: Vec<$crate::batch::LineError>,
                now: i64,
            ) -> $crate::Result<()> {
                self.fail_validation(id, errors, now).await
            }

            async fn cancel_batch(
                &self,
                project: &str,
                id: &str,
                now: i64,
            ) -> $crate::Result<$crate::batch::BatchCancel> {
                use $crate::batch::BatchCancel;
                use $crate::sql::rows::batch_from_row;
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(&$crate::sql::batches::cancel_sql())
                    .bind(now)
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let outcome = match row {
                    Some(row) => {
                        let b = batch_from_row(&row)?;
                        Self::stop_jobs(
                            &mut tx,
                            id,
                            kinora_core::ErrorCode::Cancelled.as_str(),
                            "The batch was cancelled before this request ran.",
                            now,
                        )
                        .await?;
                        BatchCancel::Cancelling(b)
                    }
                    // Read inside the transaction: the in-memory store has one connection.
                    None => match sqlx::query(&$crate::sql::batches::select_sql())
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

            async fn expire_batches(&self, now: i64) -> $crate::Result<u64> {
                let mut tx = self.begin_write().await?;
                let ids: Vec<String> = sqlx::query_scalar($crate::sql::batches::EXPIRE)
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in &ids {
                    Self::stop_jobs(
                        &mut tx,
                        id,
                        kinora_core::ErrorCode::BatchExpired.as_str(),
                        "This request could not be executed before the completion window expired.",
                        now,
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(ids.len() as u64)
            }

            async fn unfinished_jobs(&self, batch_id: &str) -> $crate::Result<u64> {
                let n: i64 = sqlx::query_scalar($crate::sql::batches::UNFINISHED)
                    .bind(batch_id)
                    .fetch_one(&self.$read)
                    .await?;
                Ok(n.max(0) as u64)
            }

            async fn begin_finalizing(&self, id: &str, now: i64) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::batches::BEGIN_FINALIZING)
                    .bind(now)
                    .bind(id)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn request_results(
                &self,
                batch_id: &str,
                after_line: u64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::batch::RequestResult>> {
                self.result_page(batch_id, after_line, limit).await
            }

            async fn finish_batch(
                &self,
                id: &str,
                outputs: $crate::batch::BatchOutputs,
                now: i64,
            ) -> $crate::Result<$crate::batch::BatchRecord> {
                self.finish_finalizing(id, outputs, now).await
            }
        }
    };
}
pub(crate) use batch_verbs;
