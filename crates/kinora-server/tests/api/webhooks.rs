//! Webhooks end to end: a real server on port 0 delivering to a receiver on loopback (allowed
//! with the private-address switch, as an operator would), signatures checked independently of
//! the server's signing code, retries, outages, redirects, the egress policy, endpoint CRUD,
//! rotation and declared endpoints. Nothing sleeps to wait: every wait is for a condition, with a
//! deadline.

use crate::support;

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kinora_server::settings::{ProjectSettings, Secret};
use kinora_server::webhooks::config::DeclaredWebhook;
use serde_json::{Value, json};
use support::webhooks::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_completed_is_delivered_once_and_signed() {
    let mut rx = Receiver::start().await;
    let (app, _dir) = spawn_with(1, |_| {}).await;
    let ep = create_endpoint(&app, &rx.url(), &["video.completed", "video.failed"]).await;
    let secret = ep["signing_secret"].as_str().unwrap().to_string();
    let ep_id = ep["id"].as_str().unwrap().to_string();
    let video = app
        .create(json!({"prompt": "a paper boat on a pond", "seconds": "4"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let hit = rx.next().await;
    assert_eq!(hit.path, "/hook");
    assert!(verifies(&hit, &secret), "{hit:?}");
    assert_eq!(hit.header("content-type"), "application/json");
    assert!(
        hit.header("user-agent").starts_with("Kinora/")
            && hit.header("user-agent").ends_with("(+webhooks)"),
        "{}",
        hit.header("user-agent")
    );
    assert!(hit.webhook_id().starts_with("msg_"));
    let ts: i64 = hit.header("webhook-timestamp").parse().unwrap();
    assert!((ts - kinora_core::clock::now_unix()).abs() < 60);
    let event = hit.event();
    assert_eq!(event["type"], "video.completed");
    assert_eq!(event["object"], "event");
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["data"], json!({"id": video}));
    let v: Value = app
        .get(&format!("/videos/{video}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["status"], "completed",
        "the event follows the state change"
    );

    let log = wait_log(&app, &ep_id, all_delivered(1)).await;
    assert_eq!(log[0]["id"], hit.webhook_id().as_str());
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status_code"], 200);
    assert_eq!(log[0]["event_type"], "video.completed");
    assert!(rx.drain().is_empty(), "delivered exactly once");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("kinora_webhook_attempts_total{outcome=\"delivered\"} 1"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_is_retried_with_the_same_id() {
    let mut rx = Receiver::start().await;
    rx.answer(&[500, 503]);
    let (app, _dir) = spawn_with(0, |_| {}).await;
    let ep = create_endpoint(&app, &rx.url(), &["video.failed"]).await;
    let secret = ep["signing_secret"].as_str().unwrap().to_string();
    let video = failed_video(&app).await;

    let first = rx.next().await;
    let second = rx.next().await;
    let third = rx.next().await;
    for hit in [&first, &second, &third] {
        assert!(verifies(hit, &secret));
        assert_eq!(hit.webhook_id(), first.webhook_id());
        assert_eq!(hit.body, first.body, "every attempt sends the same bytes");
    }
    assert_eq!(first.event()["type"], "video.failed");
    assert_eq!(first.event()["data"]["id"], video.as_str());
    let log = wait_log(&app, ep["id"].as_str().unwrap(), all_delivered(1)).await;
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_status_code"], 200);
    assert!(rx.drain().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_was_down_gets_every_event() {
    // Reserve a port, then free it: connections are refused until the receiver starts there.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let (app, _dir) = spawn_with(0, |_| {}).await;
    let ep = create_endpoint(&app, &format!("http://{addr}/hook"), &["video.failed"]).await;
    let ep_id = ep["id"].as_str().unwrap().to_string();
    let mut videos = HashSet::new();
    for _ in 0..3 {
        videos.insert(failed_video(&app).await);
    }
    let log = wait_log(&app, &ep_id, |log| {
        log.len() == 3 && log.iter().all(|d| d["attempts"].as_u64() >= Some(2))
    })
    .await;
    for d in &log {
        assert_eq!(d["status"], "pending");
        assert!(
            d["last_error"]
                .as_str()
                .unwrap()
                .contains("connection failed"),
            "{d}"
        );
        assert!(d["next_attempt_at"].is_i64());
    }

    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let mut rx = Receiver::serve(listener);
    let mut ids = HashSet::new();
    let mut seen = HashSet::new();
    for _ in 0..3 {
        let hit = rx.next().await;
        assert!(verifies(&hit, ep["signing_secret"].as_str().unwrap()));
        assert!(ids.insert(hit.webhook_id()), "each event once");
        seen.insert(hit.event()["data"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, videos);
    wait_log(&app, &ep_id, all_delivered(3)).await;
    assert!(rx.drain().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_failures_and_not_followed() {
    let mut rx = Receiver::start().await;
    rx.answer(&[307, 307]);
    let (app, _dir) = spawn_with(0, |_| {}).await;
    let ep = create_endpoint(&app, &rx.url(), &["video.failed"]).await;
    failed_video(&app).await;
    let hits = [rx.next().await, rx.next().await, rx.next().await];
    assert!(
        hits.iter().all(|h| h.path == "/hook"),
        "the Location was never followed: {hits:?}"
    );
    let log = wait_log(&app, ep["id"].as_str().unwrap(), all_delivered(1)).await;
    assert_eq!(log[0]["attempts"], 3);
    app.stop().await;

    // The delivery log keeps the reason while it retries.
    let mut rx = Receiver::start().await;
    rx.answer(&[302; 50]);
    let (app, _dir) = spawn_with(0, |_| {}).await;
    let ep = create_endpoint(&app, &rx.url(), &["video.failed"]).await;
    failed_video(&app).await;
    rx.next().await;
    let log = wait_log(&app, ep["id"].as_str().unwrap(), |log| {
        log.len() == 1 && log[0]["last_status_code"] == 302
    })
    .await;
    assert!(
        log[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_without_the_switch() {
    let mut rx = Receiver::start().await;
    let (app, _dir) = spawn_with(0, |s| s.webhook_delivery.danger_allow_private = false).await;
    let by_ip = create_endpoint(&app, &rx.url(), &["video.failed"]).await;
    let by_name = create_endpoint(
        &app,
        &format!("http://localhost:{}/hook", rx.addr.port()),
        &["video.failed"],
    )
    .await;
    failed_video(&app).await;
    for ep in [&by_ip, &by_name] {
        let log = wait_log(&app, ep["id"].as_str().unwrap(), |log| {
            log.len() == 1
                && log[0]["attempts"].as_u64() >= Some(1)
                && log[0]["last_error"].is_string()
        })
        .await;
        let reason = log[0]["last_error"].as_str().unwrap();
        assert!(reason.contains("destination blocked"), "{reason}");
        assert!(
            reason.contains("--danger-allow-private-webhooks"),
            "{reason}"
        );
        assert_eq!(log[0]["status"], "pending");
    }
    let r = app
        .post_json(
            &format!("/webhook_endpoints/{}/test", by_ip["id"].as_str().unwrap()),
            json!({"event_type": "video.completed"}),
        )
        .await;
    let e = expect_error(r, 400, Some("url")).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("destination blocked")
    );
    assert!(
        rx.drain().is_empty(),
        "nothing reached the private receiver"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_managed_per_project() {
    let (mut app, _dir) = spawn_with(0, |_| {}).await;
    let ep = create_endpoint(&app, "https://example.com/hook", &["video.completed"]).await;
    let id = ep["id"].as_str().unwrap().to_string();
    assert_eq!(ep["object"], "webhook_endpoint");
    assert!(id.starts_with("we_"));
    let secret = ep["signing_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
    let hint = ep["signing_secret_hint"].as_str().unwrap();
    assert!(hint.ends_with(&secret[secret.len() - 4..]) && !hint.contains(&secret[6..20]));
    assert_eq!(ep["created_at"], ep["updated_at"]);

    let got: Value = app
        .get(&format!("/webhook_endpoints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(got.get("signing_secret").is_none(), "{got}");
    assert_eq!(got["event_types"], json!(["video.completed"]));
    let updated: Value = app
        .post_json(
            &format!("/webhook_endpoints/{id}"),
            json!({"name": "renamed", "event_types": ["video.failed", "batch.completed"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(
        updated["event_types"],
        json!(["video.failed", "batch.completed"])
    );
    assert!(updated.get("signing_secret").is_none());
    let patched: Value = app
        .client
        .patch(app.url(&format!("/webhook_endpoints/{id}")))
        .bearer_auth(&app.key)
        .json(&json!({"url": "http://example.org/other"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["url"], "http://example.org/other");
    assert_eq!(patched["name"], "renamed");

    for (body, param) in [
        (
            json!({"name": "x", "url": "https://e.com/", "event_types": ["response.completed"]}),
            "event_types",
        ),
        (
            json!({"name": "x", "url": "https://e.com/", "event_types": []}),
            "event_types",
        ),
        (
            json!({"name": "x", "url": "ftp://e.com/", "event_types": ["video.failed"]}),
            "url",
        ),
        (
            json!({"name": "", "url": "https://e.com/", "event_types": ["video.failed"]}),
            "name",
        ),
        // A missing field is named, like a mistyped one.
        (json!({"url": "https://e.com/"}), "name"),
    ] {
        let e = expect_error(
            app.post_json("/webhook_endpoints", body).await,
            400,
            Some(param),
        )
        .await;
        assert_eq!(e["type"], "invalid_request_error");
    }
    let types: Value = app.get("/webhook_event_types").await.json().await.unwrap();
    assert_eq!(types["data"].as_array().unwrap().len(), 6);

    let second = create_endpoint(&app, "https://example.com/2", &["video.failed"]).await;
    let page: Value = app
        .get("/webhook_endpoints?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["data"][0]["id"], second["id"], "newest first");
    assert_eq!(page["has_more"], true);
    let rest: Value = app
        .get(&format!(
            "/webhook_endpoints?limit=1&after={}",
            second["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["data"][0]["id"], id.as_str());
    assert_eq!(rest["has_more"], false);

    // Another project sees none of it.
    app.key = OTHER_KEY.into();
    let list: Value = app.get("/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(list["data"], json!([]));
    expect_error(
        app.get(&format!("/webhook_endpoints/{id}")).await,
        404,
        Some("webhook_endpoint_id"),
    )
    .await;
    expect_error(
        app.get(&format!("/webhook_endpoints/{id}/deliveries"))
            .await,
        404,
        None,
    )
    .await;
    expect_error(
        app.post_json(&format!("/webhook_endpoints/{id}"), json!({"name": "mine"}))
            .await,
        404,
        None,
    )
    .await;
    expect_error(
        app.post_json(&format!("/webhook_endpoints/{id}/rotate_secret"), json!({}))
            .await,
        404,
        None,
    )
    .await;
    expect_error(
        app.delete(&format!("/webhook_endpoints/{id}")).await,
        404,
        None,
    )
    .await;

    app.key = KEY.into();
    let gone: Value = app
        .delete(&format!("/webhook_endpoints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        gone,
        json!({"id": id, "object": "webhook_endpoint.deleted", "deleted": true})
    );
    expect_error(
        app.get(&format!("/webhook_endpoints/{id}")).await,
        404,
        None,
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_the_old_secret_for_its_grace_period() {
    let mut rx = Receiver::start().await;
    let (app, _dir) = spawn_with(0, |_| {}).await;
    let ep = create_endpoint(&app, &rx.url(), &["video.completed"]).await;
    let id = ep["id"].as_str().unwrap();
    let old = ep["signing_secret"].as_str().unwrap().to_string();
    let path = format!("/webhook_endpoints/{id}/test");
    let test = |event_type: &'static str| app.post_json(&path, json!({"event_type": event_type}));

    rx.answer(&[202]);
    let r: Value = test("batch.completed").await.json().await.unwrap();
    assert_eq!(
        r,
        json!({"object": "webhook_endpoint.test", "webhook_endpoint_id": id,
               "event_type": "batch.completed", "status_code": 202, "success": true})
    );
    let hit = rx.next().await;
    assert!(verifies(&hit, &old));
    assert_eq!(hit.event()["type"], "batch.completed");
    // A redirect is not a delivery.
    rx.answer(&[302]);
    let r: Value = test("batch.completed").await.json().await.unwrap();
    assert_eq!(
        (&r["status_code"], &r["success"]),
        (&json!(302), &json!(false))
    );
    rx.next().await;
    assert!(
        hit.event()["data"]["id"]
            .as_str()
            .unwrap()
            .starts_with("batch_")
    );
    expect_error(test("response.completed").await, 400, Some("event_types")).await;

    let rotated: Value = app
        .post_json(
            &format!("/webhook_endpoints/{id}/rotate_secret"),
            json!({"keep_old_secret_active_for_24_hours": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new = rotated["signing_secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    test("video.completed").await;
    let hit = rx.next().await;
    assert_eq!(hit.header("webhook-signature").split(' ').count(), 2);
    assert!(verifies(&hit, &new) && verifies(&hit, &old));

    let rotated: Value = app
        .post_json(&format!("/webhook_endpoints/{id}/rotate_secret"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let newest = rotated["signing_secret"].as_str().unwrap().to_string();
    test("video.failed").await;
    let hit = rx.next().await;
    assert!(verifies(&hit, &newest));
    assert!(!verifies(&hit, &new) && !verifies(&hit, &old));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_endpoints_deliver_and_are_read_only() {
    let mut rx = Receiver::start().await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let url = rx.url();
    let (mut app, _dir) = spawn_with(0, |s| {
        s.projects.push(ProjectSettings {
            name: "studio".into(),
            api_keys: vec![Secret("sk-studio".into())],
        });
        s.webhooks.push(DeclaredWebhook {
            url: url.clone(),
            secret: Secret(secret.into()),
            event_types: vec!["video.failed".into()],
            project: "studio".into(),
            name: Some("ops".into()),
        });
    })
    .await;
    let list: Value = app.get("/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(list["data"], json!([]), "declared for another project");

    app.key = "sk-studio".into();
    let list: Value = app.get("/webhook_endpoints").await.json().await.unwrap();
    let ep = &list["data"][0];
    assert_eq!(
        (ep["name"].as_str(), ep["read_only"].as_bool()),
        (Some("ops"), Some(true))
    );
    let id = ep["id"].as_str().unwrap().to_string();
    for r in [
        app.post_json(&format!("/webhook_endpoints/{id}"), json!({"name": "x"}))
            .await,
        app.post_json(&format!("/webhook_endpoints/{id}/rotate_secret"), json!({}))
            .await,
        app.delete(&format!("/webhook_endpoints/{id}")).await,
    ] {
        let e = expect_error(r, 409, None).await;
        assert_eq!(e["code"], "webhook_endpoint_read_only");
    }
    let video = failed_video(&app).await;
    let hit = rx.next().await;
    assert!(verifies(&hit, secret));
    assert_eq!(hit.event()["data"]["id"], video.as_str());
    wait_log(&app, &id, all_delivered(1)).await;
    app.stop().await;
}
