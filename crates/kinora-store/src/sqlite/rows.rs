//! Row decoding for the SQLite backend: one column list and one decoder per record type, so every
//! query returns the same shape.

use kinora_core::{JobSpec, VideoSize, VideoStatus};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::{Result, StoreError};
use crate::record::{CharacterRecord, JobError, MediaInfo, Usage, VideoRecord};

/// The columns `video_from_row` reads, as a literal so queries can be built with `concat!`.
macro_rules! video_columns {
    () => {
        "id, project, model, status, progress, created_at, started_at, completed_at, expires_at, \
         prompt, size, seconds, seed, spec, remixed_from_video_id, error_code, error_message, \
         usage_seconds, usage_cost_usd, batch_id, attempts, cancel_requested, media"
    };
}
pub(crate) use video_columns;

macro_rules! character_columns {
    () => {
        "id, project, name, created_at, width, height"
    };
}
pub(crate) use character_columns;

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} cannot be read: {detail}"))
}

fn non_negative(what: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}

pub(crate) fn video_from_row(row: &SqliteRow) -> Result<VideoRecord> {
    let status: String = row.try_get("status")?;
    let status = VideoStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
    let size: String = row.try_get("size")?;
    let size: VideoSize = size.parse().map_err(|e| corrupt("size", e))?;
    let spec: String = row.try_get("spec")?;
    let spec: JobSpec = serde_json::from_str(&spec).map_err(|e| corrupt("spec", e))?;
    let error = match (
        row.try_get::<Option<String>, _>("error_code")?,
        row.try_get::<Option<String>, _>("error_message")?,
    ) {
        (Some(code), message) => Some(JobError {
            code,
            message: message.unwrap_or_default(),
        }),
        (None, _) => None,
    };
    let usage = match (
        row.try_get::<Option<i64>, _>("usage_seconds")?,
        row.try_get::<Option<f64>, _>("usage_cost_usd")?,
    ) {
        (Some(seconds), cost) => Some(Usage {
            seconds: non_negative("usage_seconds", seconds)?,
            cost_usd: cost.unwrap_or(0.0),
        }),
        (None, _) => None,
    };
    let media = match row.try_get::<Option<String>, _>("media")? {
        Some(json) => {
            Some(serde_json::from_str::<MediaInfo>(&json).map_err(|e| corrupt("media", e))?)
        }
        None => None,
    };
    let progress = row.try_get::<i64, _>("progress")?.clamp(0, 100) as u8;
    Ok(VideoRecord {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        model: row.try_get("model")?,
        status,
        progress,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        completed_at: row.try_get("completed_at")?,
        expires_at: row.try_get("expires_at")?,
        prompt: row.try_get("prompt")?,
        size,
        seconds: non_negative("seconds", row.try_get("seconds")?)?,
        // Stored bit-for-bit: SQLite integers are signed 64-bit.
        seed: row.try_get::<i64, _>("seed")? as u64,
        spec,
        remixed_from_video_id: row.try_get("remixed_from_video_id")?,
        error,
        usage,
        batch_id: row.try_get("batch_id")?,
        attempts: non_negative("attempts", row.try_get("attempts")?)?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        media,
    })
}

pub(crate) fn character_from_row(row: &SqliteRow) -> Result<CharacterRecord> {
    Ok(CharacterRecord {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        width: non_negative("width", row.try_get("width")?)?,
        height: non_negative("height", row.try_get("height")?)?,
    })
}

pub(crate) fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("cannot encode {what}: {e}")))
}

/// A keyset page query: rows of `project` after (or before, descending) the cursor's seq,
/// fetching one extra row so `has_more` is exact. Binds: project, [cursor seq], limit + 1.
pub(crate) fn page_query(
    table: &str,
    columns: &str,
    live_only: bool,
    order: crate::record::Order,
    has_cursor: bool,
) -> String {
    let (cmp, dir) = match order {
        crate::record::Order::Asc => (">", "ASC"),
        crate::record::Order::Desc => ("<", "DESC"),
    };
    let live = if live_only {
        " AND deleted_at IS NULL"
    } else {
        ""
    };
    let cursor = if has_cursor {
        format!(" AND seq {cmp} ?")
    } else {
        String::new()
    };
    format!(
        "SELECT {columns} FROM {table} WHERE project = ?{live}{cursor} ORDER BY seq {dir} LIMIT ?"
    )
}

/// Which rows a keyset page reads: the table, the columns its decoder wants, and whether deleted
/// rows are skipped.
pub(crate) struct PageOf {
    pub table: &'static str,
    pub columns: &'static str,
    pub live_only: bool,
}

/// A page of `project`'s rows after the row `after` names (its seq orders even if it was deleted
/// since; an id that never existed is `NotFound`), `has_more` exact.
pub(crate) async fn keyset_page<T>(
    pool: &sqlx::SqlitePool,
    of: PageOf,
    project: &str,
    after: Option<&str>,
    limit: u32,
    order: crate::record::Order,
    decode: fn(&SqliteRow) -> Result<T>,
) -> Result<crate::record::Page<T>> {
    let cursor: Option<i64> = match after {
        Some(id) => Some(
            sqlx::query_scalar(&format!(
                "SELECT seq FROM {} WHERE project = ? AND id = ?",
                of.table
            ))
            .bind(project)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)?,
        ),
        None => None,
    };
    let sql = page_query(of.table, of.columns, of.live_only, order, cursor.is_some());
    let mut q = sqlx::query(&sql).bind(project);
    if let Some(seq) = cursor {
        q = q.bind(seq);
    }
    let rows = q.bind(i64::from(limit) + 1).fetch_all(pool).await?;
    let has_more = rows.len() > limit as usize;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(decode)
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::record::Page { items, has_more })
}
