//! Videos as records: create (with idempotency), read, list, delete, expire, count; stamped onto
//! each backend by [`video_verbs!`].
//!
//! What differs between the backends is reached through the hooks each one defines beside its
//! pools (see `sql/mod.rs`): `begin_write` (SQLite takes its write lock up front), `lock_key`
//! (PostgreSQL serialises two requests with one idempotency key on an advisory lock) and
//! `wake_queue_in` (PostgreSQL NOTIFY inside the transaction). Webhook events go through the
//! shared `event` / `emitted` of `webhooks`.

pub(crate) const KEY_LOOKUP: &str =
    "SELECT request_hash, video_id FROM idempotency_keys WHERE project = $1 AND key = $2";
pub(crate) const BY_ID: &str = concat!(
    "SELECT ",
    crate::sql::rows::video_columns!(),
    " FROM videos WHERE id = $1"
);
pub(crate) const INSERT: &str = concat!(
    "INSERT INTO videos (id, project, model, status, progress, created_at, prompt, size, \
     seconds, seed, spec, remixed_from_video_id, batch_id, priority, max_attempts, \
     attempts, run_at) \
     VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14) \
     RETURNING ",
    crate::sql::rows::video_columns!()
);
pub(crate) const INSERT_KEY: &str = "INSERT INTO idempotency_keys (project, key, request_hash, \
                                     video_id, created_at) VALUES ($1, $2, $3, $4, $5)";
/// Binds: id, project or NULL (any project).
pub(crate) const READ: &str = concat!(
    "SELECT ",
    crate::sql::rows::video_columns!(),
    " FROM videos WHERE id = $1 AND (CAST($2 AS TEXT) IS NULL OR project = $2) \
     AND deleted_at IS NULL"
);
/// Binds: now, error code, error message, project, id. SET expressions all read the row as it
/// was, so each CASE sees the old status.
pub(crate) const MARK_DELETED: &str = concat!(
    "UPDATE videos SET deleted_at = $1, \
       completed_at = CASE WHEN status = 'queued' THEN $1 ELSE completed_at END, \
       error_code = CASE WHEN status = 'queued' THEN $2 ELSE error_code END, \
       error_message = CASE WHEN status = 'queued' THEN $3 ELSE error_message END, \
       cancel_requested = CASE WHEN status = 'in_progress' THEN TRUE ELSE cancel_requested END, \
       status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END \
     WHERE project = $4 AND id = $5 AND deleted_at IS NULL RETURNING ",
    crate::sql::rows::video_columns!()
);
pub(crate) const FREE_KEY: &str =
    "DELETE FROM idempotency_keys WHERE project = $1 AND video_id = $2";
pub(crate) const COUNTS: &str =
    "SELECT status, COUNT(*) AS n FROM videos WHERE deleted_at IS NULL GROUP BY status";
pub(crate) const PURGE_KEYS: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";

