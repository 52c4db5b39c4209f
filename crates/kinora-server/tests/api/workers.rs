//! The worker protocol (`/internal/v1`), driven by hand and by the built-in remote worker:
//! authentication, routing, long-poll leases, fencing, validation of returned clips,
//! normalisation of foreign clips, cancellation.

use crate::support;

use serde_json::{Value, json};
use support::workers::{POOL, REMOTE_MODEL, TOKEN, foreign_clip, spawn, tone_wav};
use support::{KEY, TestApp, expect_error, ffprobe, save};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn tokens_are_not_api_keys_and_pools_are_checked() {
    let (app, _dir) = spawn(0).await;
    let register = json!({"name": "w", "pool": "builtin"});
    let r = app
        .client
        .post(app.internal("/workers/register"))
        .bearer_auth(KEY)
        .json(&register)
        .send()
        .await
        .unwrap();
    expect_error(r, 401, None).await;
    let r = app
        .client
        .get(app.url("/videos"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    expect_error(r, 401, None).await;

    let builtin = app.register("builtin").await;
    let models: Vec<&str> = builtin["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(models.contains(&"sora-2") && !models.contains(&REMOTE_MODEL));
    assert!(builtin["worker_id"].as_str().unwrap().starts_with("wkr_"));
    let gpu = app.register(POOL).await;
    assert_eq!(gpu["models"], json!([REMOTE_MODEL]));

    let (s, v) = app
        .wpost("/workers/register", json!({"name": "w", "pool": "nope"}))
        .await;
    assert_eq!((s, v["error"]["param"].clone()), (400, json!("pool")));
    let (s, v) = app
        .wpost(
            "/workers/register",
            json!({"name": "w", "pool": POOL, "models": ["sora-2"]}),
        )
        .await;
    assert_eq!((s, v["error"]["param"].clone()), (400, json!("models")));
    let (s, _) = app.wpost("/workers/register", json!({"name": "w"})).await;
    assert_eq!(s, 400);
    let (s, v) = app
        .wpost(
            "/lease",
            json!({"worker_id": "nobody", "models": ["sora-2"]}),
        )
        .await;
    assert_eq!((s, v["error"]["param"].clone()), (400, json!("worker_id")));
    app.stop().await;

    // A node without worker tokens says how to enable the protocol.
    let plain = TestApp::spawn(0).await;
    let r = plain
        .client
        .post(plain.root_url("/internal/v1/workers/register"))
        .bearer_auth(TOKEN)
        .json(&register)
        .send()
        .await
        .unwrap();
    let e = expect_error(r, 401, None).await;
    assert!(e["message"].as_str().unwrap().contains("--worker-token"));
    plain.stop().await;
}

#[tokio::test]
async fn in_process_workers_leave_remote_models_to_their_pool() {
    let (app, _dir) = spawn(1).await;
    let remote = app
        .create(
            json!({"prompt": "a fox", "model": REMOTE_MODEL, "seconds": "4", "size": "1280x720"}),
        )
        .await;
    let local = app
        .create(json!({"prompt": "a boat", "seconds": "4", "size": "1280x720"}))
        .await;
    let done = app.wait(local["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let rid = remote["id"].as_str().unwrap();
    let still: Value = app
        .get(&format!("/videos/{rid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "queued");
    // Nothing ahead of it in its own pool, whatever the built-in queue holds.
    assert_eq!(still["queue_position"], 1, "{still}");

    let gpu = app.register(POOL).await;
    let job = app.lease(&gpu, 5).await.expect("the remote job");
    assert_eq!(job["video_id"], rid);
    assert_eq!(job["mode"], "create");
    assert_eq!(
        (job["width"].clone(), job["seconds"].clone()),
        (json!(1280), json!(4))
    );
    let (s, v) = app
        .job_call(
            &job,
            "fail",
            json!({"code": "out_of_memory", "message": "CUDA OOM", "retryable": false}),
        )
        .await;
    assert_eq!((s, v["outcome"].clone()), (200, json!("failed")));
    let failed = app.wait(rid).await;
    assert_eq!(failed["error"]["code"], "out_of_memory");
    app.stop().await;
}

#[tokio::test]
async fn registered_workers_are_listed_busy_while_they_hold_a_job() {
    let (app, _dir) = spawn(1).await;
    let r = app.client.get(app.url("/workers")).send().await.unwrap();
    expect_error(r, 401, None).await;
    let listed = |v: &Value| v["data"].as_array().unwrap().clone();
    let none: Value = app.get("/workers").await.json().await.unwrap();
    assert_eq!(
        (listed(&none).len(), none["in_process_workers"].clone()),
        (0, json!(1))
    );

    let gpu = app.register(POOL).await;
    let builtin = app.register("builtin").await;
    let all: Value = app.get("/workers").await.json().await.unwrap();
    let rows = listed(&all);
    assert_eq!(rows.len(), 2, "{all}");
    let row = &rows[0];
    assert_eq!(row["id"], gpu["worker_id"]);
    assert_eq!(row["object"], "worker");
    assert_eq!(
        (row["name"].clone(), row["pool"].clone()),
        (json!("test"), json!(POOL))
    );
    assert_eq!(row["models"], json!([REMOTE_MODEL]));
    assert_eq!(row["version"], "tests");
    assert_eq!(
        (row["status"].clone(), row["running_jobs"].clone()),
        (json!("idle"), json!(0))
    );
    assert_eq!(rows[1]["id"], builtin["worker_id"]);

    let v = app
        .create(
            json!({"prompt": "a fox", "model": REMOTE_MODEL, "seconds": "4", "size": "1280x720"}),
        )
        .await;
    let job = app.lease(&gpu, 5).await.expect("the remote job");
    assert_eq!(job["video_id"], v["id"]);
    let busy: Value = app.get("/workers").await.json().await.unwrap();
    let row = &listed(&busy)[0];
    assert_eq!(
        (row["status"].clone(), row["running_jobs"].clone()),
        (json!("busy"), json!(1))
    );
    assert!(row["last_seen_at"].as_i64().unwrap() >= row["registered_at"].as_i64().unwrap());

    let (s, _) = app
        .job_call(
            &job,
            "fail",
            json!({"code": "out_of_memory", "message": "CUDA OOM", "retryable": false}),
        )
        .await;
    assert_eq!(s, 200);
    let after: Value = app.get("/workers").await.json().await.unwrap();
    assert_eq!(listed(&after)[0]["status"], "idle");
}

#[tokio::test]
async fn a_long_poll_returns_the_job_enqueued_while_it_waits() {
    let (app, _dir) = spawn(0).await;
    let worker = app.register("builtin").await;
    let app = std::sync::Arc::new(app);
    let waiting = {
        let (app, worker) = (app.clone(), worker.clone());
        tokio::spawn(async move { app.lease(&worker, 25).await })
    };
    let v = app
        .create(json!({"prompt": "a kite", "seconds": "4", "size": "1280x720"}))
        .await;
    let job = waiting.await.unwrap().expect("the long poll got the job");
    assert_eq!(job["video_id"], v["id"]);
    assert_eq!(job["attempt"], 1);
    // Nothing else is queued: an immediate poll answers 204.
    assert!(app.lease(&worker, 0).await.is_none());
}

#[tokio::test]
async fn stale_leases_are_fenced_and_garbage_fails_the_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = support::workers::settings(dir.path(), 0);
    s.lease_seconds = 1;
    let app = TestApp::with_settings(s).await;
    let worker = app.register("builtin").await;
    let v = app
        .create(json!({"prompt": "a lighthouse", "seconds": "4", "size": "1280x720"}))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let first = app.lease(&worker, 5).await.unwrap();
    let (s, beat) = app
        .job_call(&first, "heartbeat", json!({"progress": 50}))
        .await;
    assert_eq!((s, beat["cancel"].clone()), (200, json!(false)));
    let mut forged = first.clone();
    forged["lease_id"] = json!("lease_forged");
    assert_eq!(
        app.job_call(&forged, "heartbeat", json!({"progress": 1}))
            .await
            .0,
        409
    );
    assert_eq!(app.upload(&forged, "video.mp4", vec![0; 10]).await, 409);

    // The first worker goes silent: its one-second lease lapses and the job goes to another
    // attempt (the sweeper does this on its tick; called here too so the test need not wait).
    let mut status = kinora_core::VideoStatus::InProgress;
    for _ in 0..100 {
        let store = &app.state.store;
        store
            .reclaim_expired(kinora_core::clock::now_millis())
            .await
            .unwrap();
        status = store.get_video_unscoped(&id).await.unwrap().unwrap().status;
        if status == kinora_core::VideoStatus::Queued {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, kinora_core::VideoStatus::Queued);
    let second = app.lease(&worker, 5).await.unwrap();
    assert_eq!(second["attempt"], 2);
    let (s, e) = app.job_call(&first, "complete", json!({})).await;
    assert_eq!((s, e["error"]["code"].clone()), (409, json!("lease_lost")));
    let input = app.input(&second, "source.mp4").await;
    assert_eq!(input.status(), 404, "a create job has no source");

    // Garbage instead of an MP4 fails the attempt, not the node; the job is retried.
    assert_eq!(
        app.upload(&second, "video.mp4", b"not a video".to_vec())
            .await,
        200
    );
    assert_eq!(app.upload(&second, "thumbnail.webp", vec![1]).await, 400);
    let (s, out) = app.job_call(&second, "complete", json!({})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["outcome"], "requeued");
    assert_eq!(out["error"]["code"], "invalid_artifact");
    let back: Value = app
        .get(&format!("/videos/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["status"], "queued");
}

#[tokio::test]
async fn foreign_clips_are_validated_and_normalised() {
    let (app, dir) = spawn(0).await;
    let worker = app.register(POOL).await;
    let v = app
        .create(
            json!({"prompt": "a fox", "model": REMOTE_MODEL, "seconds": "4", "size": "1280x720"}),
        )
        .await;
    let id = v["id"].as_str().unwrap().to_string();

    // Wrong size: refused.
    let job = app.lease(&worker, 5).await.unwrap();
    let small = foreign_clip(dir.path(), "640x360", 16, 4.0625);
    assert_eq!(app.upload(&job, "video.mp4", small).await, 200);
    let (_, out) = app.job_call(&job, "complete", json!({})).await;
    assert_eq!(out["error"]["code"], "invalid_artifact", "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("640x360")
    );

    // A 16 fps, 65-frame clip (Wan's 4k+1) with a 16 kHz WAV: stored as 24 fps, 4 s, with audio.
    // The refused attempt is retried after its backoff; the long poll picks it up when due.
    let job = app.lease(&worker, 20).await.expect("the retried job");
    assert_eq!(job["attempt"], 2);
    let clip = foreign_clip(dir.path(), "1280x720", 16, 65.0 / 16.0);
    assert_eq!(app.upload(&job, "video.mp4", clip).await, 200);
    assert_eq!(
        app.upload(&job, "audio.wav", tone_wav(dir.path(), 16_000, 4.0))
            .await,
        200
    );
    let (s, out) = app.job_call(&job, "complete", json!({})).await;
    assert_eq!(
        (s, out["outcome"].clone()),
        (200, json!("completed")),
        "{out}"
    );
    let done: Value = app
        .get(&format!("/videos/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["progress"], 100);
    let path = save(app.content(&id, "video").await, dir.path(), "out.mp4").await;
    let (codec, w, h, frames, duration, audio) = ffprobe(&path);
    assert_eq!((codec.as_str(), w, h, frames), ("h264", 1280, 720, 96));
    assert!((duration - 4.0).abs() < 0.05, "{duration}");
    assert!(audio);
    assert_eq!(app.content(&id, "thumbnail").await.status(), 200);
    assert_eq!(app.content(&id, "spritesheet").await.status(), 200);
}

#[tokio::test]
async fn cancellation_reaches_the_remote_worker() {
    let (app, _dir) = spawn(0).await;
    let worker = app.register("builtin").await;
    let v = app
        .create(json!({"prompt": "a train", "seconds": "4", "size": "1280x720"}))
        .await;
    let id = v["id"].as_str().unwrap();
    let job = app.lease(&worker, 5).await.unwrap();
    let r = app
        .post_json(&format!("/videos/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let (_, beat) = app
        .job_call(&job, "heartbeat", json!({"progress": 10}))
        .await;
    assert_eq!(beat["cancel"], true);
    let (_, out) = app
        .job_call(
            &job,
            "fail",
            json!({"code": "cancelled", "message": "stopped", "retryable": false}),
        )
        .await;
    assert_eq!(out["outcome"], "failed");
    let (s, _) = app
        .job_call(
            &job,
            "fail",
            json!({"code": "Bad Code", "message": "", "retryable": false}),
        )
        .await;
    assert_eq!(s, 400);
    let done = app.wait(id).await;
    assert_eq!(done["error"]["code"], "cancelled");
}

#[tokio::test]
async fn the_builtin_remote_worker_renders_creates_extensions_and_edits() {
    let (app, dir) = spawn(0).await;
    let stop = CancellationToken::new();
    let cfg = kinora_server::worker::client::WorkerConfig {
        server: app.root_url(""),
        token: TOKEN.into(),
        name: "cpu-farm-1".into(),
        models: vec![],
        scratch: dir.path().join("worker-scratch"),
    };
    let worker = tokio::spawn(kinora_server::worker::client::run(cfg, stop.clone()));

    let v = app.create(json!({"prompt": "a red car drives through a city at night", "seconds": "4", "size": "1280x720"})).await;
    let id = v["id"].as_str().unwrap().to_string();
    let done = app.wait(&id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let path = save(app.content(&id, "video").await, dir.path(), "a.mp4").await;
    let (codec, w, h, frames, duration, audio) = ffprobe(&path);
    assert_eq!(
        (codec.as_str(), w, h, frames, audio),
        ("h264", 1280, 720, 96, true)
    );
    assert!((duration - 4.0).abs() < 0.05, "{duration}");

    let ext = app
        .create_at(
            "/videos/extensions",
            json!({"video": {"id": id}, "prompt": "the car turns left", "seconds": "4"}),
        )
        .await;
    let ext_id = ext["id"].as_str().unwrap().to_string();
    let done = app.wait(&ext_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let path = save(app.content(&ext_id, "video").await, dir.path(), "b.mp4").await;
    let (codec, w, h, frames, _, audio) = ffprobe(&path);
    assert_eq!(
        (codec.as_str(), w, h, frames, audio),
        ("h264", 1280, 720, 192, true)
    );

    let edit = app
        .create_at(
            "/videos/edits",
            json!({"video": {"id": id}, "prompt": "make it snow"}),
        )
        .await;
    let done = app.wait(edit["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");

    stop.cancel();
    worker.await.unwrap().unwrap();
}

/// A character deleted between the create and the lease: the job can never render, so it fails
/// at once with the in-process runner's code, and the long-poll goes on to wait for real work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_character_was_deleted_fails_at_lease() {
    let (app, dir) = spawn(0).await;
    let cid = app.character_from_clip(dir.path(), "Pip").await;
    let id = app.remote_job_with_character(&cid, "Pip").await;
    let r = app.delete(&format!("/videos/characters/{cid}")).await;
    assert_eq!(r.status(), 200);

    let worker = app.register(POOL).await;
    assert!(app.lease(&worker, 0).await.is_none());
    let v = app.video(&id).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "character_not_found", "{v}");
    app.stop().await;
}

/// `edit_strength` (a Kinora extension): a diffusion model's edit carries it to the worker in
/// the lease; the built-in engine, which applies a change whole, refuses it rather than bill a
/// strength it never honoured; a value outside (0, 1] is a 400.
#[tokio::test]
async fn edit_strength_reaches_the_worker_or_is_refused() {
    let (app, dir) = spawn(0).await;
    let clip = foreign_clip(dir.path(), "320x180", 24, 2.0);
    let form = |strength: &str, model: &str| {
        support::text_form(&[
            ("prompt", "make it snowy"),
            ("model", model),
            ("edit_strength", strength),
        ])
        .part(
            "video",
            support::file_part(clip.clone(), "clip.mp4", "video/mp4"),
        )
    };
    for bad in ["0", "1.5", "-0.2", "NaN", "strong"] {
        let r = app
            .post_form("/videos/edits", form(bad, REMOTE_MODEL))
            .await;
        let e = expect_error(r, 400, Some("edit_strength")).await;
        assert_eq!(e["code"], "invalid_edit_strength", "{bad}: {e}");
    }
    let r = app.post_form("/videos/edits", form("0.5", "sora-2")).await;
    let e = expect_error(r, 400, Some("edit_strength")).await;
    assert_eq!(e["code"], "unsupported_parameter", "{e}");

    let r = app
        .post_form("/videos/edits", form("0.35", REMOTE_MODEL))
        .await;
    assert_eq!(r.status(), 200);
    let edit: Value = r.json().await.unwrap();
    let gpu = app.register(POOL).await;
    let job = app.lease(&gpu, 5).await.expect("the edit");
    assert_eq!(job["video_id"], edit["id"]);
    assert_eq!(
        (job["mode"].clone(), job["edit_strength"].clone()),
        (json!("edit"), json!(0.35))
    );

    // Without it the lease leaves the field out: the worker's configured default applies.
    let plain = support::text_form(&[("prompt", "make it snowy"), ("model", REMOTE_MODEL)]).part(
        "video",
        support::file_part(clip.clone(), "clip.mp4", "video/mp4"),
    );
    let r = app.post_form("/videos/edits", plain).await;
    assert_eq!(r.status(), 200);
    let job = app.lease(&gpu, 5).await.expect("the second edit");
    assert!(job.get("edit_strength").is_none(), "{job}");
    app.stop().await;
}
