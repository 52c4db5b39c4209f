//! The job queue on the videos table: heartbeat, complete, fail, cancel, reclaim, release, and
//! a queued job's position; stamped onto each backend by [`queue_verbs!`]. The claim statement
//! stays with each backend: it is where they really differ (`FOR UPDATE SKIP LOCKED` and a
//! `TEXT[]` of models on PostgreSQL, `json_each` on SQLite).
//!
//! Every state change is one conditional `UPDATE … RETURNING` keyed on the lease id, so a worker
//! holding a stale lease changes nothing and gets `LeaseLost`; under READ COMMITTED a concurrent
//! update makes PostgreSQL re-check that condition on the newest row version, so fencing holds
//! across nodes. A change that ends a job records its webhook event in the same transaction; one
//! that makes a job claimable wakes the queue (`wake_queue_in`).

pub(crate) const WORKER_LOST_MESSAGE: &str =
    "The worker rendering this video stopped responding and the job ran out of attempts.";
pub(crate) const CANCELLED_MESSAGE: &str = "The job was cancelled.";

macro_rules! queue_verbs {
    ($store:ty, $conn:ty, $write:ident, $read:ident, for_update = $for_update:literal, greatest = $greatest:literal) => {
        #[async_trait::async_trait]
        impl $crate::queue::QueueStore for $store {
            async fn queue_position(&self, id: &str) -> $crate::Result<Option<u64>> {
                // As on SQLite, no `deleted_at` test on the counted rows: a deleted job is never queued.
                let n: Option<i64> = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM videos o \
                        WHERE o.status = 'queued' \
                        AND (o.priority, o.run_at, o.seq) < (v.priority, v.run_at, v.seq)) + 1 \
                     FROM videos v WHERE v.id = $1 AND v.status = 'queued' AND v.deleted_at IS NULL",
                )
                .bind(id)
                .fetch_optional(&self.$read)
                .await?;
                Ok(n.map(|n| n.max(1) as u64))
            }

            async fn queued_ids(&self) -> $crate::Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT id, model FROM videos WHERE status = 'queued' ORDER BY priority, run_at, seq",
                )
                .fetch_all(&self.$read)
                .await?)
            }

            /// The claim statement is the backend's own (`claim_next` in its `queue.rs`).
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
                use $crate::sql::Cols as _;
                let row = sqlx::query(concat!(
                    "UPDATE videos SET lease_expires_at = $1 + $2, heartbeat_at = $1, progress = ",
                    $greatest,
                    "(progress, $3) WHERE id = $4 AND lease_id = $5 AND status = 'in_progress' \
                     RETURNING cancel_requested"
                ))
                .bind(now_ms)
                .bind(lease_ms)
                .bind(i64::from(progress.min(100)))
                .bind(id)
                .bind(lease_id)
                .fetch_optional(&self.$write)
                .await?;
                row.ok_or($crate::StoreError::LeaseLost)?
                    .flag("cancel_requested")
            }

            async fn complete(
                &self,
                id: &str,
                lease_id: &str,
                c: $crate::record::Completion,
                now: i64,
            ) -> $crate::Result<$crate::record::VideoRecord> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "UPDATE videos SET status = 'completed', progress = 100, completed_at = $1, \
                       usage_seconds = $2, usage_cost_usd = $3, media = $4, expires_at = $5, seconds = $6, \
                       error_code = NULL, error_message = NULL, \
                       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE id = $7 AND lease_id = $8 AND status = 'in_progress' RETURNING ",
                    $crate::sql::rows::video_columns!()
                ))
                .bind(now)
                .bind(i64::from(c.usage.seconds))
                .bind(c.usage.cost_usd)
                .bind($crate::sql::to_json("media", &c.media)?)
                .bind(c.expires_at)
                .bind(i64::from(c.seconds))
                .bind(id)
                .bind(lease_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Err($crate::StoreError::LeaseLost);
                };
                let record = $crate::sql::rows::video_from_row(&row)?;
                let emitted =
                    Self::video_event(&mut tx, &record.project, "video.completed", &record.id, now).await?;
                tx.commit().await?;
                self.emitted(emitted);
                Ok(record)
            }

            async fn fail(
                &self,
                id: &str,
                lease_id: &str,
                err: $crate::record::JobError,
                retry_at_ms: Option<i64>,
                now: i64,
            ) -> $crate::Result<$crate::record::FailOutcome> {
                let mut tx = self.begin_write().await?;
                if let Some(run_at) = retry_at_ms {
                    let requeued = sqlx::query(
                        "UPDATE videos SET status = 'queued', progress = 0, run_at = $1, \
                           last_error_code = $2, last_error_message = $3, \
                           lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                         WHERE id = $4 AND lease_id = $5 AND status = 'in_progress' \
                           AND attempts < max_attempts AND NOT cancel_requested",
                    )
                    .bind(run_at)
                    .bind(&err.code)
                    .bind(&err.message)
                    .bind(id)
                    .bind(lease_id)
                    .execute(&mut *tx)
                    .await?;
                    if requeued.rows_affected() == 1 {
                        Self::wake_queue_in(&mut tx).await?;
                        tx.commit().await?;
                        return Ok($crate::record::FailOutcome::Requeued { run_at_ms: run_at });
                    }
                }
                let row = sqlx::query(concat!(
                    "UPDATE videos SET status = 'failed', completed_at = $1, \
                       error_code = $2, error_message = $3, \
                       last_error_code = $2, last_error_message = $3, \
                       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE id = $4 AND lease_id = $5 AND status = 'in_progress' RETURNING ",
                    $crate::sql::rows::video_columns!()
                ))
                .bind(now)
                .bind(&err.code)
                .bind(&err.message)
                .bind(id)
                .bind(lease_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Err($crate::StoreError::LeaseLost);
                };
                let record = $crate::sql::rows::video_from_row(&row)?;
                let emitted =
                    Self::video_event(&mut tx, &record.project, "video.failed", &record.id, now).await?;
                tx.commit().await?;
                self.emitted(emitted);
                Ok($crate::record::FailOutcome::Failed(record))
            }

            async fn request_cancel(&self, project: &str, id: &str, now: i64) -> $crate::Result<$crate::record::CancelOutcome> {
                let mut tx = self.begin_write().await?;
                // Locked: the status read decides the update, so no claim may slip in between.
                let status: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT status FROM videos WHERE project = $1 AND id = $2 AND deleted_at IS NULL",
                    $for_update
                ))
                .bind(project)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(status) = status else {
                    return Ok($crate::record::CancelOutcome::NotFound);
                };
                let row = match status.as_str() {
                    "queued" => sqlx::query(concat!(
                        "UPDATE videos SET status = 'failed', completed_at = $3, error_code = $4, \
                           error_message = $5, cancel_requested = TRUE \
                         WHERE project = $1 AND id = $2 RETURNING ",
                        $crate::sql::rows::video_columns!()
                    ))
                    .bind(project)
                    .bind(id)
                    .bind(now)
                    .bind(kinora_core::ErrorCode::Cancelled.as_str())
                    .bind("The job was cancelled before it started."),
                    "in_progress" => sqlx::query(concat!(
                        "UPDATE videos SET cancel_requested = TRUE WHERE project = $1 AND id = $2 \
                         RETURNING ",
                        $crate::sql::rows::video_columns!()
                    ))
                    .bind(project)
                    .bind(id),
                    _ => sqlx::query(concat!(
                        "SELECT ",
                        $crate::sql::rows::video_columns!(),
                        " FROM videos WHERE project = $1 AND id = $2"
                    ))
                    .bind(project)
                    .bind(id),
                }
                .fetch_one(&mut *tx)
                .await?;
                let record = $crate::sql::rows::video_from_row(&row)?;
                let emitted = if status == "queued" {
                    Self::video_event(&mut tx, project, "video.failed", id, now).await?
                } else {
                    false
                };
                tx.commit().await?;
                self.emitted(emitted);
                Ok(match status.as_str() {
                    "queued" => $crate::record::CancelOutcome::Cancelled(record),
                    "in_progress" => $crate::record::CancelOutcome::Requested(record),
                    _ => $crate::record::CancelOutcome::AlreadyTerminal(record),
                })
            }

            async fn reclaim_expired(&self, now_ms: i64) -> $crate::Result<u64> {
                let mut tx = self.begin_write().await?;
                let requeued = sqlx::query(
                    "UPDATE videos SET status = 'queued', progress = 0, run_at = $1, \
                       last_error_code = $2, last_error_message = 'lease expired', \
                       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE status = 'in_progress' AND lease_expires_at < $1 \
                       AND attempts < max_attempts AND NOT cancel_requested",
                )
                .bind(now_ms)
                .bind(kinora_core::ErrorCode::WorkerLost.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let failed: Vec<(String, String)> = sqlx::query_as(
                    "UPDATE videos SET status = 'failed', completed_at = $1 / 1000, \
                       error_code = CASE WHEN cancel_requested THEN $2 ELSE $3 END, \
                       error_message = CASE WHEN cancel_requested THEN $4 ELSE $5 END, \
                       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE status = 'in_progress' AND lease_expires_at < $1 RETURNING project, id",
                )
                .bind(now_ms)
                .bind(kinora_core::ErrorCode::Cancelled.as_str())
                .bind(kinora_core::ErrorCode::WorkerLost.as_str())
                .bind($crate::sql::queue::CANCELLED_MESSAGE)
                .bind($crate::sql::queue::WORKER_LOST_MESSAGE)
                .fetch_all(&mut *tx)
                .await?;
                let emitted = Self::emit_failed(&mut tx, &failed, now_ms / 1000).await?;
                if requeued > 0 {
                    Self::wake_queue_in(&mut tx).await?;
                }
                tx.commit().await?;
                self.emitted(emitted);
                Ok(requeued + failed.len() as u64)
            }

            async fn release_owner(&self, worker_prefix: &str, now_ms: i64) -> $crate::Result<u64> {
                if worker_prefix.is_empty() {
                    // An empty prefix would match every worker of every node.
                    return Err($crate::StoreError::Conflict(
                        "release_owner needs a non-empty worker prefix".into(),
                    ));
                }
                let mut tx = self.begin_write().await?;
                // substr rather than LIKE: worker names may contain % or _.
                let owned = "status = 'in_progress' AND substr(lease_owner, 1, length($2)) = $2";
                let cancelled: Vec<(String, String)> = sqlx::query_as(&format!(
                    "UPDATE videos SET status = 'failed', completed_at = $1 / 1000, error_code = $3, \
                       error_message = $4, lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE {owned} AND cancel_requested RETURNING project, id"
                ))
                .bind(now_ms)
                .bind(worker_prefix)
                .bind(kinora_core::ErrorCode::Cancelled.as_str())
                .bind($crate::sql::queue::CANCELLED_MESSAGE)
                .fetch_all(&mut *tx)
                .await?;
                let emitted = Self::emit_failed(&mut tx, &cancelled, now_ms / 1000).await?;
                let released = sqlx::query(&format!(
                    "UPDATE videos SET status = 'queued', progress = 0, run_at = $1, \
                       attempts = {greatest}(attempts - 1, 0), \
                       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE {owned}",
                    greatest = $greatest
                ))
                .bind(now_ms)
                .bind(worker_prefix)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if released > 0 {
                    Self::wake_queue_in(&mut tx).await?;
                }
                tx.commit().await?;
                self.emitted(emitted);
                Ok(cancelled.len() as u64 + released)
            }

        }

        impl $store {
            /// `video.failed` for each `(project, id)` a bulk transition just ended; true if any
            /// delivery was recorded.
            async fn emit_failed(
                conn: &mut $conn,
                ended: &[(String, String)],
                now: i64,
            ) -> $crate::Result<bool> {
                let mut emitted = false;
                for (project, id) in ended {
                    emitted |= Self::video_event(conn, project, "video.failed", id, now).await?;
                }
                Ok(emitted)
            }
        }
    };
}
pub(crate) use queue_verbs;
