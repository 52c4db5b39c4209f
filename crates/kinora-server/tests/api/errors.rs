//! Every way a request can be wrong gets an OpenAI error envelope with the right status and param.

use crate::support;

use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_validation() {
    let app = TestApp::spawn(0).await;
    let cases = [
        (json!({}), "prompt"),
        (json!({"prompt": "   "}), "prompt"),
        (json!({"prompt": "x".repeat(32_001)}), "prompt"),
        (json!({"prompt": "p", "size": "1000x1000"}), "size"),
        (json!({"prompt": "p", "size": "big"}), "size"),
        (json!({"prompt": "p", "size": "1920x1080"}), "size"),
        (
            json!({"prompt": "p", "model": "sora-2-pro", "size": "640x480"}),
            "size",
        ),
        (json!({"prompt": "p", "seconds": "5"}), "seconds"),
        (json!({"prompt": "p", "seconds": "121"}), "seconds"),
        (json!({"prompt": "p", "model": "gpt-video"}), "model"),
        (json!({"prompt": "p", "seed": "-1"}), "seed"),
        (
            json!({"prompt": "p", "characters": [{"id": "char_a"}, {"id": "char_b"}, {"id": "char_c"}]}),
            "characters",
        ),
        (
            json!({"prompt": "p", "characters": [{"id": "char_missing"}]}),
            "characters",
        ),
        (
            json!({"prompt": "p", "characters": ["char_a"]}),
            "characters",
        ),
        (
            json!({"prompt": "p", "input_reference": {"file_id": "file-abc"}}),
            "input_reference",
        ),
        (
            json!({"prompt": "p", "input_reference": {"image_url": "data:image/png;base64,notbase64!!"}}),
            "input_reference",
        ),
        (
            json!({"prompt": "p", "input_reference": {"image_url": "ftp://example.com/a.png"}}),
            "input_reference",
        ),
        (
            json!({"prompt": "p", "input_reference": {"image_url": "http://127.0.0.1:9/a.png"}}),
            "input_reference",
        ),
    ];
    for (body, param) in cases {
        let e = expect_error(
            app.post_json("/videos", body.clone()).await,
            400,
            Some(param),
        )
        .await;
        assert_eq!(e["type"], "invalid_request_error", "{body}");
        assert!(e["code"].is_string(), "{body}");
    }
    let e = expect_error(
        app.post_json("/videos", json!({"prompt": "p", "size": "1920x1080"}))
            .await,
        400,
        Some("size"),
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("sora-2-pro"), "{e}");
    // Malformed bodies.
    let r = app
        .client
        .post(app.url("/videos"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, Some("body")).await;
    let r = app
        .client
        .post(app.url("/videos"))
        .bearer_auth(KEY)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    expect_error(r, 415, None).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_reference_of_another_size_is_fitted_unless_strict() {
    let mut png = Vec::new();
    image::RgbImage::from_pixel(64, 64, image::Rgb([200, 10, 10]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // By default an image of another size is scaled to cover and centre-cropped.
    let app = TestApp::spawn(0).await;
    let form = text_form(&[("prompt", "p"), ("size", "1280x720")]).part(
        "input_reference",
        file_part(png.clone(), "a.png", "image/png"),
    );
    let r = app.post_form("/videos", form).await;
    assert_eq!(r.status(), 200);
    app.stop().await;

    // `strict_reference_size = true` asks for OpenAI's 400.
    let dir = tempfile::tempdir().unwrap();
    let mut s = support::settings(dir.path(), 0);
    s.strict_reference_size = true;
    let app = TestApp::with_settings(s).await;
    let form = text_form(&[("prompt", "p"), ("size", "1280x720")])
        .part("input_reference", file_part(png, "a.png", "image/png"));
    let e = expect_error(
        app.post_form("/videos", form).await,
        400,
        Some("input_reference"),
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("1280x720"));
    let form = text_form(&[("prompt", "p")]).part(
        "input_reference",
        file_part(b"not an image".to_vec(), "a.png", "image/png"),
    );
    expect_error(
        app.post_form("/videos", form).await,
        400,
        Some("input_reference"),
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_video_validation() {
    let app = TestApp::spawn(0).await;
    let queued = app.create(json!({"prompt": "a boat"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        (
            "/videos/extensions",
            json!({"prompt": "more", "seconds": "4"}),
            "video",
        ),
        (
            "/videos/extensions",
            json!({"prompt": "more", "video": {"id": queued}}),
            "seconds",
        ),
        (
            "/videos/extensions",
            json!({"prompt": "more", "seconds": "4", "video": {"id": queued}}),
            "video",
        ),
        (
            "/videos/extensions",
            json!({"prompt": "more", "seconds": "4", "video": {"id": "video_nope"}}),
            "video",
        ),
        (
            "/videos/extensions",
            json!({"prompt": "more", "seconds": "4", "video": {"id": queued}, "characters": [{"id": "char_1"}]}),
            "characters",
        ),
        (
            "/videos/extensions",
            json!({"prompt": "more", "seconds": "4", "video": {"id": queued}, "input_reference": {"file_id": "file-1"}}),
            "input_reference",
        ),
        ("/videos/edits", json!({"prompt": "make it night"}), "video"),
        ("/videos/edits", json!({"video": {"id": queued}}), "prompt"),
        (
            "/videos/edits",
            json!({"prompt": "night", "video": {"id": queued}}),
            "video",
        ),
    ];
    for (path, body, param) in cases {
        let e = expect_error(app.post_json(path, body.clone()).await, 400, Some(param)).await;
        assert!(e["code"].is_string(), "{path} {body}");
    }
    expect_error(
        app.post_json(&format!("/videos/{queued}/remix"), json!({"prompt": "p"}))
            .await,
        400,
        Some("video_id"),
    )
    .await;
    expect_error(
        app.post_json("/videos/video_nope/remix", json!({"prompt": "p"}))
            .await,
        404,
        None,
    )
    .await;
    // An uploaded source that is not an MP4.
    let form = text_form(&[("prompt", "night"), ("model", "sora-2")]).part(
        "video",
        file_part(b"garbage".to_vec(), "x.mp4", "video/mp4"),
    );
    expect_error(
        app.post_form("/videos/edits", form).await,
        400,
        Some("video"),
    )
    .await;
    // Characters need multipart, a name and a clip.
    expect_error(
        app.post_json("/videos/characters", json!({"name": "Mossy"}))
            .await,
        400,
        Some("video"),
    )
    .await;
    expect_error(
        app.post_form("/videos/characters", text_form(&[("name", "Mossy")]))
            .await,
        400,
        Some("video"),
    )
    .await;
    let form =
        text_form(&[("name", "")]).part("video", file_part(b"x".to_vec(), "c.mp4", "video/mp4"));
    expect_error(
        app.post_form("/videos/characters", form).await,
        400,
        Some("name"),
    )
    .await;
    let form = text_form(&[("name", "Mossy")]).part(
        "video",
        file_part(b"not a video".to_vec(), "c.mp4", "video/mp4"),
    );
    expect_error(
        app.post_form("/videos/characters", form).await,
        400,
        Some("video"),
    )
    .await;
    expect_error(
        app.get("/videos/characters/char_nope").await,
        404,
        Some("character_id"),
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_and_unknown_videos() {
    let app = TestApp::spawn(0).await;
    let id = app.create(json!({"prompt": "a tram"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = expect_error(app.content(&id, "video").await, 400, Some("video_id")).await;
    assert_eq!(e["code"], "video_not_ready");
    expect_error(app.content(&id, "poster").await, 400, Some("variant")).await;
    expect_error(app.get("/videos/video_0000").await, 404, Some("video_id")).await;
    expect_error(app.get("/videos/../../etc/passwd").await, 404, None).await;
    expect_error(app.delete("/videos/video_0000").await, 404, None).await;
    let unknown = app
        .client
        .get(app.root_url("/v1/nothing"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    expect_error(unknown, 404, None).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let app = TestApp::spawn(0).await;
    let r = app
        .client
        .get(app.root_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(app.root_url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.create(json!({"prompt": "a kite"})).await;
    let r = app.get("/videos").await;
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(rid.starts_with("req_"), "{rid}");
    let r = app
        .client
        .get(app.url("/videos"))
        .bearer_auth(KEY)
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-123");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("kinora_videos{status=\"queued\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("kinora_http_request_seconds"), "{metrics}");
    let models: Value = app.get("/models").await.json().await.unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"sora-2") && ids.contains(&"sora-2-pro"));
    let pro: Value = app.get("/models/sora-2-pro").await.json().await.unwrap();
    assert!(
        pro["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "1920x1080")
    );
    assert_eq!(pro["pricing"][2]["usd_per_second"], 0.7);
    app.stop().await;
}
