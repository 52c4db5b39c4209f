//! `GET /v1/videos/{id}/events`: live progress as Server-Sent Events. A hand-driven remote
//! worker moves the job one step at a time, so every change is known and each step is awaited
//! on the watchers before the next is taken (no sleeps).

use crate::support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::workers::{POOL, REMOTE_MODEL, spawn};
use support::{OTHER_KEY, TestApp, expect_error};

/// One parsed server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    id: String,
    name: String,
    data: Value,
}

/// A connected watcher: raw bytes in, events out (keep-alive comments skipped).
struct Watcher {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Watcher {
    async fn open(app: &TestApp, id: &str, last: Option<&str>) -> Watcher {
        let mut req = app
            .client
            .get(app.url(&format!("/videos/{id}/events")))
            .bearer_auth(&app.key);
        if let Some(last) = last {
            req = req.header("Last-Event-ID", last);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Watcher {
            body: r.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event, or `None` once the server ended the stream. Bounded, so a missing event
    /// fails the test instead of hanging CI.
    async fn next(&mut self) -> Option<Sse> {
        tokio::time::timeout(Duration::from_secs(20), self.next_inner())
            .await
            .expect("no event within 20 s")
    }

    async fn next_inner(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap();
                return Some(Sse { id, name, data });
            }
            match self.body.next().await {
                Some(chunk) => self.buf.push_str(&String::from_utf8_lossy(&chunk.unwrap())),
                None => return None,
            }
        }
    }
}

async fn remote_job(app: &TestApp) -> String {
    let v = app
        .create(
            json!({"model": REMOTE_MODEL, "prompt": "a fox", "size": "1280x720", "seconds": "4"}),
        )
        .await;
    v["id"].as_str().unwrap().to_string()
}

/// Every watcher's next event, checked to be the same on all and to match `check`.
async fn all_see(watchers: &mut [Watcher], check: impl Fn(&Sse)) -> Sse {
    let mut seen: Vec<Sse> = Vec::new();
    for w in watchers.iter_mut() {
        let e = w.next().await.expect("an event");
        check(&e);
        if let Some(first) = seen.first() {
            assert_eq!(
                (&e.id, &e.name, &e.data),
                (&first.id, &first.name, &first.data)
            );
        }
        seen.push(e);
    }
    seen.remove(0)
}

async fn progress_reads(app: &TestApp) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("kinora_progress_store_reads_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no progress_store_reads in {text}"))
}

