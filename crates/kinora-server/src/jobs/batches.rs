//! The batch driver: one loop per node that moves batches through their status machine.
//!
//! Every step is guarded by a driver lease on the batch row, so with several nodes exactly one
//! validates or finalizes a given batch, and a node that dies mid-step is replaced when its lease
//! lapses (validation restarts from the file; finalization rewrites the output files).
//!
//! Validation reads the input file twice, streaming: the first pass checks the file's structure
//! (JSONL, `custom_id`s unique, method and url, the line limit) with nothing but the set of ids in
//! memory, so a file-level failure leaves no trace; the second resolves each line exactly as
//! `POST /v1/videos` would and stages it in chunks. One transaction then enqueues every staged
//! job and moves the batch to `in_progress`.

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Bytes;
use futures::StreamExt;
use kinora_core::{ErrorCode, clock, ids};
use kinora_store::batch::{LineError, StagedRequest, StagedVideo};
use kinora_store::{BatchRecord, BatchStatus, StoreError};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tokio_util::io::StreamReader;
use tokio_util::sync::CancellationToken;

use crate::form::Form;
use crate::routes::batches::VIDEO_ENDPOINT;
use crate::routes::create::resolve;
use crate::state::AppState;

const POLL: Duration = Duration::from_secs(1);
const LEASE_MS: i64 = 60_000;
const STAGE_CHUNK: usize = 500;
/// One request line may carry a `data:` image; the contract caps those at 20 MiB.
const MAX_LINE_BYTES: usize = 24 * 1024 * 1024;
/// File-level errors listed in `errors.data`; the batch fails on the first, the rest help fix it.
const MAX_LISTED_ERRORS: usize = 100;
const MAX_CUSTOM_ID_CHARS: usize = 512;

