//! `kinora worker`: the built-in engine as a remote worker, for CPU farms. It speaks the same
//! protocol as the GPU worker: register, long-poll a lease, download inputs, render while
//! heartbeating (which also carries cancellation back), upload, complete or fail. An extension
//! uploads only its new segment; the node stitches it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use kinora_core::ErrorCode;
use kinora_render::{CancelToken, CharacterRef, RenderError, RenderMode, RenderRequest};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::worker::http::{CallError, Client, retry_transient};
use crate::worker::protocol::*;
use crate::worker::routes::CALL_LIMIT_SECONDS;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The node's base URL, e.g. `http://10.0.0.5:8000`.
    pub server: String,
    pub token: String,
    pub name: String,
    /// Built-in model ids to serve; empty means all of them.
    pub models: Vec<String>,
    pub scratch: PathBuf,
}

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one artifact's upload is retried (after 1, 2 and 4 s) before the attempt is handed
/// back; the heartbeat keeps the lease meanwhile.
const UPLOAD_PATIENCE: Duration = Duration::from_secs(8);
const WAIT_SECONDS: u64 = 20;

/// Runs until `shutdown`; a job in flight then is handed back (failed as retryable), so the
/// queue gives it to another worker at once instead of after its lease lapses.
pub async fn run(cfg: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let client = Client {
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?,
        base: cfg.server.clone(),
        token: cfg.token.clone(),
    };
    std::fs::create_dir_all(&cfg.scratch)
        .with_context(|| format!("creating {}", cfg.scratch.display()))?;
    let reg = register(&client, &cfg, &shutdown).await?;
    let Some(reg) = reg else { return Ok(()) };
    tracing::info!(worker_id = %reg.worker_id, models = ?reg.models, "registered");
    let mut backoff = Duration::from_millis(500);
    while !shutdown.is_cancelled() {
        let req = LeaseRequest {
            worker_id: reg.worker_id.clone(),
            models: reg.models.clone(),
            wait_seconds: WAIT_SECONDS.min(reg.max_wait_seconds),
        };
        let asked = Instant::now();
        let leased = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = client.post::<_, Job>("/lease", &req, CALL_TIMEOUT + Duration::from_secs(WAIT_SECONDS)) => r,
        };
        match leased {
            Ok(Some(job)) => {
                backoff = Duration::from_millis(500);
                let lease_ms = asked.elapsed().as_millis() as u64;
                let id = job.video_id.clone();
                let mut t = Phases::default();
                match run_job(&client, &cfg, &reg, job, &shutdown, &mut t).await {
                    // The phases are what `scripts/bench-cluster.sh` reads: the protocol's cost
                    // (lease, inputs, upload + the node's validation) against the render.
                    Ok(outcome) => tracing::info!(
                        video_id = %id, ?outcome, lease_ms, inputs_ms = ms(t.inputs),
                        render_ms = ms(t.render), upload_ms = ms(t.upload),
                        complete_ms = ms(t.complete), "job done"
                    ),
                    Err(e) => tracing::warn!(video_id = %id, error = %e, "job abandoned"),
                }
            }
            Ok(None) => backoff = Duration::from_millis(500),
            Err(CallError::Refused(status, body)) => {
                bail!("the node refused the lease request ({status}): {body}")
            }
            Err(e) => {
                tracing::warn!(error = %e, "lease request failed; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(15));
            }
        }
    }
    Ok(())
}

