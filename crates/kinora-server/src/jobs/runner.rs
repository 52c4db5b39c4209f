//! Render workers. Each loop step is `tick()`: lease one job, render it, store the artifacts,
//! report. The loop owns waking (a notify when a job is enqueued, a poll as fallback) and each job
//! runs behind a panic boundary (`spawn_blocking`), so a bad job fails alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use kinora_core::{ErrorCode, clock};
use kinora_render::{CancelToken, RenderError};
use kinora_store::{
    Completion, FailOutcome, JobError, Lease, MediaInfo, StoreError, Usage, VideoRecord,
};
use std::path::Path;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jobs::inputs::{JobFailure, prepare, storage_failure};
use crate::jobs::media::{Variant, blob_key, scene_key};
use crate::jobs::node_fault;
use crate::jobs::store_retry::patiently;
use crate::state::AppState;

/// What one `tick` did, for the loop and for tests.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Idle,
    Completed(String),
    Failed(String),
    Requeued(String),
    /// The lease was lost or the node is shutting down; the job belongs to someone else now.
    Abandoned(String),
    /// The node's scratch space or blob store refuses writes: the job (if one was running) went
    /// back to the queue with its attempt unspent, and nothing is claimed until a probe passes.
    Paused(Option<String>),
}

pub fn spawn_workers(
    state: &AppState,
    count: usize,
    shutdown: CancellationToken,
) -> Vec<JoinHandle<()>> {
    (0..count)
        .map(|i| {
            let state = state.clone();
            let shutdown = shutdown.clone();
            // The trailing slash keeps one worker's name from prefixing another's (`w1`, `w10`),
            // so `release_owner(name)` hands back this worker's job only.
            let name = format!("{}/w{i}/", state.node_id);
            tokio::spawn(async move { worker_loop(state, name, shutdown).await })
        })
        .collect()
}

