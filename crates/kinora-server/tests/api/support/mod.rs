//! `TestApp`: a real server on port 0 with throwaway state, and one method per endpoint.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kinora_server::settings::Secret;
use kinora_server::{App, Settings};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response};
use serde_json::Value;
use tokio::sync::oneshot;

pub mod batches;
pub mod events;
pub mod relay;
pub mod webhooks;
pub mod workers;

pub const KEY: &str = "sk-test-a";
pub const OTHER_KEY: &str = "sk-test-b";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub key: String,
    pub data: PathBuf,
    pub state: kinora_server::state::AppState,
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn settings(data: &Path, workers: usize) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        api_keys: vec![Secret(KEY.into()), Secret(OTHER_KEY.into())],
        workers: Some(workers),
        lease_seconds: 5,
        poll_after_ms: 200,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn spawn(workers: usize) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), workers);
        let mut app = TestApp::with_settings(s).await;
        app._dir = Some(dir);
        app
    }

    pub async fn with_settings(s: Settings) -> TestApp {
        let data = s.data_dir.clone();
        let listener = tokio::net::TcpListener::bind(s.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App::open(s).await.unwrap();
        let state = app.state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run(listener, async move {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}/v1"),
            client: Client::new(),
            key: KEY.into(),
            data,
            state,
            _dir: None,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// Graceful shutdown; returns once the server has handed its jobs back.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn root_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches("/v1"))
    }

    /// The Prometheus text of `/metrics` (no key needed).
    pub async fn metrics(&self) -> String {
        let r = self.client.get(self.root_url("/metrics")).send().await;
        r.unwrap().text().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    /// `GET /videos/{id}` as JSON.
    pub async fn video(&self, id: &str) -> Value {
        self.get(&format!("/videos/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, path: &str, form: Form) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.key)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn create(&self, body: Value) -> Value {
        self.create_at("/videos", body).await
    }

    pub async fn create_at(&self, path: &str, body: Value) -> Value {
        let r = self.post_json(path, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{v}");
        v
    }

    /// Waits until the video is terminal (`completed`, `failed` or `expired`).
    pub async fn wait(&self, id: &str) -> Value {
        self.watch_until(id, |v| {
            v["status"] != "queued" && v["status"] != "in_progress"
        })
        .await
    }

    pub async fn wait_status(&self, id: &str, want: &str) -> Value {
        self.watch_until(id, |v| v["status"] == want).await
    }

    pub async fn content(&self, id: &str, variant: &str) -> Response {
        self.get(&format!("/videos/{id}/content?variant={variant}"))
            .await
    }
}

pub fn text_form(fields: &[(&str, &str)]) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    f
}

pub fn file_part(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap()
}

/// Asserts an OpenAI error envelope with the given status and `param`; returns the error object.
pub async fn expect_error(r: Response, status: u16, param: Option<&str>) -> Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    let v: Value = r.json().await.unwrap();
    let e = &v["error"];
    for k in ["message", "type", "param", "code"] {
        assert!(e.get(k).is_some(), "error lacks {k}: {v}");
    }
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    if let Some(p) = param {
        assert_eq!(e["param"], p, "{v}");
    }
    e.clone()
}

/// ffprobe's view of a media file: (codec, width, height, frames, duration, has_audio).
pub fn ffprobe(path: &Path) -> (String, u32, u32, u32, f64, bool) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe must be installed (Debian package ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = v["streams"].as_array().unwrap();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("no video stream");
    let audio = streams.iter().any(|s| s["codec_type"] == "audio");
    let frames = video["nb_read_frames"].as_str().unwrap().parse().unwrap();
    let duration = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    (
        video["codec_name"].as_str().unwrap().to_string(),
        video["width"].as_u64().unwrap() as u32,
        video["height"].as_u64().unwrap() as u32,
        frames,
        duration,
        audio,
    )
}

pub fn decode_errors(path: &Path) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).to_string()
}

pub async fn save(r: Response, dir: &Path, name: &str) -> PathBuf {
    assert_eq!(r.status(), 200);
    let path = dir.join(name);
    std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
    path
}
