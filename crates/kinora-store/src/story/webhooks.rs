//! Scenarios for webhooks: endpoints per project, declared endpoints, secret rotation, events
//! emitted by terminal transitions, and the delivery lease, retry and log.

use std::sync::Arc;

use serde_json::Value;

use super::{LEASE_MS, T0, T0_MS, completion, video};
use crate::error::StoreError;
use crate::metadata::MetadataStore;
use crate::record::{JobError, Order};
use crate::webhook::{
    AttemptOutcome, DeliveryStatus, DueDelivery, NewWebhookEndpoint, WebhookEndpointPatch,
};

type Store = Arc<dyn MetadataStore>;

const ALL_VIDEO: &[&str] = &["video.completed", "video.failed"];

pub(crate) fn endpoint(project: &str, id: &str, types: &[&str]) -> NewWebhookEndpoint {
    NewWebhookEndpoint {
        id: id.to_string(),
        project: project.to_string(),
        name: format!("hook {id}"),
        url: format!("https://example.com/{id}"),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        secret: format!("whsec_{id}"),
        created_at: T0,
    }
}

/// Every delivery due at `now_ms`, leased for the default lease.
async fn due(store: &Store, now_ms: i64) -> Vec<DueDelivery> {
    store
        .claim_webhook_deliveries(now_ms, LEASE_MS, 100)
        .await
        .unwrap()
}

fn body(d: &DueDelivery) -> Value {
    serde_json::from_str(&d.body).unwrap()
}

pub(crate) async fn webhook_endpoints(store: Store) {
    let made = store
        .create_webhook_endpoint(endpoint("p", "we_1", ALL_VIDEO))
        .await
        .unwrap();
    assert!(!made.declared && made.updated_at == T0);
    assert_eq!(made.signing_secrets(T0), vec!["whsec_we_1".to_string()]);
    let dup = store
        .create_webhook_endpoint(endpoint("p", "we_1", ALL_VIDEO))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    for id in ["we_2", "we_3"] {
        store
            .create_webhook_endpoint(endpoint("p", id, &["batch.completed"]))
            .await
            .unwrap();
    }
    store
        .create_webhook_endpoint(endpoint("q", "we_q", ALL_VIDEO))
        .await
        .unwrap();

    assert_eq!(store.get_webhook_endpoint("q", "we_1").await.unwrap(), None);
    let first = store
        .list_webhook_endpoints("p", None, 2, Order::Desc)
        .await
        .unwrap();
    let ids: Vec<_> = first.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!((ids, first.has_more), (vec!["we_3", "we_2"], true));
    let rest = store
        .list_webhook_endpoints("p", Some("we_2"), 2, Order::Desc)
        .await
        .unwrap();
    let ids: Vec<_> = rest.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!((ids, rest.has_more), (vec!["we_1"], false));
    let foreign = store
        .list_webhook_endpoints("p", Some("we_q"), 2, Order::Desc)
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");

    let same = store
        .update_webhook_endpoint(
            "p",
            "we_1",
            WebhookEndpointPatch {
                name: Some("hook we_1".into()),
                ..Default::default()
            },
            T0 + 5,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.updated_at, T0, "an unchanged update keeps updated_at");
    let patch = WebhookEndpointPatch {
        url: Some("https://example.org/new".into()),
        event_types: Some(vec!["video.failed".into()]),
        ..Default::default()
    };
    let changed = store
        .update_webhook_endpoint("p", "we_1", patch.clone(), T0 + 6)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.url, "https://example.org/new");
    assert_eq!(changed.event_types, vec!["video.failed".to_string()]);
    assert_eq!(changed.updated_at, T0 + 6);
    assert_eq!(
        store.get_webhook_endpoint("p", "we_1").await.unwrap(),
        Some(changed)
    );
    let other = store
        .update_webhook_endpoint("q", "we_1", patch, T0 + 7)
        .await;
    assert_eq!(other.unwrap(), None);

    assert!(!store.delete_webhook_endpoint("q", "we_1").await.unwrap());
    assert!(store.delete_webhook_endpoint("p", "we_1").await.unwrap());
    assert!(!store.delete_webhook_endpoint("p", "we_1").await.unwrap());
    assert_eq!(store.get_webhook_endpoint("p", "we_1").await.unwrap(), None);
}