#[tokio::test]
async fn many_watchers_see_every_change_in_order_then_the_final_event() {
    let (app, _dir) = spawn(0).await;
    let id = remote_job(&app).await;
    let started = std::time::Instant::now();
    let mut watchers = Vec::new();
    for _ in 0..12 {
        watchers.push(Watcher::open(&app, &id, None).await);
    }
    let first = all_see(&mut watchers, |e| {
        assert_eq!(e.name, "video.progress");
        assert_eq!(e.data["status"], "queued");
        assert_eq!(e.data["queue_position"], 1);
    })
    .await;
    assert_eq!(first.data["id"], id.as_str());

    let worker = app.register(POOL).await;
    let job = app.lease(&worker, 5).await.expect("the job");
    all_see(&mut watchers, |e| {
        assert_eq!(
            (e.data["status"].as_str(), e.data["progress"].as_u64()),
            (Some("in_progress"), Some(0))
        );
        assert_eq!(e.data["queue_position"], Value::Null);
    })
    .await;
    let mut ids = vec![first.id.clone()];
    for p in [10u64, 40, 80] {
        let (s, _) = app
            .job_call(&job, "heartbeat", json!({"progress": p}))
            .await;
        assert_eq!(s, 200);
        // The node keeps the last 5% for its own work: a worker's 40% is the video's 38%.
        let e = all_see(&mut watchers, |e| {
            assert_eq!(e.name, "video.progress");
            assert_eq!(e.data["progress"].as_u64(), Some(p * 95 / 100));
        })
        .await;
        ids.push(e.id);
    }
    // A heartbeat that changes nothing is no event: the next one is the failure.
    app.job_call(&job, "heartbeat", json!({"progress": 80}))
        .await;
    let (s, v) = app
        .job_call(
            &job,
            "fail",
            json!({"code": "out_of_memory", "message": "boom", "retryable": false}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let last = all_see(&mut watchers, |e| {
        assert_eq!(e.name, "video.failed");
        assert_eq!(e.data["object"], "video");
        assert_eq!(e.data["status"], "failed");
        assert_eq!(e.data["error"]["code"], "out_of_memory");
    })
    .await;
    ids.push(last.id);
    let seqs: Vec<u64> = ids
        .iter()
        .map(|i| i.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    for w in &mut watchers {
        assert!(
            w.next().await.is_none(),
            "the stream ends after the final event"
        );
    }
    // Twelve watchers cost the store what one does: a first read, one per write on this node
    // (claim, four heartbeats, fail) and the once-a-second fallback; one read per watcher
    // would be at least 12 x 6.
    let reads = progress_reads(&app).await;
    let bound = 1 + 6 + started.elapsed().as_secs() + 2;
    assert!(
        (1..=bound).contains(&reads),
        "{reads} store reads for 12 watchers (bound {bound})"
    );
    // A watcher arriving later gets the story so far and the end at once.
    let mut late = Watcher::open(&app, &id, None).await;
    let mut names = Vec::new();
    while let Some(e) = late.next().await {
        names.push(e.name);
    }
    assert_eq!(names.last().map(String::as_str), Some("video.failed"));
    app.stop().await;
}

#[tokio::test]
async fn reconnect_with_last_event_id_misses_nothing() {
    let (app, _dir) = spawn(0).await;
    let id = remote_job(&app).await;
    let mut steady = Watcher::open(&app, &id, None).await;
    let mut leaving = Watcher::open(&app, &id, None).await;
    let queued = steady.next().await.unwrap();
    let seen_before = leaving.next().await.unwrap();
    assert_eq!(seen_before.id, queued.id);
    drop(leaving);

    // While it is away, the job moves on; the steady watcher proves each step was recorded.
    let worker = app.register(POOL).await;
    let job = app.lease(&worker, 5).await.unwrap();
    let mut missed = vec![steady.next().await.unwrap()];
    for p in [20u64, 60] {
        app.job_call(&job, "heartbeat", json!({"progress": p}))
            .await;
        missed.push(steady.next().await.unwrap());
    }

    let mut back = Watcher::open(&app, &id, Some(&seen_before.id)).await;
    for want in &missed {
        let got = back.next().await.unwrap();
        assert_eq!((&got.id, &got.data), (&want.id, &want.data));
    }
    app.job_call(
        &job,
        "fail",
        json!({"code": "gpu_lost", "message": "x", "retryable": false}),
    )
    .await;
    assert_eq!(back.next().await.unwrap().name, "video.failed");
    assert!(back.next().await.is_none());
    // An id from a feed the server no longer has is no error: the stream starts over.
    let mut stale = Watcher::open(&app, &id, Some("0123456789abcdef:3")).await;
    assert_eq!(stale.next().await.unwrap().data["id"], id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn another_projects_key_gets_404_and_no_key_401() {
    let (app, _dir) = spawn(0).await;
    let id = remote_job(&app).await;
    let path = format!("/videos/{id}/events");
    let r = app
        .client
        .get(app.url(&path))
        .bearer_auth(OTHER_KEY)
        .send()
        .await
        .unwrap();
    expect_error(r, 404, None).await;
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    expect_error(r, 401, None).await;
    expect_error(app.get("/videos/video_nope/events").await, 404, None).await;
    // The server stops promptly with a watcher still connected.
    let mut w = Watcher::open(&app, &id, None).await;
    assert_eq!(w.next().await.unwrap().data["status"], "queued");
    app.stop().await;
    assert!(w.next().await.is_none());
}
