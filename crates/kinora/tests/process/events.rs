//! Following a video through `GET /v1/videos/{id}/events` as a client would: the node pushes
//! each change, so a test waits as long as the job takes, without sleeping between polls.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

/// Longer than any job these tests run; a hang fails the test instead of CI.
const DEADLINE: Duration = Duration::from_secs(240);

/// The first state of the video at `video_url` (`…/v1/videos/{id}`) for which `done` holds,
/// read from its event stream, or, once the stream ended (the video is terminal), from the
/// video itself.
pub async fn watch_until(
    client: &reqwest::Client,
    video_url: &str,
    key: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let events = async {
        let resp = client
            .get(format!("{video_url}/events"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{video_url}/events");
        let mut body = resp.bytes_stream();
        let mut pending = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let block: String = pending.drain(..end + 2).collect();
                let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else {
                    continue; // a keep-alive comment
                };
                let video: Value = serde_json::from_str(data.trim_start()).unwrap();
                if done(&video) {
                    return Some(video);
                }
            }
        }
        None
    };
    let found = tokio::time::timeout(DEADLINE, events)
        .await
        .unwrap_or_else(|_| panic!("{video_url} did not reach the state in {DEADLINE:?}"));
    if let Some(v) = found {
        return v;
    }
    let last = get_json(client, video_url, key).await;
    assert!(done(&last), "the stream ended before the state: {last}");
    last
}

/// `GET url` with the API key, as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str, key: &str) -> Value {
    let resp = client.get(url).bearer_auth(key).send().await.unwrap();
    resp.json().await.unwrap()
}
