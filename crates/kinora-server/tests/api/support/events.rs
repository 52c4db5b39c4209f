//! Waiting on a video the way a client can: through its Server-Sent Events
//! (`GET /v1/videos/{id}/events`). The server pushes each change as it happens, so a test waits
//! exactly as long as the job takes, with no sleeps and no polling loop, and every wait also
//! exercises the event stream.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::TestApp;

/// Longer than any job in the suite; a hang fails the test instead of CI.
const DEADLINE: Duration = Duration::from_secs(120);

impl TestApp {
    /// The first state of video `id` for which `done` holds: from its event stream, or, once the
    /// stream has ended (the video is terminal or deleted), from one last read.
    pub async fn watch_until(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let watched = tokio::time::timeout(DEADLINE, self.first_event(id, &done)).await;
        let v = match watched {
            Ok(Some(v)) => return v,
            Ok(None) => self.video(id).await,
            Err(_) => panic!("video {id} did not reach the state in {DEADLINE:?}"),
        };
        assert!(done(&v), "video {id}'s stream ended before the state: {v}");
        v
    }

    async fn first_event(&self, id: &str, done: &impl Fn(&Value) -> bool) -> Option<Value> {
        let resp = self.get(&format!("/videos/{id}/events")).await;
        assert_eq!(resp.status(), 200, "events of {id}");
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(chunk) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.ok()?));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                // Keep-alive comments carry no data.
                if data.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&data.join("\n")).unwrap();
                if done(&v) {
                    return Some(v);
                }
            }
        }
        None
    }
}
