//! The HTTP side of `kinora worker`: one call to the node's `/internal/v1`, and what its
//! failure means to the job loop (lease lost, refused, or worth trying again).

use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::retry::{Backoff, Transient, retrying};
use crate::worker::protocol::Job;

/// How long `complete` and `fail` keep trying to reach the node (see `post_patiently`).
const PATIENCE: Duration = Duration::from_secs(60);

/// Why a call failed, as far as the job loop cares.
#[derive(Debug)]
pub(crate) enum CallError {
    LeaseLost,
    /// The node refused the request itself (4xx): retrying the same call will not help.
    Refused(StatusCode, String),
    /// 503: the node is up but its storage is not (PostgreSQL restarting, S3 down).
    Unavailable(String),
    Transport(anyhow::Error),
}

impl Transient for CallError {
    /// The same call may succeed later: the node or its storage was out of reach.
    fn is_transient(&self) -> bool {
        matches!(self, CallError::Unavailable(_) | CallError::Transport(_))
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::LeaseLost => f.write_str("lease lost"),
            CallError::Refused(s, m) => write!(f, "refused ({s}): {m}"),
            CallError::Unavailable(m) => write!(f, "the node's storage is unavailable: {m}"),
            CallError::Transport(e) => write!(f, "{e:#}"),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}/internal/v1{path}", self.base.trim_end_matches('/'))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, CallError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| CallError::Transport(e.into()))?;
        let status = resp.status();
        if status == StatusCode::CONFLICT {
            return Err(CallError::LeaseLost);
        }
        // A timeout or a rate limit (from the node or a proxy before it) says nothing about the
        // request itself: the same call may pass later.
        if matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
        ) {
            return Err(CallError::Transport(anyhow!("the node answered {status}")));
        }
        if status.is_client_error() {
            let body = resp.text().await.unwrap_or_default();
            return Err(CallError::Refused(status, body));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let body = resp.text().await.unwrap_or_default();
            return Err(CallError::Unavailable(body));
        }
        if !status.is_success() {
            return Err(CallError::Transport(anyhow!("the node answered {status}")));
        }
        Ok(resp)
    }

    pub(crate) async fn post<T: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
        timeout: Duration,
    ) -> Result<Option<R>, CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::Transport(e.into()))?;
        let req = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(timeout)
            .body(bytes);
        let resp = self.send(req).await?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| CallError::Transport(e.into()))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CallError::Transport(anyhow!("unexpected answer from the node: {e}")))
    }

    /// `post` for the calls that end an attempt: they are fenced by the lease (a repeat after a
    /// lost answer gets `LeaseLost`, never a second effect), and a finished render is worth
    /// waiting out a node restart or a storage outage for, rather than rendering it again.
    pub(crate) async fn post_patiently<T: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
        timeout: Duration,
    ) -> Result<Option<R>, CallError> {
        let first = Duration::from_millis(500);
        retry_transient(path, PATIENCE, first, || self.post(path, body, timeout)).await
    }

    pub(crate) async fn download(&self, job: &Job, name: &str, to: &Path) -> Result<(), CallError> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let url = self.url(&format!("/jobs/{}/inputs/{name}", job.video_id));
        let req = self.http.get(url).query(&[("lease_id", &job.lease_id)]);
        let resp = self.send(req).await?;
        let io = |e: std::io::Error| CallError::Transport(e.into());
        if let Some(parent) = to.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let mut file = tokio::fs::File::create(to).await.map_err(io)?;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| CallError::Transport(e.into()))?;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)
    }

    pub(crate) async fn upload(&self, job: &Job, name: &str, from: &Path) -> Result<(), CallError> {
        let file = tokio::fs::File::open(from)
            .await
            .map_err(|e| CallError::Transport(e.into()))?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let url = self.url(&format!("/jobs/{}/artifacts/{name}", job.video_id));
        let req = self
            .http
            .put(url)
            .query(&[("lease_id", &job.lease_id)])
            .body(body);
        self.send(req).await.map(|_| ())
    }
}

/// Runs `call` again while it fails transiently (the node or its storage away), waiting `first`
/// and then twice as long each time (at most 8 s), until `patience` has passed.
pub(crate) async fn retry_transient<T, F, Fut>(
    what: &str,
    patience: Duration,
    first: Duration,
    call: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let backoff = Backoff {
        patience,
        first_wait: first,
        max_wait: Duration::from_secs(8),
    };
    retrying(what, backoff, call).await
}
