//! A hand-driven remote worker: raw protocol calls, so tests can misbehave on purpose.

use serde_json::{Value, json};

use super::TestApp;

pub const TOKEN: &str = "wt-test-token-0123456789";
pub const POOL: &str = "tinygpu";
pub const REMOTE_MODEL: &str = "tiny-gpu-1";

/// Settings with worker tokens and one remote model on `POOL`.
pub fn settings(data: &std::path::Path, workers: usize) -> kinora_server::Settings {
    let mut s = super::settings(data, workers);
    s.worker_tokens = vec![kinora_server::settings::Secret(TOKEN.into())];
    s.remote_models = vec![kinora_server::worker::config::RemoteModel {
        id: REMOTE_MODEL.into(),
        pool: POOL.into(),
        like: "sora-2".into(),
        description: None,
        features: None,
    }];
    s
}

pub async fn spawn(workers: usize) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::with_settings(settings(dir.path(), workers)).await;
    (app, dir)
}

impl TestApp {
    pub fn internal(&self, path: &str) -> String {
        self.root_url(&format!("/internal/v1{path}"))
    }

    /// POSTs JSON with the worker token; returns the status and the body (Null when empty).
    pub async fn wpost(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.internal(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, v)
    }

    pub async fn register(&self, pool: &str) -> Value {
        let (s, v) = self
            .wpost(
                "/workers/register",
                json!({"name": "test", "pool": pool, "version": "tests"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    /// Leases one job of `models`, waiting up to `wait` seconds; `None` on 204.
    pub async fn lease(&self, worker: &Value, wait: u64) -> Option<Value> {
        let (s, v) = self
            .wpost(
                "/lease",
                json!({"worker_id": worker["worker_id"], "models": worker["models"], "wait_seconds": wait}),
            )
            .await;
        match s {
            200 => Some(v),
            204 => None,
            other => panic!("lease answered {other}: {v}"),
        }
    }

    pub async fn upload(&self, job: &Value, name: &str, bytes: Vec<u8>) -> u16 {
        self.client
            .put(self.internal(&format!(
                "/jobs/{}/artifacts/{name}",
                job["video_id"].as_str().unwrap()
            )))
            .query(&[("lease_id", job["lease_id"].as_str().unwrap())])
            .bearer_auth(TOKEN)
            .body(bytes)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn job_call(&self, job: &Value, verb: &str, extra: Value) -> (u16, Value) {
        let mut body = json!({"lease_id": job["lease_id"]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.wpost(
            &format!("/jobs/{}/{verb}", job["video_id"].as_str().unwrap()),
            body,
        )
        .await
    }
}

/// A clip another encoder made: libx264 Constrained Baseline at `fps`, as a GPU worker sends.
pub fn foreign_clip(dir: &std::path::Path, size: &str, fps: u32, seconds: f64) -> Vec<u8> {
    let out = dir.join(format!("foreign-{fps}.mp4"));
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate={fps}"))
        .args(["-t", &format!("{seconds}")])
        .args([
            "-c:v",
            "libx264",
            "-profile:v",
            "baseline",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg must be installed (Debian package ffmpeg)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// A 16-bit PCM WAV tone at `rate` Hz, as LTX-2's vocoder output is written.
pub fn tone_wav(dir: &std::path::Path, rate: u32, seconds: f64) -> Vec<u8> {
    let out = dir.join("tone.wav");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:sample_rate={rate}"))
        .args(["-t", &format!("{seconds}"), "-c:a", "pcm_s16le"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

impl TestApp {
    /// Downloads input `name` of a leased `job`.
    pub async fn input(&self, job: &Value, name: &str) -> reqwest::Response {
        let id = job["video_id"].as_str().unwrap();
        self.client
            .get(self.internal(&format!("/jobs/{id}/inputs/{name}")))
            .query(&[("lease_id", job["lease_id"].as_str().unwrap())])
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// Creates a character called `name` from a 3 s test-pattern clip; returns its id.
    pub async fn character_from_clip(&self, dir: &std::path::Path, name: &str) -> String {
        let clip = foreign_clip(dir, "640x360", 24, 3.0);
        let form = super::text_form(&[("name", name)])
            .part("video", super::file_part(clip, "char.mp4", "video/mp4"));
        let r = self.post_form("/videos/characters", form).await;
        assert_eq!(r.status(), 200);
        let c: Value = r.json().await.unwrap();
        c["id"].as_str().unwrap().to_string()
    }

    /// Queues a job on the remote model with character `id` (called `name`); returns its id.
    pub async fn remote_job_with_character(&self, id: &str, name: &str) -> String {
        let v = self
            .create(json!({
                "model": REMOTE_MODEL,
                "prompt": format!("{name} walks along a beach"),
                "size": "1280x720",
                "seconds": "4",
                "characters": [{"id": id}],
            }))
            .await;
        assert_eq!(v["status"], "queued", "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}
