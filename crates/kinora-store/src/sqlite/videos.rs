//! Videos as records: create (with idempotency), read, list, delete, expire, count.

use kinora_core::VideoStatus;
use sqlx::Row;

use super::SqliteStore;
use super::webhooks::emit_video_event;
use crate::error::{Result, StoreError};
use crate::record::{CreateOutcome, IdempotencyKey, NewVideo, Order, Page, VideoRecord, codes};
use crate::sql::rows::{video_columns, video_from_row};
use crate::sql::{PageOf, keyset_page, to_json};

impl SqliteStore {
    pub(super) async fn create_video_tx(
        &self,
        v: NewVideo,
        idem: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome> {
        // IMMEDIATE takes the write lock up front, so the key check and the insert see one state.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(key) = &idem {
            let prior = sqlx::query(
                "SELECT request_hash, video_id FROM idempotency_keys WHERE project = ? AND key = ?",
            )
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
                let row = sqlx::query(concat!(
                    "SELECT ",
                    video_columns!(),
                    " FROM videos WHERE id = ?"
                ))
                .bind(&video_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    StoreError::Backend(format!("idempotency key points at missing {video_id}"))
                })?;
                return Ok(CreateOutcome::Replayed(video_from_row(&row)?));
            }
        }
        let row = sqlx::query(concat!(
            "INSERT INTO videos (id, project, model, status, progress, created_at, prompt, size, \
             seconds, seed, spec, remixed_from_video_id, batch_id, priority, max_attempts, \
             attempts, run_at) \
             VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING ",
            video_columns!()
        ))
        .bind(&v.id)
        .bind(&v.project)
        .bind(&v.model)
        .bind(v.created_at)
        .bind(&v.prompt)
        .bind(v.size.to_string())
        .bind(i64::from(v.seconds))
        .bind(v.seed as i64)
        .bind(to_json("spec", &v.spec)?)
        .bind(&v.remixed_from_video_id)
        .bind(&v.batch_id)
        .bind(v.priority)
        .bind(i64::from(v.max_attempts))
        .bind(v.created_at.saturating_mul(1000))
        .fetch_one(&mut *tx)
        .await?;
        let record = video_from_row(&row)?;
        if let Some(key) = idem {
            sqlx::query(
                "INSERT INTO idempotency_keys (project, key, request_hash, video_id, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&v.project)
            .bind(&key.key)
            .bind(&key.request_hash)
            .bind(&v.id)
            .bind(v.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(CreateOutcome::Created(record))
    }

    pub(super) async fn read_video(
        &self,
        project: Option<&str>,
        id: &str,
    ) -> Result<Option<VideoRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            video_columns!(),
            " FROM videos WHERE id = ?1 AND (?2 IS NULL OR project = ?2) AND deleted_at IS NULL"
        ))
        .bind(id)
        .bind(project)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(video_from_row).transpose()
    }

    pub(super) async fn list_video_page(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<VideoRecord>> {
        // A cursor may name a video deleted since the previous page: its seq still orders.
        let of = PageOf {
            table: "videos",
            columns: video_columns!(),
            live_only: true,
        };
        keyset_page!(
            &self.reader,
            of,
            project,
            after,
            limit,
            order,
            video_from_row,
        )
    }

    pub(super) async fn mark_deleted(
        &self,
        project: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<VideoRecord>> {
        let mut tx = self.writer.begin().await?;
        // A queued job ends `failed` here, so it owes a `video.failed` event.
        let was_queued = sqlx::query_scalar::<_, String>(
            "SELECT status FROM videos WHERE project = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some_and(|s| s == "queued");
        // SET expressions all read the row as it was, so each CASE sees the old status.
        let row = sqlx::query(concat!(
            "UPDATE videos SET deleted_at = ?1, \
               completed_at = CASE WHEN status = 'queued' THEN ?1 ELSE completed_at END, \
               error_code = CASE WHEN status = 'queued' THEN ?2 ELSE error_code END, \
               error_message = CASE WHEN status = 'queued' THEN ?3 ELSE error_message END, \
               cancel_requested = CASE WHEN status = 'in_progress' THEN 1 ELSE cancel_requested END, \
               status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END \
             WHERE project = ?4 AND id = ?5 AND deleted_at IS NULL RETURNING ",
            video_columns!()
        ))
        .bind(now)
        .bind(codes::CANCELLED)
        .bind("The video was deleted before it started.")
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let record = row.as_ref().map(video_from_row).transpose()?;
        if record.is_some() {
            // The key's video is gone, so the key is free again: a replay would hand out an id
            // that answers 404.
            sqlx::query("DELETE FROM idempotency_keys WHERE project = ? AND video_id = ?")
                .bind(project)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if was_queued {
            emit_video_event(&mut tx, project, "video.failed", id, now).await?;
        }
        tx.commit().await?;
        if was_queued {
            self.webhook_signal.notify_one();
        }
        Ok(record)
    }

    pub(super) async fn expire(&self, now: i64, limit: u32) -> Result<Vec<VideoRecord>> {
        let rows = sqlx::query(concat!(
            "UPDATE videos SET status = 'expired' WHERE seq IN (\
               SELECT seq FROM videos WHERE status = 'completed' AND expires_at <= ? \
               AND deleted_at IS NULL ORDER BY expires_at LIMIT ?) RETURNING ",
            video_columns!()
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        rows.iter().map(video_from_row).collect()
    }

    pub(super) async fn status_counts(&self) -> Result<Vec<(VideoStatus, u64)>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM videos WHERE deleted_at IS NULL GROUP BY status",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut counts: Vec<(VideoStatus, u64)> =
            VideoStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
                slot.1 = n.max(0) as u64;
            }
        }
        Ok(counts)
    }

    pub(super) async fn purge_keys(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
