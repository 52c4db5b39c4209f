//! The server with its media on a real S3-protocol server (started by `scripts/test.sh`; see
//! `scripts/s3.sh`): render, download whole and by `Range`, delete, and the bucket is clean.

use crate::support;

use futures::TryStreamExt;
use kinora_server::jobs::media::retry_deletions;
use kinora_store::{BlobStore, S3Config};
use serde_json::{Value, json};
use support::relay::Relay;
use support::workers::{POOL, REMOTE_MODEL, foreign_clip};
use support::*;

/// `KINORA_TEST_S3_URL` plus a fresh prefix; `None` only when `KINORA_TEST_S3=skip` says so.
fn s3_blob_url() -> Option<String> {
    let url = match std::env::var("KINORA_TEST_S3_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var("KINORA_TEST_S3").as_deref() == Ok("skip") => return None,
        _ => panic!(
            "KINORA_TEST_S3_URL is not set: run the tests with scripts/test.sh (which starts an \
             S3 server), or start one with `scripts/s3.sh start DIR` and export the lines it \
             prints, or set KINORA_TEST_S3=skip to skip the S3 tests explicitly"
        ),
    };
    let unique = &kinora_core::ids::lease_id()[6..22];
    Some(format!("{}/server-{unique}", url.trim_end_matches('/')))
}