/// Registers, waiting for the node to come up; `None` if shut down first.
async fn register(
    client: &Client,
    cfg: &WorkerConfig,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<RegisterResponse>> {
    let req = RegisterRequest {
        name: cfg.name.clone(),
        pool: crate::worker::config::BUILTIN_POOL.to_string(),
        models: cfg.models.clone(),
        version: Some(format!("kinora {}", env!("CARGO_PKG_VERSION"))),
    };
    let mut backoff = Duration::from_millis(250);
    loop {
        match client
            .post::<_, RegisterResponse>("/workers/register", &req, CALL_TIMEOUT)
            .await
        {
            Ok(Some(r)) => return Ok(Some(r)),
            Ok(None) => bail!("the node answered the registration with no body"),
            Err(CallError::Refused(status, body)) => {
                bail!("the node refused the registration ({status}): {body}")
            }
            Err(e) => tracing::warn!(error = %e, "cannot reach the node yet; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Input names come from the node; refuse any that would leave the scratch directory.
fn safe_join(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..");
    if !ok {
        bail!("the node sent an unsafe input name {name:?}");
    }
    Ok(dir.join(name))
}

fn request_for(job: &Job, dir: &Path) -> anyhow::Result<RenderRequest> {
    let has = |name: &str| job.inputs.iter().any(|i| i.name == name);
    let mode = match job.mode {
        JobMode::Create => RenderMode::Create {
            input_reference: has("input_reference").then(|| dir.join("input_reference")),
            characters: job
                .characters
                .iter()
                .enumerate()
                .map(|(i, c)| CharacterRef {
                    name: c.name.clone(),
                    dir: dir.join(format!("character_{i}")),
                })
                .collect(),
        },
        JobMode::Extend | JobMode::Edit => {
            if !has("source.mp4") {
                bail!("the job has no source.mp4 input");
            }
            let source = dir.join("source.mp4");
            let source_scene = has("source.scene.json").then(|| dir.join("source.scene.json"));
            if job.mode == JobMode::Extend {
                RenderMode::Extend {
                    source,
                    source_scene,
                }
            } else if job.edit_strength.is_some() {
                // The built-in engine applies a change whole: rendering anyway would bill a
                // strength that was never honoured.
                bail!(
                    "edit_strength is not supported by this worker: the built-in engine applies \
                     each change whole"
                );
            } else {
                RenderMode::Edit {
                    source,
                    source_scene,
                }
            }
        }
    };
    Ok(RenderRequest {
        prompt: job.prompt.clone(),
        width: job.width,
        height: job.height,
        seconds: job.seconds,
        seed: job.seed,
        mode,
        audio_codec: job.audio_codec.parse().unwrap_or_default(),
        captions: job.captions,
    })
}

/// What the render thread hands back: the clip and the scene to upload with it.
type Rendered = Result<(PathBuf, PathBuf), RenderError>;

fn render_blocking(
    req: &RenderRequest,
    out: &Path,
    progress: &Arc<AtomicU8>,
    token: &CancelToken,
) -> Rendered {
    let report = |p: u8| progress.store(p, Ordering::Relaxed);
    match &req.mode {
        RenderMode::Extend {
            source,
            source_scene,
        } => {
            kinora_render::render_segment(req, source, source_scene.as_deref(), out, &report, token)
                .map(|s| (s.video, s.scene))
        }
        _ => kinora_render::render(req, out, &report, token).map(|o| (o.video, o.scene)),
    }
}

/// Where one job's time went, as the worker saw it.
#[derive(Default)]
struct Phases {
    /// Downloading the inputs from the node.
    inputs: Duration,
    render: Duration,
    /// Uploading the artifacts to the node (which streams them to the blob store).
    upload: Duration,
    /// `complete`: the node decode-validates the clip, makes the previews and stores them.
    complete: Duration,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

async fn run_job(
    client: &Client,
    cfg: &WorkerConfig,
    reg: &RegisterResponse,
    job: Job,
    shutdown: &CancellationToken,
    phases: &mut Phases,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let token = CancelToken::new();
    let progress = Arc::new(AtomicU8::new(0));
    let lost = Arc::new(AtomicBool::new(false));
    let user_cancel = Arc::new(AtomicBool::new(false));
    // From the lease on, downloads included: a large source on a slow link can outlast a lease.
    let _heartbeat = keep_alive(
        client,
        &job,
        reg,
        (&token, &progress),
        (&lost, &user_cancel),
    );
    let scratch = match tempfile::TempDir::new_in(&cfg.scratch) {
        Ok(s) => s,
        Err(e) => {
            let msg = format!("creating scratch space: {e}");
            return fail(client, &job, ErrorCode::ScratchUnavailable, &msg, true).await;
        }
    };
    let dir = scratch.path().join("in");
    for input in &job.inputs {
        let to = safe_join(&dir, &input.name)?;
        if let Err(e) = client.download(&job, &input.name, &to).await {
            return match e {
                CallError::LeaseLost => Err(anyhow!("lease lost while downloading inputs")),
                other => {
                    let msg = format!("downloading input {}: {other}", input.name);
                    fail(client, &job, ErrorCode::InputUnavailable, &msg, true).await
                }
            };
        }
    }
    if lost.load(Ordering::SeqCst) {
        bail!("lease lost while downloading inputs");
    }
    phases.inputs = started.elapsed();
    let req = match request_for(&job, &dir) {
        Ok(req) => req,
        Err(e) => return fail(client, &job, ErrorCode::InvalidInput, &e.to_string(), false).await,
    };
    let out = scratch.path().join("out");
    let stop_on_shutdown = {
        let (token, shutdown) = (token.clone(), shutdown.clone());
        tokio::spawn(async move {
            shutdown.cancelled().await;
            token.cancel();
        })
    };
    let render_started = Instant::now();
    let rendered = {
        let (req, out, progress, token) =
            (req.clone(), out.clone(), progress.clone(), token.clone());
        tokio::task::spawn_blocking(move || render_blocking(&req, &out, &progress, &token)).await
    };
    phases.render = render_started.elapsed();
    stop_on_shutdown.abort();
    if lost.load(Ordering::SeqCst) {
        bail!("lease lost while rendering");
    }
    // The heartbeat runs on through the uploads and their retries: the lease stays ours until
    // the node has the result.
    match rendered {
        Ok(Ok((video, scene))) => finish(client, &job, &video, &scene, phases).await,
        Ok(Err(RenderError::Cancelled)) if user_cancel.load(Ordering::SeqCst) => {
            fail(
                client,
                &job,
                ErrorCode::Cancelled,
                "The video was cancelled.",
                false,
            )
            .await
        }
        Ok(Err(RenderError::Cancelled)) => {
            let msg = "The worker shut down; another worker will render the job.";
            fail(client, &job, ErrorCode::WorkerStopping, msg, true).await
        }
        Ok(Err(RenderError::InvalidInput { param, message })) => {
            let msg = format!("{param}: {message}");
            fail(client, &job, ErrorCode::InvalidInput, &msg, false).await
        }
        Ok(Err(RenderError::NotUnderstood { code, message })) => {
            fail(client, &job, code, &message, false).await
        }
        Ok(Err(e)) => {
            let msg = format!("Rendering failed: {e}");
            fail(client, &job, ErrorCode::RenderFailed, &msg, true).await
        }
        Err(join) => {
            tracing::error!(video_id = %job.video_id, error = %join, "render panicked");
            let msg = "The renderer crashed on this job.";
            fail(client, &job, ErrorCode::InternalError, msg, false).await
        }
    }
}

/// Heartbeats the job every `heartbeat_interval_ms` until dropped, reporting `progress`. A user
/// cancel sets `user_cancel`, a lost lease sets `lost`; both cancel `token`, which stops the
/// render.
fn keep_alive(
    client: &Client,
    job: &Job,
    reg: &RegisterResponse,
    (token, progress): (&CancelToken, &Arc<AtomicU8>),
    (lost, user_cancel): (&Arc<AtomicBool>, &Arc<AtomicBool>),
) -> AbortOnDropHandle<()> {
    let (client, job) = (client.clone(), job.clone());
    let (token, progress) = (token.clone(), progress.clone());
    let (lost, user_cancel) = (lost.clone(), user_cancel.clone());
    let every = Duration::from_millis(reg.heartbeat_interval_ms.clamp(100, 10_000));
    AbortOnDropHandle::new(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let beat = HeartbeatRequest {
                lease_id: job.lease_id.clone(),
                progress: progress.load(Ordering::Relaxed),
            };
            let path = format!("/jobs/{}/heartbeat", job.video_id);
            match client
                .post::<_, HeartbeatResponse>(&path, &beat, CALL_TIMEOUT)
                .await
            {
                Ok(Some(r)) if r.cancel => {
                    user_cancel.store(true, Ordering::SeqCst);
                    token.cancel();
                }
                Ok(_) => {}
                Err(CallError::LeaseLost) => {
                    lost.store(true, Ordering::SeqCst);
                    token.cancel();
                    return;
                }
                Err(e) => tracing::warn!(video_id = %job.video_id, error = %e, "heartbeat failed"),
            }
        }
    }))
}

async fn finish(
    client: &Client,
    job: &Job,
    video: &Path,
    scene: &Path,
    phases: &mut Phases,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    for (name, path) in [("video.mp4", video), ("scene.json", scene)] {
        let what = format!("upload of {name}");
        let first_wait = Duration::from_secs(1);
        match retry_transient(&what, UPLOAD_PATIENCE, first_wait, || {
            client.upload(job, name, path)
        })
        .await
        {
            Ok(()) => {}
            Err(CallError::LeaseLost) => bail!("lease lost while uploading"),
            Err(e) => {
                // The same code as a job the node renders itself when its storage is down.
                let code = match e {
                    CallError::Unavailable(_) => ErrorCode::StorageUnavailable,
                    _ => ErrorCode::UploadFailed,
                };
                let msg = format!("uploading {name}: {e}");
                return fail(client, job, code, &msg, true).await;
            }
        }
    }
    phases.upload = started.elapsed();
    let path = format!("/jobs/{}/complete", job.video_id);
    let req = CompleteRequest {
        lease_id: job.lease_id.clone(),
    };
    let completing = Instant::now();
    // The node decodes and stores the clip before answering; give it time for long clips.
    let answer = client
        .post_patiently::<_, OutcomeResponse>(&path, &req, Duration::from_secs(CALL_LIMIT_SECONDS))
        .await;
    phases.complete = completing.elapsed();
    match answer {
        Ok(Some(r)) => {
            if let Some(e) = &r.error {
                tracing::warn!(video_id = %job.video_id, code = %e.code, message = %e.message, "the node refused the clip");
            }
            Ok(r.outcome)
        }
        Ok(None) => bail!("the node answered complete with no body"),
        // The node's storage stayed away for all of `post_patiently`: hand the job back now,
        // rather than when the lease lapses.
        Err(e @ CallError::Unavailable(_)) => {
            let msg = format!("completing: {e}");
            fail(client, job, ErrorCode::StorageUnavailable, &msg, true).await
        }
        Err(e) => bail!("complete failed: {e}"),
    }
}

async fn fail(
    client: &Client,
    job: &Job,
    code: ErrorCode,
    message: &str,
    retryable: bool,
) -> anyhow::Result<Outcome> {
    let path = format!("/jobs/{}/fail", job.video_id);
    let req = FailRequest {
        lease_id: job.lease_id.clone(),
        code: code.to_string(),
        message: message.to_string(),
        retryable,
    };
    match client
        .post_patiently::<_, OutcomeResponse>(&path, &req, CALL_TIMEOUT)
        .await
    {
        Ok(Some(r)) => Ok(r.outcome),
        Ok(None) => bail!("the node answered fail with no body"),
        Err(e) => bail!("fail failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_stay_inside_scratch() {
        let dir = Path::new("/scratch");
        assert!(safe_join(dir, "character_0/ref_0.png").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a"] {
            assert!(safe_join(dir, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_edit_strength_the_builtin_engine_cannot_honour_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("source.mp4"), b"").unwrap();
        let job: Job = serde_json::from_value(serde_json::json!({
            "video_id": "video_1", "lease_id": "lease_1", "attempt": 1, "lease_seconds": 30,
            "model": "cpu-farm", "mode": "edit", "prompt": "make it snowy", "width": 320,
            "height": 180, "seconds": 2, "seed": 1, "audio_codec": "opus", "edit_strength": 0.4,
            "inputs": [{"name": "source.mp4", "kind": "video"}], "characters": []
        }))
        .unwrap();
        let err = request_for(&job, dir.path()).unwrap_err().to_string();
        assert!(err.contains("edit_strength"), "{err}");
        let plain = Job {
            edit_strength: None,
            ..job
        };
        assert!(request_for(&plain, dir.path()).is_ok());
    }
}
