//! The Batch API: a batch's whole life with good and bad lines, file-level failures, cancel,
//! expiry, scheduling behind interactive jobs, and a restart mid-batch.

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use support::batches::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_and_bad_lines_complete() {
    let app = TestApp::spawn(1).await;
    let b = create_batch(
        &app,
        &[
            line("shot-1", shot("a red car on a coastal road at sunset")),
            line(
                "shot-2",
                json!({"model": "sora-2", "prompt": "p", "size": "999x999"}),
            ),
            line("shot-3", shot("a cat on a sofa, rain outside")),
        ],
    )
    .await;
    assert_eq!(b["object"], "batch");
    assert_eq!(b["status"], "validating");
    assert_eq!(b["endpoint"], "/v1/videos");
    assert_eq!(b["metadata"]["project"], "trailer");
    let id = b["id"].as_str().unwrap();
    let done = wait_batch(&app, id, &["completed", "failed"]).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 2, "failed": 1})
    );
    for k in ["in_progress_at", "finalizing_at", "completed_at"] {
        assert!(done[k].as_i64().is_some(), "{k} missing: {done}");
    }
    let out = jsonl(&app, &done["output_file_id"]).await;
    assert_eq!(out.len(), 2);
    for l in &out {
        assert_eq!(l["response"]["status_code"], 200);
        let video = &l["response"]["body"];
        assert_eq!(video["status"], "completed");
        // Batch jobs cost the catalogue's batch price: half of standard.
        assert!(
            (video["usage"]["cost_usd"].as_f64().unwrap() - 0.2).abs() < 1e-9,
            "{video}"
        );
        let r = app.content(video["id"].as_str().unwrap(), "video").await;
        assert_eq!(r.status(), 200);
    }
    let errs = jsonl(&app, &done["error_file_id"]).await;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["custom_id"], "shot-2");
    assert_eq!(errs[0]["response"]["status_code"], 400);
    assert_eq!(errs[0]["response"]["body"]["error"]["param"], "size");
    let f: Value = app
        .get(&format!(
            "/files/{}",
            done["output_file_id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["purpose"], "batch_output");

    let list: Value = app.get("/batches?limit=1").await.json().await.unwrap();
    assert_eq!(list["data"][0]["id"], id);
    let other = app
        .client
        .get(app.url(&format!("/batches/{id}")))
        .bearer_auth(OTHER_KEY)
        .send()
        .await
        .unwrap();
    expect_error(other, 404, Some("batch_id")).await;
    let r = app
        .post_json(&format!("/batches/{id}/cancel"), json!({}))
        .await;
    expect_error(r, 409, None).await;
    app.stop().await;
}

#[tokio::test]
async fn file_level_problems_fail_the_batch() {
    let app = TestApp::spawn(0).await;
    let good = line("a", shot("a dog"));
    let cases: Vec<(Vec<String>, &str, Option<u64>)> = vec![
        (vec![good.clone(), "{not json".into()], "invalid_json_line", Some(2)),
        (vec![good.clone(), good.clone()], "duplicate_custom_id", Some(2)),
        (
            vec![good.clone(), json!({"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": {}}).to_string()],
            "mismatched_endpoint",
            Some(2),
        ),
        (
            vec![json!({"method": "POST", "url": "/v1/videos", "body": {}}).to_string()],
            "invalid_custom_id",
            Some(1),
        ),
        (vec![String::new()], "empty_file", None),
    ];
    for (lines, code, line_no) in cases {
        let b = create_batch(&app, &lines).await;
        let done = wait_batch(&app, b["id"].as_str().unwrap(), &["failed", "in_progress"]).await;
        assert_eq!(done["status"], "failed", "{code}: {done}");
        let e = &done["errors"]["data"][0];
        assert_eq!(e["code"], code, "{done}");
        assert_eq!(e["line"].as_u64(), line_no, "{done}");
        assert!(done["failed_at"].as_i64().is_some());
        assert_eq!(done["request_counts"]["total"], 0);
    }
    // A file record whose content is gone (lost from the blob store) fails the batch rather
    // than leaving it validating for ever.
    let file = upload(&app, good.clone()).await;
    std::fs::remove_dir_all(app.data.join(format!("blobs/files/{file}"))).unwrap();
    let b = app
        .create_at(
            "/batches",
            json!({"input_file_id": file, "endpoint": "/v1/videos", "completion_window": "24h"}),
        )
        .await;
    let done = wait_batch(&app, b["id"].as_str().unwrap(), &["failed", "in_progress"]).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(
        done["errors"]["data"][0]["code"], "file_not_found",
        "{done}"
    );
    // Nothing of a failed batch was enqueued.
    let videos: Value = app.get("/videos").await.json().await.unwrap();
    assert_eq!(videos["data"].as_array().unwrap().len(), 0);

    let file = upload(&app, good.clone()).await;
    for (body, param) in [
        (
            json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
            "endpoint",
        ),
        (
            json!({"input_file_id": file, "endpoint": "/v1/videos", "completion_window": "48h"}),
            "completion_window",
        ),
        (
            json!({"input_file_id": "file-nope", "endpoint": "/v1/videos", "completion_window": "24h"}),
            "input_file_id",
        ),
        (
            json!({"endpoint": "/v1/videos", "completion_window": "24h"}),
            "input_file_id",
        ),
        (
            json!({"input_file_id": file, "endpoint": "/v1/videos", "completion_window": "24h", "metadata": {"k": 1}}),
            "metadata",
        ),
        (
            json!({"input_file_id": file, "endpoint": "/v1/videos", "completion_window": "24h",
                "output_expires_after": {"anchor": "created_at", "seconds": 5}}),
            "output_expires_after",
        ),
    ] {
        expect_error(app.post_json("/batches", body).await, 400, Some(param)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn too_many_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 0);
    s.batches.max_requests = 3;
    let app = TestApp::with_settings(s).await;
    let lines: Vec<String> = (0..4)
        .map(|i| line(&format!("c{i}"), shot("a tree")))
        .collect();
    let b = create_batch(&app, &lines).await;
    let done = wait_batch(&app, b["id"].as_str().unwrap(), &["failed", "in_progress"]).await;
    assert_eq!(
        done["errors"]["data"][0]["code"], "too_many_requests",
        "{done}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_line_limit_is_50000() {
    let app = TestApp::spawn(0).await;
    let tiny = line("x", json!({"prompt": "p"}));
    let lines: Vec<String> = (0..50_001)
        .map(|i| tiny.replacen("\"x\"", &format!("\"x{i}\""), 1))
        .collect();
    let b = create_batch(&app, &lines).await;
    let done = wait_batch(&app, b["id"].as_str().unwrap(), &["failed", "in_progress"]).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["errors"]["data"][0]["code"], "too_many_requests",
        "{done}"
    );
    app.stop().await;
}

#[tokio::test]
async fn interactive_jobs_go_first_and_cancel_ends_the_batch() {
    let app = TestApp::spawn(0).await;
    // A big batch: an interactive job submitted after it is still next in line.
    let lines: Vec<String> = (0..2000)
        .map(|i| line(&format!("c{i}"), shot("a boat")))
        .collect();
    let b = create_batch(&app, &lines).await;
    let id = b["id"].as_str().unwrap();
    let running = wait_batch(&app, id, &["in_progress"]).await;
    assert_eq!(running["request_counts"]["total"], 2000);
    let v = app.create(json!({"prompt": "a plane over the sea"})).await;
    assert_eq!(v["queue_position"], 1, "{v}");

    let c: Value = app
        .post_json(&format!("/batches/{id}/cancel"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        c["status"] == "cancelling" || c["status"] == "cancelled",
        "{c}"
    );
    let done = wait_batch(&app, id, &["cancelled"]).await;
    assert!(done["cancelling_at"].as_i64().is_some() && done["cancelled_at"].as_i64().is_some());
    assert_eq!(
        done["request_counts"],
        json!({"total": 2000, "completed": 0, "failed": 2000})
    );
    let errs = jsonl(&app, &done["error_file_id"]).await;
    assert_eq!(errs.len(), 2000);
    assert!(
        errs.iter().all(|e| e["error"]["code"] == "cancelled"),
        "{errs:?}"
    );
    // Cancelling again is harmless.
    let again = app
        .post_json(&format!("/batches/{id}/cancel"), json!({}))
        .await;
    assert_eq!(again.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_job() {
    let app = TestApp::spawn(1).await;
    let long = json!({"model": "sora-2", "prompt": "a long pan over mountains", "size": "1280x720", "seconds": "20"});
    let b = create_batch(&app, &[line("a", long.clone()), line("b", long)]).await;
    let id = b["id"].as_str().unwrap();
    wait_batch(&app, id, &["in_progress"]).await;
    // Wait until the worker holds the first job.
    let video_id = loop {
        let list: Value = app.get("/videos?limit=10").await.json().await.unwrap();
        if let Some(v) = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["status"] == "in_progress")
        {
            break v["id"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let r = app
        .post_json(&format!("/batches/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let done = wait_batch(&app, id, &["cancelled"]).await;
    let stopped = app.wait(&video_id).await;
    assert_eq!(stopped["status"], "failed");
    assert_eq!(stopped["error"]["code"], "cancelled");
    assert_eq!(
        done["request_counts"],
        json!({"total": 2, "completed": 0, "failed": 2})
    );
    app.stop().await;
}

#[tokio::test]
async fn window_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 0);
    s.batches.completion_window_seconds = 1;
    let app = TestApp::with_settings(s).await;
    let b = create_batch(
        &app,
        &[line("x", shot("a horse")), line("y", shot("a kite"))],
    )
    .await;
    let done = wait_batch(&app, b["id"].as_str().unwrap(), &["expired"]).await;
    assert!(done["expired_at"].as_i64().is_some());
    let errs = jsonl(&app, &done["error_file_id"]).await;
    assert_eq!(errs.len(), 2);
    assert!(
        errs.iter().all(|e| e["error"]["code"] == "batch_expired"),
        "{errs:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_batch_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::with_settings(settings(dir.path(), 0)).await;
    let lines: Vec<String> = (0..3)
        .map(|i| line(&format!("r{i}"), shot("a train")))
        .collect();
    let b = create_batch(&app, &lines).await;
    let id = b["id"].as_str().unwrap().to_string();
    wait_batch(&app, &id, &["in_progress"]).await;
    app.stop().await;

    let app = TestApp::with_settings(settings(dir.path(), 1)).await;
    let done = wait_batch(&app, &id, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 3, "failed": 0})
    );
    let out = jsonl(&app, &done["output_file_id"]).await;
    let mut ids: Vec<&str> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["r0", "r1", "r2"]);
    let videos: Value = app.get("/videos?limit=100").await.json().await.unwrap();
    assert_eq!(
        videos["data"].as_array().unwrap().len(),
        3,
        "each line ran exactly once"
    );
    app.stop().await;
}
