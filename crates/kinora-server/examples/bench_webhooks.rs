//! Webhook delivery rate to a local receiver, for `scripts/bench-webhooks.sh`.
//!
//! Emits N `video.failed` events through the store (N queued videos cancelled, each emitting its
//! event in the cancel's transaction) while no sender runs, then starts a node and times how long
//! its delivery loop takes to claim, sign, POST and record all N against an in-process axum
//! receiver on loopback that answers 200. Prints one Markdown table row.
//!
//! Usage: `cargo run --release -p kinora-server --example bench_webhooks -- [N]`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kinora_core::{JobSpec, VideoSize, clock, ids};
use kinora_server::webhooks::config::WebhookDeliverySettings;
use kinora_server::{App, Settings};
use kinora_store::{DeliveryStatus, NewVideo, NewWebhookEndpoint, Order};
use tokio::sync::Notify;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2_000);
    let received = Arc::new(AtomicUsize::new(0));
    let all_in = Arc::new(Notify::new());
    let receiver = {
        let (received, all_in) = (received.clone(), all_in.clone());
        axum::Router::new().fallback(axum::routing::post(move |_body: String| {
            let (received, all_in) = (received.clone(), all_in.clone());
            async move {
                if received.fetch_add(1, Ordering::SeqCst) + 1 == n {
                    all_in.notify_one();
                }
                "ok"
            }
        }))
    };
    let rx = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", rx.local_addr()?);
    tokio::spawn(async move { axum::serve(rx, receiver).await });

    let dir = tempfile::tempdir()?;
    let delivery = WebhookDeliverySettings {
        danger_allow_private: true,
        ..Default::default()
    };
    let concurrency = delivery.concurrency;
    let settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        workers: Some(0),
        webhook_delivery: delivery,
        ..Settings::default()
    };
    let app = App::open(settings).await?;
    let store = app.state.store.clone();
    let now = clock::now_unix();
    let endpoint = store
        .create_webhook_endpoint(NewWebhookEndpoint {
            id: "we_bench".into(),
            project: "default".into(),
            name: "bench".into(),
            url,
            event_types: vec!["video.failed".into()],
            secret: kinora_server::webhooks::signing::new_secret(),
            created_at: now,
        })
        .await?;
    let emit = Instant::now();
    for _ in 0..n {
        let id = ids::video_id();
        store
            .create_video(
                NewVideo {
                    id: id.clone(),
                    project: "default".into(),
                    model: "sora-2".into(),
                    prompt: Some("bench".into()),
                    size: VideoSize::new(1280, 720),
                    seconds: 4,
                    seed: 1,
                    spec: JobSpec::Create {
                        input_reference: None,
                        characters: vec![],
                    },
                    remixed_from_video_id: None,
                    batch_id: None,
                    priority: 0,
                    max_attempts: 1,
                    created_at: now,
                },
                None,
            )
            .await?;
        store.request_cancel("default", &id, now).await?;
    }
    let emitted_in = emit.elapsed();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let node = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));
    tokio::time::timeout(Duration::from_secs(600), all_in.notified()).await?;
    let sent_in = start.elapsed();
    // Every attempt recorded as delivered, not only received: page through the whole log.
    loop {
        let (mut after, mut delivered) = (None::<String>, 0);
        loop {
            let page = store
                .list_webhook_deliveries("default", &endpoint.id, after.as_deref(), 100, Order::Asc)
                .await?;
            delivered += page
                .items
                .iter()
                .filter(|d| d.status == DeliveryStatus::Delivered)
                .count();
            after = page.items.last().map(|d| d.id.clone());
            if !page.has_more {
                break;
            }
        }
        if delivered == n {
            break;
        }
        tokio::task::yield_now().await;
    }
    let recorded_in = start.elapsed();
    let _ = stop.send(());
    node.await??;
    println!(
        "| {n} | {concurrency} | {:.0} events/s | {:.2} s | {:.0} deliveries/s | {:.2} s |",
        n as f64 / emitted_in.as_secs_f64(),
        sent_in.as_secs_f64(),
        n as f64 / sent_in.as_secs_f64(),
        recorded_in.as_secs_f64(),
    );
    Ok(())
}
