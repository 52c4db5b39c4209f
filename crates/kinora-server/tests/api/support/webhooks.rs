//! Webhook test helpers: a loopback receiver that records every request and answers scripted
//! statuses, an independent Standard Webhooks check, and a server with fast retries.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use kinora_server::Settings;
use kinora_server::webhooks::config::WebhookDeliverySettings;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

pub const DEADLINE: Duration = Duration::from_secs(60);

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Hit {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
    pub fn webhook_id(&self) -> String {
        self.header("webhook-id").to_string()
    }
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct ReceiverState {
    hits: mpsc::UnboundedSender<Hit>,
    /// Statuses to answer, in order; 200 once it runs out.
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(
    State(s): State<ReceiverState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let _ = s.hits.send(Hit {
        path: uri.path().to_string(),
        headers,
        body,
    });
    let code = s.script.lock().unwrap().pop_front().unwrap_or(200);
    let status = StatusCode::from_u16(code).unwrap();
    if status.is_redirection() {
        return (status, [("location", "/elsewhere")]).into_response();
    }
    status.into_response()
}

/// A loopback HTTP receiver on its own port.
pub struct Receiver {
    pub addr: SocketAddr,
    hits: mpsc::UnboundedReceiver<Hit>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::serve(listener)
    }

    pub fn serve(listener: tokio::net::TcpListener) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let (tx, hits) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let state = ReceiverState {
            hits: tx,
            script: script.clone(),
        };
        let app = axum::Router::new()
            .fallback(axum::routing::any(receive))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, hits, script }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn answer(&self, codes: &[u16]) {
        self.script.lock().unwrap().extend(codes.iter().copied());
    }

    pub async fn next(&mut self) -> Hit {
        tokio::time::timeout(DEADLINE, self.hits.recv())
            .await
            .expect("no webhook arrived within the deadline")
            .expect("receiver closed")
    }

    /// Whatever has arrived and not been taken yet.
    pub fn drain(&mut self) -> Vec<Hit> {
        let mut out = Vec::new();
        while let Ok(h) = self.hits.try_recv() {
            out.push(h);
        }
        out
    }
}

/// Independent of the server's signing module: the Standard Webhooks check, as the SDK does it.
pub fn verifies(hit: &Hit, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!(
        "{}.{}.{}",
        hit.header("webhook-id"),
        hit.header("webhook-timestamp"),
        hit.body
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    hit.header("webhook-signature")
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

pub fn fast_delivery(allow_private: bool) -> WebhookDeliverySettings {
    WebhookDeliverySettings {
        timeout_seconds: 5,
        retry_base_ms: 50,
        retry_max_ms: 200,
        poll_ms: 50,
        danger_allow_private: allow_private,
        ..Default::default()
    }
}

/// A server with fast retries that may deliver to loopback; the directory lives as long as the
/// returned guard.
pub async fn spawn_with(
    workers: usize,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), workers);
    s.webhook_delivery = fast_delivery(true);
    configure(&mut s);
    (TestApp::with_settings(s).await, dir)
}

pub async fn create_endpoint(app: &TestApp, url: &str, types: &[&str]) -> Value {
    let r = app
        .post_json(
            "/webhook_endpoints",
            json!({"name": "test hook", "url": url, "event_types": types}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

/// A queued video cancelled at once: a `video.failed` event without rendering anything.
pub async fn failed_video(app: &TestApp) -> String {
    let id = app.create(json!({"prompt": "a lighthouse at dusk"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .client
        .post(app.url(&format!("/videos/{id}/cancel")))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    id
}

pub async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let v: Value = app
        .get(&format!(
            "/webhook_endpoints/{endpoint}/deliveries?order=asc&limit=100"
        ))
        .await
        .json()
        .await
        .unwrap();
    v["data"].as_array().cloned().unwrap_or_default()
}

/// Polls the delivery log until `done` holds for it.
pub async fn wait_log(
    app: &TestApp,
    endpoint: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let log = deliveries(app, endpoint).await;
        if done(&log) {
            return log;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "delivery log never reached the state: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn all_delivered(n: usize) -> impl Fn(&[Value]) -> bool {
    move |log| log.len() == n && log.iter().all(|d| d["status"] == "delivered")
}
