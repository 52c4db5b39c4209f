//! Column lists and row decoders, one per record type, so every query of either backend returns
//! the same shape.

use kinora_core::{JobSpec, VideoSize, VideoStatus};

use super::{Cols, corrupt, non_negative};
use crate::batch::{BatchRecord, BatchStatus};
use crate::error::Result;
use crate::file::FileRecord;
use crate::record::{CharacterRecord, JobError, MediaInfo, Usage, VideoRecord};
use crate::webhook::{DeliveryRecord, DeliveryStatus, WebhookEndpointRecord};

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

pub(crate) const FILE_COLUMNS: &str =
    "id, project, purpose, filename, bytes, created_at, expires_at";

pub(crate) const BATCH_COLUMNS: &str = "id, project, endpoint, input_file_id, completion_window, \
     status, model, metadata, output_expires_after, errors, output_file_id, error_file_id, \
     created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at, \
     cancelling_at, cancelled_at";

pub(crate) const ENDPOINT_COLUMNS: &str = "id, project, name, url, event_types, secret, \
     previous_secret, previous_secret_until, declared, created_at, updated_at";

pub(crate) const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, d.event_id, e.type AS event_type, \
     d.status, d.attempts, d.created_at, d.next_attempt_at, d.last_attempt_at, \
     d.last_status_code, d.last_error, d.completed_at";

pub(crate) fn video_from_row<R: Cols>(row: &R) -> Result<VideoRecord> {
    let status: String = row.col("status")?;
    let status = VideoStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?;
    let size: String = row.col("size")?;
    let size: VideoSize = size.parse().map_err(|e| corrupt("size", e))?;
    let spec: String = row.col("spec")?;
    let spec: JobSpec = serde_json::from_str(&spec).map_err(|e| corrupt("spec", e))?;
    let error = match (
        row.col::<Option<String>>("error_code")?,
        row.col::<Option<String>>("error_message")?,
    ) {
        (Some(code), message) => Some(JobError {
            code,
            message: message.unwrap_or_default(),
        }),
        (None, _) => None,
    };
    let usage = match (
        row.col::<Option<i64>>("usage_seconds")?,
        row.col::<Option<f64>>("usage_cost_usd")?,
    ) {
        (Some(seconds), cost) => Some(Usage {
            seconds: non_negative("usage_seconds", seconds)?,
            cost_usd: cost.unwrap_or(0.0),
        }),
        (None, _) => None,
    };
    let media = match row.col::<Option<String>>("media")? {
        Some(json) => {
            Some(serde_json::from_str::<MediaInfo>(&json).map_err(|e| corrupt("media", e))?)
        }
        None => None,
    };
    let progress = row.col::<i64>("progress")?.clamp(0, 100) as u8;
    Ok(VideoRecord {
        id: row.col("id")?,
        project: row.col("project")?,
        model: row.col("model")?,
        status,
        progress,
        created_at: row.col("created_at")?,
        started_at: row.col("started_at")?,
        completed_at: row.col("completed_at")?,
        expires_at: row.col("expires_at")?,
        prompt: row.col("prompt")?,
        size,
        seconds: non_negative("seconds", row.col("seconds")?)?,
        // Stored bit-for-bit: both backends' integers are signed 64-bit.
        seed: row.col::<i64>("seed")? as u64,
        spec,
        remixed_from_video_id: row.col("remixed_from_video_id")?,
        error,
        usage,
        batch_id: row.col("batch_id")?,
        attempts: non_negative("attempts", row.col("attempts")?)?,
        cancel_requested: row.flag("cancel_requested")?,
        media,
    })
}

pub(crate) fn character_from_row<R: Cols>(row: &R) -> Result<CharacterRecord> {
    Ok(CharacterRecord {
        id: row.col("id")?,
        project: row.col("project")?,
        name: row.col("name")?,
        created_at: row.col("created_at")?,
        width: non_negative("width", row.col("width")?)?,
        height: non_negative("height", row.col("height")?)?,
    })
}

pub(crate) fn file_from_row<R: Cols>(row: &R) -> Result<FileRecord> {
    let bytes: i64 = row.col("bytes")?;
    Ok(FileRecord {
        id: row.col("id")?,
        project: row.col("project")?,
        purpose: row.col("purpose")?,
        filename: row.col("filename")?,
        bytes: u64::try_from(bytes).map_err(|_| corrupt("file size", bytes))?,
        created_at: row.col("created_at")?,
        expires_at: row.col("expires_at")?,
    })
}

pub(crate) fn batch_from_row<R: Cols>(row: &R) -> Result<BatchRecord> {
    let status: String = row.col("status")?;
    let metadata = row
        .col::<Option<String>>("metadata")?
        .map(|m| serde_json::from_str(&m).map_err(|e| corrupt("batch metadata", e)))
        .transpose()?;
    let errors = row
        .col::<Option<String>>("errors")?
        .map(|m| serde_json::from_str(&m).map_err(|e| corrupt("batch errors", e)))
        .transpose()?
        .unwrap_or_default();
    Ok(BatchRecord {
        id: row.col("id")?,
        project: row.col("project")?,
        endpoint: row.col("endpoint")?,
        input_file_id: row.col("input_file_id")?,
        completion_window: row.col("completion_window")?,
        status: BatchStatus::parse(&status).ok_or_else(|| corrupt("batch status", &status))?,
        model: row.col("model")?,
        metadata,
        output_expires_after: row.col("output_expires_after")?,
        errors,
        output_file_id: row.col("output_file_id")?,
        error_file_id: row.col("error_file_id")?,
        created_at: row.col("created_at")?,
        in_progress_at: row.col("in_progress_at")?,
        expires_at: row.col("expires_at")?,
        finalizing_at: row.col("finalizing_at")?,
        completed_at: row.col("completed_at")?,
        failed_at: row.col("failed_at")?,
        expired_at: row.col("expired_at")?,
        cancelling_at: row.col("cancelling_at")?,
        cancelled_at: row.col("cancelled_at")?,
    })
}

pub(crate) fn endpoint_from_row<R: Cols>(row: &R) -> Result<WebhookEndpointRecord> {
    Ok(WebhookEndpointRecord {
        id: row.col("id")?,
        project: row.col("project")?,
        name: row.col("name")?,
        url: row.col("url")?,
        event_types: row.text_list("event_types")?,
        secret: row.col("secret")?,
        previous_secret: row.col("previous_secret")?,
        previous_secret_until: row.col("previous_secret_until")?,
        declared: row.flag("declared")?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}

pub(crate) fn delivery_from_row<R: Cols>(row: &R) -> Result<DeliveryRecord> {
    let status: String = row.col("status")?;
    let status =
        DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status", &status))?;
    Ok(DeliveryRecord {
        id: row.col("id")?,
        endpoint_id: row.col("endpoint_id")?,
        event_id: row.col("event_id")?,
        event_type: row.col("event_type")?,
        status,
        attempts: row.col::<i64>("attempts")?.clamp(0, i64::from(u32::MAX)) as u32,
        created_at: row.col("created_at")?,
        next_attempt_at_ms: row.col("next_attempt_at")?,
        last_attempt_at: row.col("last_attempt_at")?,
        last_status_code: row
            .col::<Option<i64>>("last_status_code")?
            .and_then(|c| u16::try_from(c).ok()),
        last_error: row.col("last_error")?,
        completed_at: row.col("completed_at")?,
    })
}
