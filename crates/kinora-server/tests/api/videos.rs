//! Black-box tests of the video lifecycle: create (JSON and multipart), retrieve, list, content,
//! delete, on a real server with the built-in engine.

use crate::support;

use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_render_download_delete() {
    let app = TestApp::spawn(1).await;
    let v = app
        .create(json!({"prompt": "a red fox runs across a snowy meadow at dusk", "size": "1280x720", "seconds": "4", "seed": 7}))
        .await;
    assert_eq!(v["object"], "video");
    assert!(v["status"] == "queued" || v["status"] == "in_progress");
    for k in [
        "id",
        "object",
        "model",
        "status",
        "progress",
        "created_at",
        "completed_at",
        "expires_at",
        "prompt",
        "size",
        "seconds",
        "remixed_from_video_id",
        "error",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["model"], "sora-2");
    assert_eq!(v["seconds"], "4");
    let id = v["id"].as_str().unwrap().to_string();
    let done = app.wait(&id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);
    assert!(done["completed_at"].as_i64().unwrap() >= done["created_at"].as_i64().unwrap());
    assert!(done["expires_at"].as_i64().unwrap() > done["completed_at"].as_i64().unwrap());
    assert_eq!(done["usage"]["seconds"], 4);
    assert_eq!(done["usage"]["cost_usd"], 0.4);
    assert!(done["queue_position"].is_null());

    let dir = tempfile::tempdir().unwrap();
    let mp4 = save(app.content(&id, "video").await, dir.path(), "v.mp4").await;
    let (codec, w, h, frames, duration, audio) = ffprobe(&mp4);
    assert_eq!((codec.as_str(), w, h, frames), ("h264", 1280, 720, 96));
    assert!((duration - 4.0).abs() < 0.1, "{duration}");
    assert!(audio);
    assert_eq!(decode_errors(&mp4), "");
    let thumb = app.content(&id, "thumbnail").await;
    assert_eq!(thumb.headers()["content-type"], "image/webp");
    let bytes = thumb.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WEBP");
    let sheet = app.content(&id, "spritesheet").await;
    assert_eq!(sheet.headers()["content-type"], "image/jpeg");
    assert_eq!(&sheet.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);

    let del: Value = app
        .delete(&format!("/videos/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        del,
        json!({"id": id, "object": "video.deleted", "deleted": true})
    );
    expect_error(
        app.get(&format!("/videos/{id}")).await,
        404,
        Some("video_id"),
    )
    .await;
    expect_error(app.content(&id, "video").await, 404, None).await;
    assert!(
        !app.data.join("blobs/videos").join(&id).exists(),
        "media must be removed"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_create_as_the_sdk_sends_it() {
    let app = TestApp::spawn(0).await;
    let r = app
        .post_form(
            "/videos",
            text_form(&[
                ("prompt", "a lighthouse on a cliff"),
                ("model", "sora-2-pro"),
                ("seconds", "20"),
                ("size", "1920x1080"),
            ]),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["size"], "1920x1080");
    assert_eq!(v["seconds"], "20");
    assert_eq!(v["model"], "sora-2-pro");
    assert_eq!(v["queue_position"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_with_exact_cursors() {
    let app = TestApp::spawn(0).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create(json!({"prompt": format!("shot {i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let page: Value = app.get("/videos?limit=2").await.json().await.unwrap();
    assert_eq!(page["object"], "list");
    assert_eq!(page["has_more"], true);
    assert_eq!(page["first_id"], ids[4].as_str());
    assert_eq!(page["last_id"], ids[3].as_str());
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let page: Value = app
            .get(&format!("/videos?limit=2{q}"))
            .await
            .json()
            .await
            .unwrap();
        for v in page["data"].as_array().unwrap() {
            seen.push(v["id"].as_str().unwrap().to_string());
        }
        if page["has_more"] == false {
            break;
        }
        after = page["last_id"].as_str().map(str::to_string);
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let asc: Value = app
        .get("/videos?order=asc&limit=100")
        .await
        .json()
        .await
        .unwrap();
    let asc_ids: Vec<&str> = asc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(asc_ids, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(asc["has_more"], false);
    // Queue positions follow submission order.
    assert_eq!(asc["data"][0]["queue_position"], 1);
    assert_eq!(asc["data"][4]["queue_position"], 5);
    let empty: Value = app.get("/videos?limit=0").await.json().await.unwrap();
    assert_eq!(empty["data"].as_array().unwrap().len(), 0);
    assert_eq!(empty["has_more"], true);
    expect_error(app.get("/videos?limit=101").await, 400, Some("limit")).await;
    expect_error(app.get("/videos?order=up").await, 400, Some("order")).await;
    expect_error(
        app.get("/videos?after=video_doesnotexist").await,
        400,
        Some("after"),
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_are_isolated_and_keys_required() {
    let app = TestApp::spawn(0).await;
    let id = app.create(json!({"prompt": "a quiet harbour"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = reqwest::Client::new()
        .get(app.url(&format!("/videos/{id}")))
        .bearer_auth(OTHER_KEY)
        .send()
        .await
        .unwrap();
    expect_error(other, 404, None).await;
    let listed: Value = reqwest::Client::new()
        .get(app.url("/videos"))
        .bearer_auth(OTHER_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
    let none = reqwest::Client::new()
        .get(app.url("/videos"))
        .send()
        .await
        .unwrap();
    let e = expect_error(none, 401, None).await;
    assert_eq!(e["code"], "invalid_api_key");
    let wrong = reqwest::Client::new()
        .get(app.url("/videos"))
        .bearer_auth("sk-nope")
        .send()
        .await
        .unwrap();
    expect_error(wrong, 401, None).await;
    app.stop().await;
}