async fn keys_under(store: &BlobStore, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list_keys(prefix)
        .map_ok(|e| e.key)
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_download_range_and_delete_on_s3() {
    let Some(blob_url) = s3_blob_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 1);
    s.blob_url = Some(blob_url.clone());
    let app = TestApp::with_settings(s).await;
    // A second client on the same bucket and prefix: what is really in S3.
    let bucket = BlobStore::from_url(&blob_url, &S3Config::default()).unwrap();

    let v = app
        .create(
            json!({"prompt": "a lighthouse in fog", "size": "1280x720", "seconds": "4", "seed": 3}),
        )
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let done = app.wait(&id).await;
    assert_eq!(done["status"], "completed", "{done}");

    let whole = app.content(&id, "video").await;
    assert_eq!(whole.status(), 200);
    let etag = whole.headers()["etag"].to_str().unwrap().to_string();
    let mp4 = whole.bytes().await.unwrap();
    let head = bucket
        .head(&format!("videos/{id}/video.mp4"))
        .await
        .unwrap()
        .expect("the video is in the bucket");
    assert_eq!(head.size, mp4.len() as u64);
    assert_eq!(etag, format!("\"{}\"", head.etag.trim_matches('"')));
    let path = dir.path().join("v.mp4");
    std::fs::write(&path, &mp4).unwrap();
    assert_eq!(ffprobe(&path).0, "h264");
    assert_eq!(decode_errors(&path), "");

    for (range, want) in [
        ("bytes=100-1099".to_string(), 100..1100),
        (
            format!("bytes={}-", mp4.len() - 10),
            mp4.len() - 10..mp4.len(),
        ),
        ("bytes=-7".to_string(), mp4.len() - 7..mp4.len()),
    ] {
        let r = app
            .client
            .get(app.url(&format!("/videos/{id}/content")))
            .bearer_auth(&app.key)
            .header("range", &range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {}-{}/{}", want.start, want.end - 1, mp4.len()).as_str(),
            "{range}"
        );
        assert_eq!(r.bytes().await.unwrap(), mp4[want], "{range}");
    }

    let thumb = app.content(&id, "thumbnail").await;
    assert_eq!(thumb.status(), 200);
    let bytes = thumb.bytes().await.unwrap();
    assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));
    let sheet = app.content(&id, "spritesheet").await;
    assert_eq!(sheet.status(), 200);
    assert_eq!(&sheet.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);

    let prefix = format!("videos/{id}");
    let stored = keys_under(&bucket, &prefix).await;
    for name in ["video.mp4", "thumbnail.webp", "spritesheet.jpg"] {
        assert!(
            stored.contains(&format!("{prefix}/{name}")),
            "{name} missing from {stored:?}"
        );
    }
    assert!(
        !dir.path().join("blobs").exists(),
        "nothing goes to the local blob directory"
    );

    let del: Value = app
        .delete(&format!("/videos/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(del["deleted"], true, "{del}");
    assert_eq!(keys_under(&bucket, &prefix).await, Vec::<String>::new());
    expect_error(app.content(&id, "video").await, 404, None).await;
    app.stop().await;
    bucket.delete_prefix("").await.unwrap();
}

/// A worker-enabled node (no in-process workers) whose S3 traffic goes through a relay the test
/// can cut; `None` when the S3 tests are skipped.
async fn node_behind_relay() -> Option<(TestApp, Relay, tempfile::TempDir, String)> {
    let blob_url = s3_blob_url()?;
    let endpoint = std::env::var("AWS_ENDPOINT").expect("AWS_ENDPOINT names the S3 server");
    let upstream = tokio::net::lookup_host(endpoint.trim_start_matches("http://"))
        .await
        .unwrap()
        .next()
        .unwrap();
    let relay = Relay::start(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = support::workers::settings(dir.path(), 0);
    s.blob_url = Some(blob_url.clone());
    s.s3.endpoint = Some(format!("http://{}", relay.addr));
    s.retry_backoff_seconds = 1;
    let app = TestApp::with_settings(s).await;
    Some((app, relay, dir, blob_url))
}

async fn empty_bucket(blob_url: &str) {
    BlobStore::from_url(blob_url, &S3Config::default())
        .unwrap()
        .delete_prefix("")
        .await
        .unwrap();
}

/// S3 down while a worker leases a job with a character: describing the job needs the
/// character's manifest. The worker gets 503 (and backs off) and the job goes back to the queue
/// with a backoff, not `failed`; once S3 is back the job is handed out with its inputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_outage_at_lease_hands_the_job_back() {
    let Some((app, relay, dir, blob_url)) = node_behind_relay().await else {
        return;
    };
    let cid = app.character_from_clip(dir.path(), "Pip").await;
    let id = app.remote_job_with_character(&cid, "Pip").await;
    let worker = app.register(POOL).await;

    relay.down();
    let (status, body) = app
        .wpost(
            "/lease",
            json!({"worker_id": worker["worker_id"], "models": worker["models"], "wait_seconds": 0}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
    let v = app.video(&id).await;
    assert_eq!(v["status"], "queued", "{v}");

    relay.up();
    let job = app.lease(&worker, 10).await.expect("the job comes back");
    assert_eq!(job["video_id"], id.as_str());
    assert_eq!(job["attempt"], 2, "{job}");
    assert_eq!(job["characters"][0]["name"], "Pip", "{job}");
    let first = job["characters"][0]["inputs"][0]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.input(&job, &first).await;
    assert_eq!(r.status(), 200, "{first}");
    assert!(!r.bytes().await.unwrap().is_empty());
    app.stop().await;
    empty_bucket(&blob_url).await;
}

/// S3 down when a worker calls `complete` on a good clip: the node answers 503 and records
/// nothing, so the upload and the attempt survive; once S3 is back the same `complete` stores
/// the video. (Recording a failure here would spend an attempt and throw the render away.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_outage_at_complete_keeps_the_render() {
    let Some((app, relay, dir, blob_url)) = node_behind_relay().await else {
        return;
    };
    let v = app
        .create(json!({"model": REMOTE_MODEL, "prompt": "a boat at sea", "size": "1280x720", "seconds": "4"}))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let worker = app.register(POOL).await;
    let job = app.lease(&worker, 5).await.expect("the job");
    let clip = foreign_clip(dir.path(), "1280x720", 24, 4.0);
    assert_eq!(app.upload(&job, "video.mp4", clip).await, 200);

    relay.down();
    let (status, body) = app.job_call(&job, "complete", json!({})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
    let v = app.video(&id).await;
    assert_eq!(
        (v["status"].as_str(), v["error"].is_null()),
        (Some("in_progress"), true),
        "{v}"
    );

    relay.up();
    let (status, body) = app.job_call(&job, "complete", json!({})).await;
    assert_eq!(
        (status, body["outcome"].clone()),
        (200, json!("completed")),
        "{body}"
    );
    let path = save(app.content(&id, "video").await, dir.path(), "out.mp4").await;
    let (codec, w, h, frames, _, _) = ffprobe(&path);
    assert_eq!((codec.as_str(), w, h, frames), ("h264", 1280, 720, 96));
    app.stop().await;
    empty_bucket(&blob_url).await;
}

/// S3 down when a file is deleted: the delete succeeds (the record is gone), the bytes the
/// bucket refused to drop are remembered, and the sweeper's retry removes them once S3 is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_refused_by_storage_is_retried_later() {
    let Some((app, relay, _dir, blob_url)) = node_behind_relay().await else {
        return;
    };
    let bucket = BlobStore::from_url(&blob_url, &S3Config::default()).unwrap();
    let id = support::batches::upload(&app, "{}\n".into()).await;
    let key = format!("files/{id}/content");
    assert!(bucket.head(&key).await.unwrap().is_some());

    relay.down();
    let del: Value = app
        .delete(&format!("/files/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(del["deleted"], true, "{del}");
    relay.up();
    assert!(bucket.head(&key).await.unwrap().is_some(), "S3 kept it");

    // Not due yet: the retry waits a while, so an outage is not hammered.
    let now = kinora_core::clock::now_unix();
    assert_eq!(retry_deletions(&app.state, now).await, 0);
    assert_eq!(retry_deletions(&app.state, now + 120).await, 1);
    assert!(bucket.head(&key).await.unwrap().is_none());
    let pending = app.state.store.due_blob_deletions(now + 120, 10).await;
    assert!(pending.unwrap().is_empty());
    app.stop().await;
    empty_bucket(&blob_url).await;
}
