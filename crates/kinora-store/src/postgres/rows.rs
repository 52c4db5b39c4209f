//! Row decoding for the PostgreSQL backend: one column list and one decoder per record type, so
//! every query returns the same shape. The column lists are SQLite's; the decoders differ only
//! where PostgreSQL has a real type (BOOLEAN) where SQLite stores 0/1.

use kinora_core::{JobSpec, VideoSize, VideoStatus};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::{Result, StoreError};
use crate::record::{CharacterRecord, JobError, MediaInfo, Order, Page, Usage, VideoRecord};

pub(crate) use crate::sqlite::rows::{character_columns, video_columns};

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} cannot be read: {detail}"))
}

pub(crate) fn non_negative(what: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}

pub(crate) fn video_from_row(row: &PgRow) -> Result<VideoRecord> {
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
        // Stored bit-for-bit: BIGINT is signed 64-bit.
        seed: row.try_get::<i64, _>("seed")? as u64,
        spec,
        remixed_from_video_id: row.try_get("remixed_from_video_id")?,
        error,
        usage,
        batch_id: row.try_get("batch_id")?,
        attempts: non_negative("attempts", row.try_get("attempts")?)?,
        cancel_requested: row.try_get("cancel_requested")?,
        media,
    })
}

pub(crate) fn character_from_row(row: &PgRow) -> Result<CharacterRecord> {
    Ok(CharacterRecord {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        width: non_negative("width", row.try_get("width")?)?,
        height: non_negative("height", row.try_get("height")?)?,
    })
}

pub(crate) use crate::sqlite::rows::to_json;

/// `(comparison, direction)` of a keyset page in `order`.
pub(crate) fn paging(order: Order) -> (&'static str, &'static str) {
    match order {
        Order::Asc => (">", "ASC"),
        Order::Desc => ("<", "DESC"),
    }
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
    pool: &sqlx::PgPool,
    of: PageOf,
    project: &str,
    after: Option<&str>,
    limit: u32,
    order: Order,
    decode: fn(&PgRow) -> Result<T>,
) -> Result<Page<T>> {
    let cursor: Option<i64> = match after {
        Some(id) => Some(
            sqlx::query_scalar(&format!(
                "SELECT seq FROM {} WHERE project = $1 AND id = $2",
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
    let (cmp, dir) = paging(order);
    let live = if of.live_only {
        " AND deleted_at IS NULL"
    } else {
        ""
    };
    // Two statements rather than `$2 IS NULL OR …`, so each keeps a plain index range plan.
    let (cursor_sql, limit_at) = match cursor {
        Some(_) => (format!(" AND seq {cmp} $2"), "$3"),
        None => (String::new(), "$2"),
    };
    let sql = format!(
        "SELECT {} FROM {} WHERE project = $1{live}{cursor_sql} ORDER BY seq {dir} LIMIT {limit_at}",
        of.columns, of.table
    );
    let mut q = sqlx::query(&sql).bind(project);
    if let Some(seq) = cursor {
        q = q.bind(seq);
    }
    let rows = q.bind(i64::from(limit) + 1).fetch_all(pool).await?;
    page_of(&rows, limit, decode)
}

/// The first `limit` rows decoded; `has_more` when the query's one extra row came back.
pub(crate) fn page_of<T>(
    rows: &[PgRow],
    limit: u32,
    decode: fn(&PgRow) -> Result<T>,
) -> Result<Page<T>> {
    let has_more = rows.len() > limit as usize;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(decode)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, has_more })
}
