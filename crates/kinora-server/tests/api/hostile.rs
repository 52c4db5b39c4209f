//! Hostile requests: oversized and amplifying bodies, slow and idle clients, mistyped fields,
//! and answers a client's retry logic must read right.

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(app: &TestApp) -> String {
    app.base
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string()
}

/// Reads until the server closes the connection. The bound only turns a hang into a failure.
async fn read_to_close(conn: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), conn.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&out).into_owned()
}

fn body_of(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_refused_at_once() {
    let app = TestApp::spawn(0).await;
    let mut conn = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let response = read_to_close(&mut conn).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("x-should-retry: false"),
        "{response}"
    );
    assert_eq!(body_of(&response)["error"]["code"], "payload_too_large");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_connections_are_cut_and_slow_bodies_get_a_json_408() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 0);
    s.connections.header_read_timeout_seconds = 1;
    s.request_timeout_seconds = 1;
    let app = TestApp::with_settings(s).await;

    // Headers dripped and never finished: the connection is closed.
    let mut drip = TcpStream::connect(addr(&app)).await.unwrap();
    drip.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    read_to_close(&mut drip).await;

    // A finished request, then silence: the idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(addr(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = read_to_close(&mut idle).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");

    // A body that stops arriving: the request times out with the error envelope.
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"prompt\":"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let response = read_to_close(&mut slow).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    let body = body_of(&response);
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_amplification_is_refused_with_bounded_memory() {
    let app = TestApp::spawn(0).await;
    let peak = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = peak();
    // 30 MB: 15 million array elements in an unknown field.
    let mut body = String::with_capacity(30_000_100);
    body.push_str(r#"{"prompt":"a cat","junk":["#);
    while body.len() < 30_000_000 {
        body.push_str("0,");
    }
    body.push_str("0]}");
    let r = app
        .client
        .post(app.url("/videos"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let e = expect_error(r, 400, Some("body")).await;
    assert_eq!(e["code"], "json_too_large");
    let grown_mb = peak().saturating_sub(before) / 1024;
    eprintln!("peak memory grew by {grown_mb} MB for a 30 MB JSON body");
    assert!(grown_mb < 400, "peak memory grew by {grown_mb} MB");
    // Past the JSON limit (32 MiB) the body is refused from its declared length, before any of
    // it is read. Sent as headers alone: a client still writing the body when the 413 and the
    // close come would see a broken pipe instead of the answer.
    let mut conn = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        33 * 1024 * 1024
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let response = read_to_close(&mut conn).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistyped_and_unknown_fields_are_400s_naming_the_param() {
    let app = TestApp::spawn(0).await;
    for (body, param, code) in [
        (
            json!({"prompt": "a cat", "model": [1, 2]}),
            "model",
            "invalid_type",
        ),
        (
            json!({"prompt": "a cat", "size": ["1280x720"]}),
            "size",
            "invalid_type",
        ),
        (
            json!({"prompt": "a cat", "seconds": ["8"]}),
            "seconds",
            "invalid_type",
        ),
        (
            json!({"prompt": "a cat", "sizee": "1280x720"}),
            "sizee",
            "unknown_parameter",
        ),
        (
            json!({"prompt": "a cat", "input_reference": {}}),
            "input_reference",
            "invalid_type",
        ),
        // Text fields are text: a number is not silently turned into a prompt.
        (json!({"prompt": 5}), "prompt", "invalid_type"),
        (
            json!({"prompt": "a cat", "characters": [{"name": "Mia"}]}),
            "characters",
            "invalid_type",
        ),
    ] {
        let e = expect_error(
            app.post_json("/videos", body.clone()).await,
            400,
            Some(param),
        )
        .await;
        assert_eq!(e["code"], code, "{body}");
    }
    // `null` is an optional field left out, never a wrong type.
    let nulls = json!({"prompt": "a cat", "model": null, "size": null, "seconds": null,
        "input_reference": null, "characters": null, "seed": null});
    let r = app.post_json("/videos", nulls).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Multipart reads into the same typed request: a file where text belongs, or text where
    // an object belongs, is refused by name too.
    for (form, param, code) in [
        (
            text_form(&[("prompt", "a cat")]).part(
                "model",
                file_part(vec![0; 16], "model.bin", "application/octet-stream"),
            ),
            "model",
            "invalid_type",
        ),
        (
            text_form(&[("prompt", "a cat"), ("characters", "char_1")]),
            "characters",
            "invalid_type",
        ),
        (
            text_form(&[("prompt", "a cat"), ("input_reference[url]", "x")]),
            "input_reference",
            "invalid_type",
        ),
        (
            text_form(&[("prompt", "a cat"), ("sizee", "1280x720")]),
            "sizee",
            "unknown_parameter",
        ),
    ] {
        let e = expect_error(app.post_form("/videos", form).await, 400, Some(param)).await;
        assert_eq!(e["code"], code, "{param}");
    }
    // Multipart: files only where the operation takes one, and few of them.
    let mut form = text_form(&[("prompt", "a cat")]);
    for i in 0..50 {
        form = form.part(
            format!("f{i}"),
            file_part(vec![0; 16], "x.bin", "application/octet-stream"),
        );
    }
    let e = expect_error(app.post_form("/videos", form).await, 400, None).await;
    assert_eq!(e["code"], "too_many_files");
    let leftovers = std::fs::read_dir(app.data.join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "refused uploads leave no temp files");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_is_an_envelope_and_empty_values_are_400s() {
    let app = TestApp::spawn(0).await;
    let r = app.get("/videos?order=asc&order=desc").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    expect_error(r, 400, Some("order")).await;
    for (path, param) in [
        ("/videos?order=", "order"),
        ("/videos?limit=", "limit"),
        ("/videos?after=", "after"),
        ("/videos/video_x/content?variant=", "variant"),
    ] {
        expect_error(app.get(path).await, 400, Some(param)).await;
    }
    // OpenAI's bounds for files: 1-10,000.
    assert_eq!(app.get("/files?limit=1000").await.status(), 200);
    expect_error(app.get("/files?limit=0").await, 400, Some("limit")).await;
    let r = app
        .client
        .put(app.url("/videos"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let e = expect_error(r, 405, None).await;
    assert_eq!(e["code"], "method_not_allowed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_of_deleted_videos_are_free_and_reuse_is_not_retried() {
    let app = TestApp::spawn(0).await;
    let post = |body: Value| {
        app.client
            .post(app.url("/videos"))
            .bearer_auth(KEY)
            .header("idempotency-key", "k-1")
            .json(&body)
            .send()
    };
    let first: Value = post(json!({"prompt": "a tram"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reused = post(json!({"prompt": "a bus"})).await.unwrap();
    assert_eq!(reused.headers()["x-should-retry"], "false");
    let e = expect_error(reused, 409, None).await;
    assert_eq!(e["code"], "idempotency_key_reused");

    let id = first["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/videos/{id}")).await.status(), 200);
    let again = post(json!({"prompt": "a tram"})).await.unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.headers().get("idempotent-replayed").is_none());
    let v: Value = again.json().await.unwrap();
    assert_ne!(v["id"], first["id"]);
    assert_eq!(
        app.get(&format!("/videos/{}", v["id"].as_str().unwrap()))
            .await
            .status(),
        200
    );
    app.stop().await;
}

/// Every operation that takes a body refuses what it does not take by name, as `POST /v1/videos`
/// does: an unknown top-level field is `unknown_parameter`, a known one of the wrong JSON type is
/// `invalid_type`, both naming the field in `param`, before anything is looked up or stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_names_unknown_and_mistyped_fields() {
    let app = TestApp::spawn(0).await;
    let hook = json!({"name": "ops", "url": "https://example.com/hook", "event_types": ["video.completed"]});
    let ep: Value = app
        .post_json("/webhook_endpoints", hook.clone())
        .await
        .json()
        .await
        .unwrap();
    let ep = format!("/webhook_endpoints/{}", ep["id"].as_str().unwrap());
    let video = json!({"id": "video_0123456789abcdef"});
    let batch =
        json!({"input_file_id": "file_x", "endpoint": "/v1/videos", "completion_window": "24h"});
    let with = |base: &Value, key: &str, value: Value| {
        let mut b = base.clone();
        b[key] = value;
        b
    };
    let cases: Vec<(String, Value, &str, &str)> = vec![
        (
            "/videos/extensions".into(),
            json!({"prompt": "on", "seconds": "4", "video": video, "size": "1280x720"}),
            "size",
            "unknown_parameter",
        ),
        (
            "/videos/extensions".into(),
            json!({"prompt": "on", "seconds": ["4"], "video": video}),
            "seconds",
            "invalid_type",
        ),
        (
            "/videos/extensions".into(),
            json!({"prompt": "on", "seconds": "4", "video": "video_0123456789abcdef"}),
            "video",
            "invalid_type",
        ),
        (
            "/videos/edits".into(),
            json!({"prompt": "night", "video": video, "seconds": "4"}),
            "seconds",
            "unknown_parameter",
        ),
        (
            "/videos/edits".into(),
            json!({"prompt": "night", "video": video, "model": {"id": "sora-2"}}),
            "model",
            "invalid_type",
        ),
        (
            "/videos/edits".into(),
            json!({"prompt": {"text": "night"}, "video": video}),
            "prompt",
            "invalid_type",
        ),
        (
            "/videos/video_0123456789abcdef/remix".into(),
            json!({"prompt": "again", "seed": 3}),
            "seed",
            "unknown_parameter",
        ),
        (
            "/videos/video_0123456789abcdef/remix".into(),
            json!({"prompt": ["again"]}),
            "prompt",
            "invalid_type",
        ),
        (
            "/batches".into(),
            with(&batch, "priority", json!("high")),
            "priority",
            "unknown_parameter",
        ),
        (
            "/batches".into(),
            with(&batch, "input_file_id", json!(5)),
            "input_file_id",
            "invalid_type",
        ),
        (
            "/batches".into(),
            with(&batch, "metadata", json!(["a"])),
            "metadata",
            "invalid_type",
        ),
        (
            "/webhook_endpoints".into(),
            with(&hook, "secret", json!("whsec_x")),
            "secret",
            "unknown_parameter",
        ),
        (
            "/webhook_endpoints".into(),
            with(&hook, "name", json!(5)),
            "name",
            "invalid_type",
        ),
        (
            "/webhook_endpoints".into(),
            with(&hook, "event_types", json!("video.completed")),
            "event_types",
            "invalid_type",
        ),
        (
            ep.clone(),
            json!({"nmae": "ops-2"}),
            "nmae",
            "unknown_parameter",
        ),
        (
            ep.clone(),
            json!({"url": ["https://example.com/2"]}),
            "url",
            "invalid_type",
        ),
        (
            format!("{ep}/rotate_secret"),
            json!({"keep": true}),
            "keep",
            "unknown_parameter",
        ),
        (
            format!("{ep}/rotate_secret"),
            json!({"keep_old_secret_active_for_24_hours": "yes"}),
            "keep_old_secret_active_for_24_hours",
            "invalid_type",
        ),
        (
            format!("{ep}/test"),
            json!({"event_type": "video.completed", "delay": 1}),
            "delay",
            "unknown_parameter",
        ),
        (
            format!("{ep}/test"),
            json!({"event_type": 1}),
            "event_type",
            "invalid_type",
        ),
    ];
    for (path, body, param, code) in cases {
        let e = expect_error(app.post_json(&path, body.clone()).await, 400, Some(param)).await;
        assert_eq!(e["code"], code, "POST {path} {body}");
    }
    // PATCH reads the body as the POST form of update does.
    let r = app
        .client
        .patch(app.url(&ep))
        .bearer_auth(KEY)
        .json(&json!({"event_type": ["video.completed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(r, 400, Some("event_type")).await["code"],
        "unknown_parameter"
    );

    // The multipart-only operations.
    let clip = || file_part(vec![0; 64], "clip.mp4", "video/mp4");
    let form = text_form(&[("name", "Mossy"), ("colour", "green")]).part("video", clip());
    let e = expect_error(
        app.post_form("/videos/characters", form).await,
        400,
        Some("colour"),
    )
    .await;
    assert_eq!(e["code"], "unknown_parameter");
    let form = text_form(&[("name", "Mossy"), ("video", "char_x")]);
    let e = expect_error(
        app.post_form("/videos/characters", form).await,
        400,
        Some("video"),
    )
    .await;
    assert_eq!(e["code"], "invalid_type");
    let notes = || file_part(b"{}\n".to_vec(), "n.jsonl", "application/jsonl");
    let form = text_form(&[("purpose", "batch"), ("purpse", "batch")]).part("file", notes());
    let e = expect_error(app.post_form("/files", form).await, 400, Some("purpse")).await;
    assert_eq!(e["code"], "unknown_parameter");
    let form =
        text_form(&[("purpose", "batch"), ("expires_after[days]", "2")]).part("file", notes());
    let e = expect_error(
        app.post_form("/files", form).await,
        400,
        Some("expires_after"),
    )
    .await;
    assert_eq!(e["code"], "invalid_type");

    // Kinora extensions the SDK suite sends through `extra_body` stay accepted: an edit of an
    // uploaded video names its model, and every derived video may carry a seed.
    for (path, body) in [
        (
            "/videos/edits",
            json!({"prompt": "night", "video": video, "model": "sora-2", "seed": 4}),
        ),
        (
            "/videos/extensions",
            json!({"prompt": "on", "seconds": "4", "video": video, "model": "sora-2", "seed": 4}),
        ),
    ] {
        let e = expect_error(app.post_json(path, body).await, 400, Some("video")).await;
        assert_eq!(e["code"], "video_not_found", "{path}");
    }
    assert_eq!(
        app.post_json(&format!("{ep}/rotate_secret"), json!({}))
            .await
            .status(),
        200
    );
    app.stop().await;
}