async fn worker_loop(state: AppState, name: String, shutdown: CancellationToken) {
    // While the node is at fault the probe backs off from 0.5 s to 8 s.
    let mut paused_wait = Duration::from_millis(500);
    while !shutdown.is_cancelled() {
        let wait = match tick(&state, &name, &shutdown).await {
            Outcome::Idle => Duration::from_millis(500),
            Outcome::Paused(_) => {
                paused_wait = (paused_wait * 2).min(Duration::from_secs(8));
                paused_wait
            }
            other => {
                paused_wait = Duration::from_millis(500);
                tracing::debug!(worker = %name, outcome = ?other, "job step");
                continue;
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = state.wake.notified(), if !node_fault::paused(&state) => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Leases and runs at most one job. `worker` must not be a prefix of another worker's name: a
/// job handed back for a node fault is released by that prefix.
pub async fn tick(state: &AppState, worker: &str, shutdown: &CancellationToken) -> Outcome {
    if node_fault::paused(state) && node_fault::check(state).await.is_some() {
        return Outcome::Paused(None);
    }
    let lease_ms = state.settings.lease_seconds * 1000;
    // Only the built-in engine's models: the others wait for their remote pools.
    let lease = match state
        .store
        .claim_for(
            worker,
            Some(&state.builtin_models),
            clock::now_millis(),
            lease_ms,
        )
        .await
    {
        Ok(Some(l)) => l,
        Ok(None) => return Outcome::Idle,
        Err(e) => {
            tracing::warn!(error = %e, "claiming a job failed");
            return Outcome::Idle;
        }
    };
    let id = lease.video.id.clone();
    state.progress.changed(&id);
    let token = CancelToken::new();
    if let Ok(mut map) = state.running.lock() {
        map.insert(id.clone(), token.clone());
    }
    let outcome = run(state, worker, &lease, token, shutdown).await;
    if let Ok(mut map) = state.running.lock() {
        map.remove(&id);
    }
    if lease.video.batch_id.is_some() {
        // The batch may be done now; its driver finalizes it without waiting for the poll.
        state.batch_wake.notify_one();
    }
    outcome
}

async fn run(
    state: &AppState,
    worker: &str,
    lease: &Lease,
    token: CancelToken,
    shutdown: &CancellationToken,
) -> Outcome {
    let id = lease.video.id.clone();
    let started = std::time::Instant::now();
    let v = &lease.video;
    tracing::info!(
        video_id = %id, model = %v.model, size = %v.size, seconds = v.seconds,
        attempt = lease.attempt, "job started"
    );
    let outcome = run_attempt(state, worker, lease, token, shutdown, started).await;
    tracing::info!(
        video_id = %id, model = %v.model, size = %v.size, seconds = v.seconds,
        took_s = %format!("{:.1}", started.elapsed().as_secs_f64()), outcome = outcome_name(&outcome),
        "job ended"
    );
    outcome
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Idle => "idle",
        Outcome::Completed(_) => "completed",
        Outcome::Failed(_) => "failed",
        Outcome::Requeued(_) => "failed, retrying",
        Outcome::Abandoned(_) => "handed back",
        Outcome::Paused(_) => "handed back, node paused",
    }
}

async fn run_attempt(
    state: &AppState,
    worker: &str,
    lease: &Lease,
    token: CancelToken,
    shutdown: &CancellationToken,
    started: std::time::Instant,
) -> Outcome {
    let id = lease.video.id.clone();
    let progress = Arc::new(AtomicU8::new(0));
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = spawn_heartbeat(state, lease, progress.clone(), token.clone(), lost.clone());
    // Shutdown stops renders at once; the job is handed back to the queue by the node.
    let stop_on_shutdown = {
        let (token, shutdown) = (token.clone(), shutdown.clone());
        tokio::spawn(async move {
            shutdown.cancelled().await;
            token.cancel();
        })
    };
    let result = render_and_store(state, lease, progress, token).await;
    heartbeat.abort();
    stop_on_shutdown.abort();
    state
        .metrics
        .render_seconds
        .observe(started.elapsed().as_secs_f64());

    if lost.load(Ordering::SeqCst) || shutdown.is_cancelled() {
        return Outcome::Abandoned(id);
    }
    let failure = match result {
        Ok(completion) => {
            return match complete_attempt(state, &id, &lease.lease_id, completion).await {
                Ok(()) => Outcome::Completed(id),
                Err(StoreError::LeaseLost) => Outcome::Abandoned(id),
                Err(e) => {
                    tracing::error!(video_id = %id, error = %e, "could not record completion");
                    Outcome::Abandoned(id)
                }
            };
        }
        Err(f) => f,
    };
    if failure.retryable && node_fault::check(state).await.is_some() {
        return hand_back(state, worker, id).await;
    }
    let err = JobError {
        code: failure.code.to_string(),
        message: failure.message,
    };
    match fail_attempt(
        state,
        &id,
        &lease.lease_id,
        lease.attempt,
        err,
        failure.retryable,
    )
    .await
    {
        Ok(FailOutcome::Requeued { .. }) => Outcome::Requeued(id),
        Ok(FailOutcome::Failed(_)) => Outcome::Failed(id),
        Err(e) => {
            tracing::warn!(video_id = %id, error = %e, "could not record failure");
            Outcome::Abandoned(id)
        }
    }
}

/// Returns a job that failed for the node's fault to the queue with its attempt unspent.
async fn hand_back(state: &AppState, worker: &str, id: String) -> Outcome {
    match patiently("handing a job back", || {
        state.store.release_owner(worker, clock::now_millis())
    })
    .await
    {
        Ok(_) => tracing::warn!(video_id = %id, "the node is at fault; job handed back"),
        // The lease lapses and the sweeper re-queues the job; its attempt is spent then.
        Err(e) => tracing::error!(video_id = %id, error = %e, "could not hand a job back"),
    }
    Outcome::Paused(Some(id))
}

/// Records a finished attempt as `completed`, whoever rendered it (an in-process worker here, a
/// remote one through `worker::finish`). Every artifact is already stored; the write is fenced
/// by the lease, so riding out a short store outage cannot complete a job twice.
pub(crate) async fn complete_attempt(
    state: &AppState,
    id: &str,
    lease_id: &str,
    done: Completion,
) -> Result<(), StoreError> {
    patiently("recording a completion", || {
        state
            .store
            .complete(id, lease_id, done.clone(), clock::now_unix())
    })
    .await?;
    state.progress.changed(id);
    state
        .metrics
        .jobs_finished(kinora_core::VideoStatus::Completed);
    Ok(())
}

/// Ends a failed attempt, whoever rendered it (an in-process worker here, a remote one through
/// `worker::finish`): back to the queue after a backoff when `retryable` and attempts remain,
/// else `failed`. `attempt` is the number of the attempt that failed.
pub(crate) async fn fail_attempt(
    state: &AppState,
    id: &str,
    lease_id: &str,
    attempt: u32,
    err: JobError,
    retryable: bool,
) -> Result<FailOutcome, StoreError> {
    let retry_at = retryable.then(|| clock::now_millis() + backoff_ms(state, attempt));
    let recorded = patiently("recording a failure", || {
        state
            .store
            .fail(id, lease_id, err.clone(), retry_at, clock::now_unix())
    })
    .await?;
    state.progress.changed(id);
    if let FailOutcome::Failed(_) = recorded {
        state
            .metrics
            .jobs_finished(kinora_core::VideoStatus::Failed);
    }
    Ok(recorded)
}

/// Exponential backoff with ±25% jitter, so retries of a shared cause do not arrive together.
pub(crate) fn backoff_ms(state: &AppState, attempt: u32) -> i64 {
    let base = state.settings.retry_backoff_seconds.max(1) * 1000;
    let exp = base.saturating_mul(1_i64 << attempt.saturating_sub(1).min(16));
    let jitter = rand::random_range(0.75..1.25);
    (exp as f64 * jitter) as i64
}

fn spawn_heartbeat(
    state: &AppState,
    lease: &Lease,
    progress: Arc<AtomicU8>,
    token: CancelToken,
    lost: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let state = state.clone();
    let (id, lease_id) = (lease.video.id.clone(), lease.lease_id.clone());
    let lease_ms = state.settings.lease_seconds * 1000;
    // Often enough that a cancel lands within a second and a lease never lapses while alive.
    let every = Duration::from_millis((lease_ms / 3).clamp(100, 1000) as u64);
    tokio::spawn(async move {
        let mut told = 0;
        loop {
            tokio::time::sleep(every).await;
            let p = progress.load(Ordering::Relaxed);
            let beat = state
                .store
                .heartbeat(&id, &lease_id, p, clock::now_millis(), lease_ms)
                .await;
            if beat.is_ok() && p != told {
                told = p;
                state.progress.changed(&id);
            }
            match beat {
                Ok(true) => token.cancel(),
                Ok(false) => {}
                Err(StoreError::LeaseLost) => {
                    lost.store(true, Ordering::SeqCst);
                    token.cancel();
                    return;
                }
                Err(e) => tracing::warn!(video_id = %id, error = %e, "heartbeat failed"),
            }
        }
    })
}

async fn render_and_store(
    state: &AppState,
    lease: &Lease,
    progress: Arc<AtomicU8>,
    token: CancelToken,
) -> Result<Completion, JobFailure> {
    let v = &lease.video;
    let scratch = tempfile::TempDir::new_in(&state.tmp_dir).map_err(scratch_failure)?;
    let req = prepare(state, v, scratch.path()).await?;
    let out_dir = scratch.path().join("out");
    std::fs::create_dir_all(&out_dir).map_err(scratch_failure)?;
    let rendered = {
        let (out_dir, token, progress) = (out_dir.clone(), token.clone(), progress.clone());
        let priority = super::priority::RenderPriority {
            nice: state.settings.engine.render_nice,
            idle: state.settings.engine.render_idle,
        };
        tokio::task::spawn_blocking(move || {
            // Rendering is 0–95%; storing the artifacts takes the rest.
            let report =
                |p: u8| progress.store((u16::from(p.min(100)) * 95 / 100) as u8, Ordering::Relaxed);
            super::priority::at_priority(priority, || {
                kinora_render::render(&req, &out_dir, &report, &token)
            })
        })
        .await
    };
    let outputs = match rendered {
        Ok(Ok(o)) => o,
        Ok(Err(RenderError::Cancelled)) => {
            return Err(JobFailure::permanent(
                ErrorCode::Cancelled,
                "The video was cancelled before it finished rendering.",
            ));
        }
        Ok(Err(RenderError::InvalidInput { param, message })) => {
            return Err(JobFailure::permanent(
                ErrorCode::InvalidInput,
                format!("{param}: {}", crate::error::without_paths(&message)),
            ));
        }
        Ok(Err(RenderError::NotUnderstood { code, message })) => {
            tracing::info!(video_id = %v.id, code = %code, "refused at no charge: {message}");
            return Err(JobFailure::permanent(code, message));
        }
        Ok(Err(e)) => {
            // The engine's and codec library's own text (paths, library errors) is for the log.
            tracing::warn!(video_id = %v.id, error = %e, "render failed");
            return Err(JobFailure::transient(
                ErrorCode::RenderFailed,
                "Rendering failed on the server; the job is retried.",
            ));
        }
        Err(join) => {
            tracing::error!(video_id = %v.id, error = %join, "render panicked");
            return Err(JobFailure::permanent(
                ErrorCode::InternalError,
                "The renderer crashed on this job.",
            ));
        }
    };
    progress.store(96, Ordering::Relaxed);
    let files = Artifacts {
        video: &outputs.video,
        thumbnail: &outputs.thumbnail,
        spritesheet: &outputs.spritesheet,
        scene: Some(&outputs.scene),
    };
    let media = store_outputs(
        state,
        &v.id,
        &files,
        outputs.info.frames,
        outputs.info.duration_s,
    )
    .await?;
    Ok(completion(state, v, media))
}

fn scratch_failure(e: std::io::Error) -> JobFailure {
    tracing::warn!(error = %e, "scratch space refused a job");
    JobFailure::transient(
        ErrorCode::ScratchUnavailable,
        "The server's scratch space could not be written.",
    )
}

/// Usage, price and expiry of a finished render of `v`.
pub(crate) fn completion(state: &AppState, v: &VideoRecord, media: MediaInfo) -> Completion {
    let model = state.catalogue.get(&v.model);
    let total = media.duration_s.round().max(1.0) as u32;
    let billed = v.spec.billed_seconds(total);
    let cost = model.map_or(0.0, |m| m.cost_usd(v.size, billed, v.batch_id.is_some()));
    Completion {
        usage: Usage {
            seconds: billed,
            cost_usd: cost,
        },
        expires_at: clock::now_unix() + state.settings.retention_seconds,
        media,
        seconds: total,
    }
}

/// A finished render's files, as they go to the blob store.
pub(crate) struct Artifacts<'a> {
    pub video: &'a Path,
    pub thumbnail: &'a Path,
    pub spritesheet: &'a Path,
    /// The built-in engine's scene, for later extensions and edits; remote models have none.
    pub scene: Option<&'a Path>,
}

/// `completed` is written only after this returns: every artifact is in the blob store first.
pub(crate) async fn store_outputs(
    state: &AppState,
    id: &str,
    o: &Artifacts<'_>,
    frames: u32,
    duration_s: f64,
) -> Result<MediaInfo, JobFailure> {
    let b = &state.blobs;
    let video_bytes = b
        .put_file(&blob_key(id, Variant::Video), o.video)
        .await
        .map_err(storage_failure)?;
    let thumbnail_bytes = b
        .put_file(&blob_key(id, Variant::Thumbnail), o.thumbnail)
        .await
        .map_err(storage_failure)?;
    let spritesheet_bytes = b
        .put_file(&blob_key(id, Variant::Spritesheet), o.spritesheet)
        .await
        .map_err(storage_failure)?;
    if let Some(scene) = o.scene {
        b.put_file(&scene_key(id), scene)
            .await
            .map_err(storage_failure)?;
    }
    Ok(MediaInfo {
        video_bytes,
        thumbnail_bytes,
        spritesheet_bytes,
        frames,
        duration_s,
    })
}
