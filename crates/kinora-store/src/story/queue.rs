//! Scenarios for dispatch: cancellation, handing jobs back, model filters, queue order.

use std::sync::Arc;

use kinora_core::{ErrorCode, VideoStatus};

use super::{LEASE_MS, T0, T0_MS, video};
use crate::error::StoreError;
use crate::metadata::MetadataStore;
use crate::record::{CancelOutcome, CreateOutcome, FailOutcome, JobError};

type Store = Arc<dyn MetadataStore>;

async fn create(store: &Store, project: &str, id: &str) {
    let out = store.create_video(video(project, id), None).await.unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)), "{out:?}");
}

pub(crate) async fn cancel(store: Store) {
    create(&store, "p", "video_q").await;
    let out = store.request_cancel("p", "video_q", T0 + 1).await.unwrap();
    let CancelOutcome::Cancelled(v) = out else {
        panic!("queued cancels at once: {out:?}")
    };
    assert_eq!(v.status, VideoStatus::Failed);
    assert_eq!(
        v.error.map(|e| e.code),
        Some(ErrorCode::Cancelled.as_str().to_string())
    );
    assert!(
        store
            .claim("w", T0_MS + 10_000, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );
    let out = store.request_cancel("p", "video_q", T0 + 2).await.unwrap();
    assert!(matches!(out, CancelOutcome::AlreadyTerminal(_)), "{out:?}");

    create(&store, "p", "video_run").await;
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(
        store
            .request_cancel("other", "video_run", T0)
            .await
            .unwrap(),
        CancelOutcome::NotFound
    );
    let out = store
        .request_cancel("p", "video_run", T0 + 3)
        .await
        .unwrap();
    let CancelOutcome::Requested(v) = out else {
        panic!("running cancels by request: {out:?}")
    };
    assert!(v.cancel_requested && v.status == VideoStatus::InProgress);
    assert!(
        store
            .heartbeat("video_run", &lease.lease_id, 10, T0_MS + 1, LEASE_MS)
            .await
            .unwrap()
    );
    // A cancelled job is never retried, whatever the worker asks.
    let err = JobError::new(ErrorCode::Cancelled.as_str(), "stopped");
    let out = store
        .fail("video_run", &lease.lease_id, err, Some(T0_MS), T0 + 4)
        .await
        .unwrap();
    assert!(
        matches!(out, FailOutcome::Failed(ref v) if v.status == VideoStatus::Failed),
        "{out:?}"
    );
    assert_eq!(
        store.request_cancel("p", "video_404", T0).await.unwrap(),
        CancelOutcome::NotFound
    );
}

pub(crate) async fn release_owner(store: Store) {
    create(&store, "p", "video_a").await;
    create(&store, "p", "video_b").await;
    let a = store
        .claim("node-a/1", T0_MS, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    let b = store
        .claim("node-b/1", T0_MS, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.release_owner("node-a/", T0_MS + 5).await.unwrap(), 1);
    let released = store
        .get_video_unscoped(&a.video.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (released.status, released.attempts),
        (VideoStatus::Queued, 0)
    );
    let still = store
        .get_video_unscoped(&b.video.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, VideoStatus::InProgress);
    let again = store
        .claim("node-c/1", T0_MS + 5, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.video.id.as_str(), again.attempt),
        (a.video.id.as_str(), 1)
    );
    let stale = store
        .heartbeat(&a.video.id, &a.lease_id, 5, T0_MS + 6, LEASE_MS)
        .await;
    assert!(matches!(stale, Err(StoreError::LeaseLost)), "{stale:?}");
    assert_eq!(
        store.release_owner("node-%", T0_MS + 7).await.unwrap(),
        0,
        "no wildcards"
    );
    let everyone = store.release_owner("", T0_MS + 8).await;
    assert!(
        matches!(everyone, Err(StoreError::Conflict(_))),
        "{everyone:?}"
    );
}

pub(crate) async fn claim_for_models(store: Store) {
    let mut v = video("p", "video_pro");
    v.model = "sora-2-pro".into();
    store.create_video(v, None).await.unwrap();
    create(&store, "p", "video_std").await;
    let pro_only = ["sora-2-pro".to_string()];
    let got = store
        .claim_for("gpu", Some(&pro_only), T0_MS, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.video.id, "video_pro");
    assert!(
        store
            .claim_for("gpu", Some(&pro_only), T0_MS, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim_for("gpu", Some(&[]), T0_MS, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );
    let any = store.claim("cpu", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(any.video.id, "video_std");
}

pub(crate) async fn queue_position_follows_claim_order(store: Store) {
    // (id, priority, created_at): claim order is priority, then run_at, then creation.
    let jobs = [
        ("video_1", 1, T0),
        ("video_2", 0, T0 + 1),
        ("video_3", 0, T0 + 1),
        ("video_4", 1, T0),
        ("video_5", 0, T0),
    ];
    for (id, priority, created_at) in jobs {
        let mut v = video("p", id);
        v.priority = priority;
        v.created_at = created_at;
        store.create_video(v, None).await.unwrap();
    }
    let expected = ["video_5", "video_2", "video_3", "video_1", "video_4"];
    for (i, id) in expected.iter().enumerate() {
        assert_eq!(
            store.queue_position(id).await.unwrap(),
            Some(i as u64 + 1),
            "{id}"
        );
    }
    assert_eq!(store.queue_position("video_404").await.unwrap(), None);
    let queued: Vec<String> = store
        .queued_ids()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, model)| {
            assert_eq!(model, "sora-2");
            id
        })
        .collect();
    assert_eq!(queued, expected);
    for (i, id) in expected.iter().enumerate() {
        let lease = store
            .claim("w", T0_MS + 10_000, LEASE_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lease.video.id, *id);
        if let Some(next) = expected.get(i + 1) {
            assert_eq!(store.queue_position(next).await.unwrap(), Some(1));
        }
    }
}