pub(crate) async fn webhook_declared(store: Store) {
    let declared = vec![
        endpoint("default", "we_cfg_a", ALL_VIDEO),
        endpoint("p", "we_cfg_b", &["video.failed"]),
    ];
    store
        .sync_declared_webhooks(declared.clone(), T0)
        .await
        .unwrap();
    let a = store
        .get_webhook_endpoint("default", "we_cfg_a")
        .await
        .unwrap()
        .unwrap();
    assert!(a.declared);
    let refused = store.delete_webhook_endpoint("default", "we_cfg_a").await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let refused = store
        .rotate_webhook_secret("default", "we_cfg_a", "whsec_x", None, T0)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let refused = store
        .update_webhook_endpoint("default", "we_cfg_a", Default::default(), T0)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );

    // A second start-up with the same file changes nothing; a changed file is applied.
    store
        .sync_declared_webhooks(declared.clone(), T0 + 10)
        .await
        .unwrap();
    let again = store
        .get_webhook_endpoint("default", "we_cfg_a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, a);
    let mut changed = declared[0].clone();
    changed.url = "https://example.net/moved".into();
    store
        .create_webhook_endpoint(endpoint("default", "we_api", ALL_VIDEO))
        .await
        .unwrap();
    store
        .sync_declared_webhooks(vec![changed], T0 + 20)
        .await
        .unwrap();
    let moved = store
        .get_webhook_endpoint("default", "we_cfg_a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (moved.url.as_str(), moved.updated_at),
        ("https://example.net/moved", T0 + 20)
    );
    assert_eq!(
        store.get_webhook_endpoint("p", "we_cfg_b").await.unwrap(),
        None
    );
    assert!(
        store
            .get_webhook_endpoint("default", "we_api")
            .await
            .unwrap()
            .is_some(),
        "API endpoints survive a sync"
    );
}