macro_rules! video_verbs {
    ($store:ty, $write:ident, $read:ident, for_update = $for_update:literal, skip_locked = $skip:literal) => {
        #[async_trait::async_trait]
        impl $crate::video::VideoStore for $store {
            async fn create_video(
                &self,
                v: $crate::record::NewVideo,
                idem: Option<$crate::record::IdempotencyKey>,
            ) -> $crate::Result<$crate::record::CreateOutcome> {
                use sqlx::Row as _;
                use $crate::record::CreateOutcome;
                use $crate::sql::rows::video_from_row;
                use $crate::sql::videos as q;
                let mut tx = self.begin_write().await?;
                if let Some(key) = &idem {
                    // Two requests with one key must see one another: the second waits until
                    // the first commits, then replays it.
                    Self::lock_key(&mut tx, &v.project, &key.key).await?;
                    let prior = sqlx::query(q::KEY_LOOKUP)
                        .bind(&v.project)
                        .bind(&key.key)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(row) = prior {
                        let hash: String = row.try_get("request_hash")?;
                        if hash != key.request_hash {
                            return Ok(CreateOutcome::KeyConflict);
                        }
                        let video_id: String = row.try_get("video_id")?;
                        let row = sqlx::query(q::BY_ID)
                            .bind(&video_id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| {
                                $crate::StoreError::Backend(format!(
                                    "idempotency key points at missing {video_id}"
                                ))
                            })?;
                        return Ok(CreateOutcome::Replayed(video_from_row(&row)?));
                    }
                }
                let row = sqlx::query(q::INSERT)
                    .bind(&v.id)
                    .bind(&v.project)
                    .bind(&v.model)
                    .bind(v.created_at)
                    .bind(&v.prompt)
                    .bind(v.size.to_string())
                    .bind(i64::from(v.seconds))
                    .bind(v.seed as i64)
                    .bind($crate::sql::to_json("spec", &v.spec)?)
                    .bind(&v.remixed_from_video_id)
                    .bind(&v.batch_id)
                    .bind(i64::from(v.priority))
                    .bind(i64::from(v.max_attempts))
                    .bind(v.created_at.saturating_mul(1000))
                    .fetch_one(&mut *tx)
                    .await?;
                let record = video_from_row(&row)?;
                if let Some(key) = idem {
                    sqlx::query(q::INSERT_KEY)
                        .bind(&v.project)
                        .bind(&key.key)
                        .bind(&key.request_hash)
                        .bind(&v.id)
                        .bind(v.created_at)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::wake_queue_in(&mut tx).await?;
                tx.commit().await?;
                Ok(CreateOutcome::Created(record))
            }

            async fn get_video(
                &self,
                project: &str,
                id: &str,
            ) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                self.read_video(Some(project), id).await
            }

            async fn get_video_unscoped(
                &self,
                id: &str,
            ) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                self.read_video(None, id).await
            }

            async fn list_videos(
                &self,
                project: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::record::VideoRecord>> {
                // A cursor may name a video deleted since the previous page: its seq still orders.
                let of = $crate::sql::PageOf {
                    table: "videos",
                    columns: $crate::sql::rows::video_columns!(),
                    live_only: true,
                };
                $crate::sql::keyset_page!(
                    &self.$read,
                    of,
                    project,
                    after,
                    limit,
                    order,
                    $crate::sql::rows::video_from_row,
                )
            }

            async fn delete_video(
                &self,
                project: &str,
                id: &str,
                now: i64,
            ) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                use $crate::sql::videos as q;
                let mut tx = self.begin_write().await?;
                // A queued job ends `failed` here, so it owes a `video.failed` event; the row is
                // locked so that no claim moves it out of `queued` before the update.
                let was_queued = sqlx::query_scalar::<_, String>(concat!(
                    "SELECT status FROM videos WHERE project = $1 AND id = $2 \
                     AND deleted_at IS NULL",
                    $for_update
                ))
                .bind(project)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some_and(|s| s == "queued");
                let row = sqlx::query(q::MARK_DELETED)
                    .bind(now)
                    .bind(kinora_core::ErrorCode::Cancelled.as_str())
                    .bind("The video was deleted before it started.")
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let record = row
                    .as_ref()
                    .map($crate::sql::rows::video_from_row)
                    .transpose()?;
                if record.is_some() {
                    // The key's video is gone, so the key is free again: a replay would hand
                    // out an id that answers 404.
                    sqlx::query(q::FREE_KEY)
                        .bind(project)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                let emitted = was_queued
                    && Self::event(
                        &mut tx,
                        project,
                        "video.failed",
                        serde_json::json!({ "id": id }),
                        now,
                    )
                    .await?;
                tx.commit().await?;
                self.emitted(emitted);
                Ok(record)
            }

            async fn expire_due(
                &self,
                now: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::record::VideoRecord>> {
                // SKIP LOCKED (PostgreSQL): two nodes expiring at once take different videos, so
                // each video's blobs are removed by exactly one of them.
                let rows = sqlx::query(concat!(
                    "UPDATE videos SET status = 'expired' WHERE seq IN (\
                       SELECT seq FROM videos WHERE status = 'completed' AND expires_at <= $1 \
                       AND deleted_at IS NULL ORDER BY expires_at, seq LIMIT $2",
                    $skip,
                    ") RETURNING ",
                    $crate::sql::rows::video_columns!()
                ))
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.$write)
                .await?;
                rows.iter().map($crate::sql::rows::video_from_row).collect()
            }

            async fn count_by_status(
                &self,
            ) -> $crate::Result<Vec<(kinora_core::VideoStatus, u64)>> {
                use sqlx::Row as _;
                let rows = sqlx::query($crate::sql::videos::COUNTS)
                    .fetch_all(&self.$read)
                    .await?;
                let mut counts: Vec<(kinora_core::VideoStatus, u64)> =
                    kinora_core::VideoStatus::ALL.iter().map(|s| (*s, 0)).collect();
                for row in rows {
                    let status: String = row.try_get("status")?;
                    let n: i64 = row.try_get("n")?;
                    if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
                        slot.1 = n.max(0) as u64;
                    }
                }
                Ok(counts)
            }

            async fn purge_idempotency_keys(&self, before: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::videos::PURGE_KEYS)
                    .bind(before)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected())
            }
        }

        impl $store {
            /// One live video, of `project` or of any project.
            async fn read_video(
                &self,
                project: Option<&str>,
                id: &str,
            ) -> $crate::Result<Option<$crate::record::VideoRecord>> {
                let row = sqlx::query($crate::sql::videos::READ)
                    .bind(id)
                    .bind(project)
                    .fetch_optional(&self.$read)
                    .await?;
                row.as_ref()
                    .map($crate::sql::rows::video_from_row)
                    .transpose()
            }
        }
    };
}
pub(crate) use video_verbs;