pub fn spawn(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = drive(&state, &shutdown).await {
                tracing::warn!(error = %e, "batch driver step failed; retrying");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = state.batch_wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// One pass over every open batch.
pub async fn drive(state: &AppState, shutdown: &CancellationToken) -> Result<(), StoreError> {
    if state.store.expire_batches(clock::now_unix()).await? > 0 {
        state.wake.notify_waiters();
    }
    for b in state.store.open_batches(100).await? {
        if shutdown.is_cancelled() {
            break;
        }
        let driver = state.node_id.as_str();
        if !state
            .store
            .acquire_batch(&b.id, driver, clock::now_millis(), LEASE_MS)
            .await?
        {
            continue;
        }
        let result = step(state, &b).await;
        state.store.release_batch(&b.id, driver).await?;
        // One batch's trouble must not hold up the batches behind it; this one is tried again
        // on the next pass.
        if let Err(e) = result {
            tracing::warn!(batch_id = %b.id, error = %e, "batch step failed; retrying next pass");
        }
    }
    Ok(())
}

async fn step(state: &AppState, b: &BatchRecord) -> Result<(), StoreError> {
    match b.status {
        BatchStatus::Validating => validate(state, b).await,
        BatchStatus::InProgress | BatchStatus::Cancelling => {
            if state.store.unfinished_jobs(&b.id).await? == 0
                && state
                    .store
                    .begin_finalizing(&b.id, clock::now_unix())
                    .await?
            {
                super::batch_output::finalize(state, b).await?;
            }
            Ok(())
        }
        BatchStatus::Finalizing => super::batch_output::finalize(state, b).await,
        _ => Ok(()),
    }
}

fn file_error(line: Option<u64>, code: ErrorCode, message: impl Into<String>) -> LineError {
    LineError {
        code: code.to_string(),
        message: message.into(),
        param: None,
        line,
    }
}

/// The input file as a stream of lines, each at most `MAX_LINE_BYTES`.
async fn lines(
    state: &AppState,
    b: &BatchRecord,
) -> Result<FramedRead<impl tokio::io::AsyncRead, LinesCodec>, StoreError> {
    let key = kinora_store::file::blob_key(&b.input_file_id);
    let stream = state
        .blobs
        .get_range(&key, None)
        .await?
        .map(|r| r.map_err(std::io::Error::other));
    Ok(FramedRead::new(
        StreamReader::new(stream),
        LinesCodec::new_with_max_length(MAX_LINE_BYTES),
    ))
}

/// A structurally valid request line: its id and its body.
struct Request {
    custom_id: String,
    body: serde_json::Map<String, Value>,
}

fn parse_line(raw: &str, line: u64) -> Result<Request, LineError> {
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        file_error(
            Some(line),
            ErrorCode::InvalidJsonLine,
            format!("Line {line} is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(mut obj) = value else {
        return Err(file_error(
            Some(line),
            ErrorCode::InvalidJsonLine,
            format!("Line {line} must be a JSON object."),
        ));
    };
    let custom_id = match obj.remove("custom_id") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_CUSTOM_ID_CHARS => s,
        _ => {
            return Err(file_error(
                Some(line),
                ErrorCode::InvalidCustomId,
                format!(
                    "Line {line} needs a custom_id: a string of 1-{MAX_CUSTOM_ID_CHARS} characters."
                ),
            ));
        }
    };
    if obj.get("method").and_then(Value::as_str) != Some("POST") {
        return Err(file_error(
            Some(line),
            ErrorCode::InvalidMethod,
            format!("Line {line}: method must be \"POST\"."),
        ));
    }
    let url = obj.get("url").and_then(Value::as_str).unwrap_or_default();
    if url != VIDEO_ENDPOINT {
        return Err(file_error(
            Some(line),
            ErrorCode::MismatchedEndpoint,
            format!(
                "Line {line}: url must be \"{VIDEO_ENDPOINT}\", the batch's endpoint; got \"{url}\"."
            ),
        ));
    }
    let Some(Value::Object(body)) = obj.remove("body") else {
        return Err(file_error(
            Some(line),
            ErrorCode::InvalidBody,
            format!("Line {line}: body must be a JSON object (the request to {VIDEO_ENDPOINT})."),
        ));
    };
    Ok(Request { custom_id, body })
}

fn codec_error(e: LinesCodecError, line: u64) -> Result<LineError, StoreError> {
    match e {
        LinesCodecError::MaxLineLengthExceeded => Ok(file_error(
            Some(line),
            ErrorCode::LineTooLong,
            format!("Line {line} is longer than {MAX_LINE_BYTES} bytes."),
        )),
        LinesCodecError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => Ok(file_error(
            Some(line),
            ErrorCode::InvalidEncoding,
            format!("Line {line} is not UTF-8 text."),
        )),
        LinesCodecError::Io(e) => Err(StoreError::Backend(format!("reading batch input: {e}"))),
    }
}

/// Pass one: the file-level checks. Returns the errors that fail the batch (empty when none).
async fn check_structure(state: &AppState, b: &BatchRecord) -> Result<Vec<LineError>, StoreError> {
    let max = state.settings.batches.max_requests;
    let mut seen = HashSet::new();
    let mut errors = Vec::new();
    let mut requests = 0u64;
    let mut lines = lines(state, b).await?;
    let mut n = 0u64;
    while let Some(item) = lines.next().await {
        n += 1;
        let raw = match item {
            Ok(raw) => raw,
            Err(e) => {
                errors.push(codec_error(e, n)?);
                break;
            }
        };
        if raw.trim().is_empty() {
            continue;
        }
        requests += 1;
        if requests > max {
            errors.push(file_error(
                None,
                ErrorCode::TooManyRequests,
                format!("The input file has more than {max} requests."),
            ));
            break;
        }
        match parse_line(&raw, n) {
            Ok(r) => {
                if !seen.insert(r.custom_id.clone()) {
                    errors.push(file_error(
                        Some(n),
                        ErrorCode::DuplicateCustomId,
                        format!(
                            "Line {n}: custom_id '{}' is used by an earlier line; each must be unique.",
                            r.custom_id
                        ),
                    ));
                }
            }
            Err(e) => errors.push(e),
        }
        if errors.len() >= MAX_LISTED_ERRORS {
            break;
        }
    }
    if requests == 0 && errors.is_empty() {
        errors.push(file_error(
            None,
            ErrorCode::EmptyFile,
            "The input file has no requests.",
        ));
    }
    Ok(errors)
}

async fn validate(state: &AppState, b: &BatchRecord) -> Result<(), StoreError> {
    let now = clock::now_unix();
    let record = state
        .store
        .get_file(&b.project, &b.input_file_id, now)
        .await?;
    // A record whose content is gone can never validate: fail it now rather than retry for ever.
    let content = match record {
        Some(_) => {
            let key = kinora_store::file::blob_key(&b.input_file_id);
            state.blobs.head(&key).await?
        }
        None => None,
    };
    if content.is_none() {
        let e = file_error(
            None,
            ErrorCode::FileNotFound,
            format!(
                "The input file '{}' was deleted or expired before validation.",
                b.input_file_id
            ),
        );
        return state.store.fail_batch(&b.id, vec![e], now).await;
    }
    let errors = check_structure(state, b).await?;
    if !errors.is_empty() {
        tracing::info!(batch_id = %b.id, errors = errors.len(), "batch input rejected");
        return state
            .store
            .fail_batch(&b.id, errors, clock::now_unix())
            .await;
    }
    state.store.clear_staged(&b.id).await?;
    let mut lines = lines(state, b).await?;
    let mut chunk = Vec::with_capacity(STAGE_CHUNK);
    let mut n = 0u64;
    let mut jobs = 0u64;
    while let Some(item) = lines.next().await {
        n += 1;
        let raw = item.map_err(|e| StoreError::Backend(format!("re-reading batch input: {e}")))?;
        if raw.trim().is_empty() {
            continue;
        }
        let req = parse_line(&raw, n)
            .map_err(|e| StoreError::Backend(format!("batch input changed: {}", e.message)))?;
        let staged = stage(state, b, n, req).await?;
        jobs += u64::from(staged.video.is_some());
        chunk.push(staged);
        if chunk.len() == STAGE_CHUNK {
            state.store.stage_requests(&b.id, &chunk).await?;
            chunk.clear();
            // Long validations keep their lease.
            state
                .store
                .acquire_batch(&b.id, &state.node_id, clock::now_millis(), LEASE_MS)
                .await?;
        }
    }
    state.store.stage_requests(&b.id, &chunk).await?;
    let enqueued = state
        .store
        .enqueue_batch(&b.id, state.settings.max_attempts, clock::now_millis())
        .await?;
    if enqueued.is_some() {
        state.metrics.jobs_created.inc_by(jobs);
        state.wake.notify_waiters();
    }
    Ok(())
}

/// Resolves one line exactly as `POST /v1/videos` would; its error stays with the line.
async fn stage(
    state: &AppState,
    b: &BatchRecord,
    line: u64,
    req: Request,
) -> Result<StagedRequest, StoreError> {
    let bytes = Bytes::from(serde_json::to_vec(&Value::Object(req.body)).unwrap_or_default());
    let resolved = match Form::from_json(&bytes).await {
        Ok(mut form) => resolve(state, &b.project, &mut form, ids::video_id()).await,
        Err(e) => Err(e),
    };
    Ok(match resolved {
        Ok(job) => StagedRequest {
            line,
            custom_id: req.custom_id,
            video: Some(StagedVideo {
                video_id: job.id,
                model: job.model,
                prompt: job.prompt,
                size: job.size,
                seconds: job.seconds,
                seed: job.seed,
                spec: job.spec,
            }),
            error: None,
        },
        Err(e) => {
            let (status, param, code, message) = e.public();
            if status.is_server_error() {
                return Err(StoreError::Backend(format!("batch line {line}: {e:?}")));
            }
            StagedRequest {
                line,
                custom_id: req.custom_id,
                video: None,
                error: Some(LineError {
                    code,
                    message,
                    param,
                    line: Some(line),
                }),
            }
        }
    })
}