pub(crate) async fn webhook_rotation(store: Store) {
    store
        .create_webhook_endpoint(endpoint("p", "we_r", ALL_VIDEO))
        .await
        .unwrap();
    let grace = T0 + 86_400;
    let rotated = store
        .rotate_webhook_secret("p", "we_r", "whsec_two", Some(grace), T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.updated_at, T0 + 1);
    assert_eq!(
        rotated.signing_secrets(grace - 1),
        vec!["whsec_two".to_string(), "whsec_we_r".to_string()]
    );
    assert_eq!(
        rotated.signing_secrets(grace),
        vec!["whsec_two".to_string()]
    );
    let rotated = store
        .rotate_webhook_secret("p", "we_r", "whsec_three", None, T0 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rotated.signing_secrets(T0 + 2),
        vec!["whsec_three".to_string()]
    );
    assert_eq!(
        store
            .rotate_webhook_secret("q", "we_r", "whsec_x", None, T0)
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn webhook_video_events(store: Store) {
    store
        .create_webhook_endpoint(endpoint("p", "we_all", ALL_VIDEO))
        .await
        .unwrap();
    store
        .create_webhook_endpoint(endpoint("p", "we_failed", &["video.failed"]))
        .await
        .unwrap();
    store
        .create_webhook_endpoint(endpoint("q", "we_q", ALL_VIDEO))
        .await
        .unwrap();

    store
        .create_video(video("p", "video_ok"), None)
        .await
        .unwrap();
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    store
        .complete("video_ok", &lease.lease_id, completion(T0 + 99), T0 + 9)
        .await
        .unwrap();
    let sent = due(&store, T0_MS + 9_000).await;
    assert_eq!(sent.len(), 1, "only the endpoint subscribed to completions");
    let d = &sent[0];
    assert_eq!((d.endpoint_id.as_str(), d.attempt), ("we_all", 1));
    assert!(d.id.starts_with("msg_"), "{}", d.id);
    assert_eq!(d.url, "https://example.com/we_all");
    assert_eq!(d.secrets, vec!["whsec_we_all".to_string()]);
    let b = body(d);
    assert!(b["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(b["object"], "event");
    assert_eq!(b["type"], "video.completed");
    assert_eq!(b["created_at"], T0 + 9);
    assert_eq!(b["data"], serde_json::json!({"id": "video_ok"}));

    // Every other way a job ends failed emits video.failed to both subscribed endpoints.
    let mut v = video("p", "video_fail");
    v.max_attempts = 1;
    store.create_video(v, None).await.unwrap();
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    store
        .fail(
            "video_fail",
            &lease.lease_id,
            JobError::new("e", "m"),
            None,
            T0,
        )
        .await
        .unwrap();
    store
        .create_video(video("p", "video_cancel"), None)
        .await
        .unwrap();
    store.request_cancel("p", "video_cancel", T0).await.unwrap();
    store
        .create_video(video("p", "video_del"), None)
        .await
        .unwrap();
    store.delete_video("p", "video_del", T0).await.unwrap();
    let mut v = video("p", "video_lost");
    v.max_attempts = 1;
    store.create_video(v, None).await.unwrap();
    store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    store.reclaim_expired(T0_MS + LEASE_MS + 1).await.unwrap();
    store
        .create_video(video("p", "video_run"), None)
        .await
        .unwrap();
    store
        .claim("node-a/0", T0_MS, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    store.request_cancel("p", "video_run", T0).await.unwrap();
    store.release_owner("node-a/", T0_MS).await.unwrap();

    let sent = due(&store, T0_MS + LEASE_MS + 1).await;
    let mut failed: Vec<(String, String)> = sent
        .iter()
        .map(|d| {
            let b = body(d);
            assert_eq!(b["type"], "video.failed");
            (
                d.endpoint_id.clone(),
                b["data"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failed.sort();
    let mut expected = Vec::new();
    for endpoint in ["we_all", "we_failed"] {
        for v in [
            "video_cancel",
            "video_del",
            "video_fail",
            "video_lost",
            "video_run",
        ] {
            expected.push((endpoint.to_string(), v.to_string()));
        }
    }
    assert_eq!(failed, expected);

    // A retry that requeues and a delete of a finished video emit nothing.
    store
        .create_video(video("p", "video_retry"), None)
        .await
        .unwrap();
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    store
        .fail(
            "video_retry",
            &lease.lease_id,
            JobError::new("e", "m"),
            Some(T0_MS),
            T0,
        )
        .await
        .unwrap();
    store.delete_video("p", "video_ok", T0).await.unwrap();
    // Earlier deliveries are still leased at this instant, so only new ones could show.
    assert!(due(&store, T0_MS + LEASE_MS + 2).await.is_empty());
}

pub(crate) async fn webhook_delivery_lease(store: Store) {
    store
        .create_webhook_endpoint(endpoint("p", "we_1", ALL_VIDEO))
        .await
        .unwrap();
    for id in ["video_a", "video_b", "video_c"] {
        store.create_video(video("p", id), None).await.unwrap();
        store.request_cancel("p", id, T0).await.unwrap();
    }
    let first = store
        .claim_webhook_deliveries(T0_MS, LEASE_MS, 2)
        .await
        .unwrap();
    assert_eq!(first.len(), 2, "the limit holds");
    let second = due(&store, T0_MS).await;
    assert_eq!(second.len(), 1, "leased deliveries are not claimed twice");
    assert!(due(&store, T0_MS + LEASE_MS - 1).await.is_empty());

    let (a, b, c) = (&first[0], &first[1], &second[0]);
    let webhook_id = a.id.clone();
    let retry_at = T0_MS + 5_000;
    store
        .record_webhook_attempt(
            &a.id,
            &a.lease_id,
            AttemptOutcome::Retry {
                status_code: Some(500),
                error: "receiver answered 500".into(),
                retry_at_ms: retry_at,
            },
            T0_MS + 100,
        )
        .await
        .unwrap();
    let stale = store
        .record_webhook_attempt(
            &a.id,
            &a.lease_id,
            AttemptOutcome::Delivered { status_code: 200 },
            T0_MS + 200,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::LeaseLost)), "{stale:?}");
    store
        .record_webhook_attempt(
            &b.id,
            &b.lease_id,
            AttemptOutcome::Delivered { status_code: 204 },
            T0_MS + 100,
        )
        .await
        .unwrap();
    store
        .record_webhook_attempt(
            &c.id,
            &c.lease_id,
            AttemptOutcome::GiveUp {
                status_code: None,
                error: "gave up".into(),
            },
            T0_MS + 100,
        )
        .await
        .unwrap();
    assert!(due(&store, retry_at - 1).await.is_empty());
    let again = due(&store, retry_at).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempt),
        (webhook_id.as_str(), 2)
    );
    assert_eq!(again[0].body, a.body, "a retry sends the same bytes");

    // A lease that runs out (a crashed sender) makes the delivery claimable again.
    let after_crash = due(&store, retry_at + LEASE_MS).await;
    assert_eq!(after_crash.len(), 1);
    assert_eq!(after_crash[0].attempt, 3);

    let log = store
        .list_webhook_deliveries("p", "we_1", None, 10, Order::Asc)
        .await
        .unwrap();
    let statuses: Vec<_> = log.items.iter().map(|d| (d.id.clone(), d.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (a.id.clone(), DeliveryStatus::Pending),
            (b.id.clone(), DeliveryStatus::Delivered),
            (c.id.clone(), DeliveryStatus::Failed),
        ]
    );
    let pending = &log.items[0];
    assert_eq!(pending.attempts, 3);
    assert_eq!(pending.last_status_code, Some(500));
    assert_eq!(pending.event_type, "video.failed");
    assert_eq!(log.items[1].completed_at, Some(T0));
    assert_eq!(log.items[2].last_error.as_deref(), Some("gave up"));
    let page = store
        .list_webhook_deliveries("p", "we_1", Some(&a.id), 1, Order::Asc)
        .await
        .unwrap();
    assert_eq!(page.items[0].id, b.id);
    assert!(page.has_more);
    let foreign = store
        .list_webhook_deliveries("q", "we_1", None, 10, Order::Asc)
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");

    // Deleting the endpoint drops its pending work with it.
    assert!(store.delete_webhook_endpoint("p", "we_1").await.unwrap());
    assert!(due(&store, retry_at + 10 * LEASE_MS).await.is_empty());
}
