//! `batch.*` webhooks: each terminal batch status emits its event, signed, once, with the
//! batch's id, committed with the status change.

use crate::support;

use serde_json::{Value, json};
use support::batches::*;
use support::webhooks::*;

const BATCH_EVENTS: [&str; 4] = [
    "batch.completed",
    "batch.failed",
    "batch.expired",
    "batch.cancelled",
];

async fn event_for(rx: &mut Receiver, secret: &str, want: &str) -> Value {
    let hit = rx.next().await;
    assert!(verifies(&hit, secret), "{hit:?}");
    let event = hit.event();
    assert_eq!(event["type"], want, "{event}");
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_terminal_batch_status_has_its_event() {
    let mut rx = Receiver::start().await;
    let (app, _dir) = spawn_with(1, |_| {}).await;
    let ep = create_endpoint(&app, &rx.url(), &BATCH_EVENTS).await;
    let secret = ep["signing_secret"].as_str().unwrap().to_string();

    let failed = create_batch(&app, &["{broken".to_string()]).await;
    let e = event_for(&mut rx, &secret, "batch.failed").await;
    assert_eq!(e["data"], json!({"id": failed["id"]}));
    let b = wait_batch(&app, failed["id"].as_str().unwrap(), &["failed"]).await;
    assert_eq!(b["status"], "failed");

    let done = create_batch(&app, &[line("one", shot("a paper boat on a pond"))]).await;
    let e = event_for(&mut rx, &secret, "batch.completed").await;
    assert_eq!(e["data"], json!({"id": done["id"]}));
    let b = wait_batch(&app, done["id"].as_str().unwrap(), &["completed"]).await;
    assert!(b["output_file_id"].is_string());

    // Without workers nothing runs: cancel one batch, let the other's window run out.
    app.stop().await;
    let (app, _dir2) = spawn_with(0, |s| s.batches.completion_window_seconds = 1).await;
    let ep = create_endpoint(&app, &rx.url(), &BATCH_EVENTS).await;
    let secret = ep["signing_secret"].as_str().unwrap().to_string();
    let cancelled = create_batch(&app, &[line("c", shot("a kite"))]).await;
    let cid = cancelled["id"].as_str().unwrap();
    let r = app
        .post_json(&format!("/batches/{cid}/cancel"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let e = event_for(&mut rx, &secret, "batch.cancelled").await;
    assert_eq!(e["data"], json!({"id": cid}));
    let expiring = create_batch(&app, &[line("x", shot("a horse"))]).await;
    let e = event_for(&mut rx, &secret, "batch.expired").await;
    assert_eq!(e["data"], json!({"id": expiring["id"]}));
    // Exactly one delivery per event.
    assert!(rx.drain().is_empty());
    app.stop().await;
}
