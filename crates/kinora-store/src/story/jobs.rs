//! Scenarios for the job state machine: claim, heartbeat, complete, fail, reclaim.

use std::sync::Arc;

use kinora_core::{ErrorCode, VideoStatus};

use super::{LEASE_MS, T0, T0_MS, completion, video};
use crate::error::StoreError;
use crate::metadata::MetadataStore;
use crate::record::{CreateOutcome, FailOutcome, JobError};

type Store = Arc<dyn MetadataStore>;

async fn create(store: &Store, project: &str, id: &str) {
    let out = store.create_video(video(project, id), None).await.unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)), "{out:?}");
}

pub(crate) async fn complete_path(store: Store) {
    let created = match store
        .create_video(video("p", "video_1"), None)
        .await
        .unwrap()
    {
        CreateOutcome::Created(v) => v,
        other => panic!("expected Created, got {other:?}"),
    };
    assert_eq!(created.status, VideoStatus::Queued);
    assert_eq!((created.attempts, created.progress), (0, 0));
    assert_eq!(created.seed, u64::MAX - 7);
    assert_eq!(
        store.get_video("p", "video_1").await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.get_video("other", "video_1").await.unwrap(), None);
    assert_eq!(store.queue_position("video_1").await.unwrap(), Some(1));

    // Not due before its creation instant.
    assert!(
        store
            .claim("w", T0_MS - 1, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );
    let lease = store
        .claim("w", T0_MS + 500, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.attempt, 1);
    assert!(lease.lease_id.starts_with("lease_"));
    assert_eq!(lease.video.status, VideoStatus::InProgress);
    assert_eq!(lease.video.started_at, Some(T0));
    assert_eq!(store.queue_position("video_1").await.unwrap(), None);
    assert!(
        store
            .claim("w2", T0_MS + 600, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );

    let cancel = store
        .heartbeat("video_1", &lease.lease_id, 40, T0_MS + 1000, LEASE_MS)
        .await
        .unwrap();
    assert!(!cancel);
    store
        .heartbeat("video_1", &lease.lease_id, 20, T0_MS + 2000, LEASE_MS)
        .await
        .unwrap();
    let running = store.get_video_unscoped("video_1").await.unwrap().unwrap();
    assert_eq!(running.progress, 40, "progress never goes backwards");

    let done = store
        .complete("video_1", &lease.lease_id, completion(T0 + 3600), T0 + 9)
        .await
        .unwrap();
    assert_eq!(done.status, VideoStatus::Completed);
    assert_eq!(done.progress, 100);
    assert_eq!(done.completed_at, Some(T0 + 9));
    assert_eq!(done.expires_at, Some(T0 + 3600));
    assert_eq!(done.usage, Some(completion(0).usage));
    assert_eq!(done.media, Some(completion(0).media));
    assert_eq!(store.get_video("p", "video_1").await.unwrap(), Some(done));

    let again = store
        .heartbeat("video_1", &lease.lease_id, 50, T0_MS + 3000, LEASE_MS)
        .await;
    assert!(matches!(again, Err(StoreError::LeaseLost)), "{again:?}");
    let again = store
        .complete("video_1", &lease.lease_id, completion(T0), T0 + 10)
        .await;
    assert!(matches!(again, Err(StoreError::LeaseLost)), "{again:?}");
    let unknown = store
        .heartbeat("video_404", "lease_x", 1, T0_MS, LEASE_MS)
        .await;
    assert!(matches!(unknown, Err(StoreError::LeaseLost)), "{unknown:?}");
}

pub(crate) async fn retry_then_terminal(store: Store) {
    let mut v = video("p", "video_r");
    v.max_attempts = 2;
    store.create_video(v, None).await.unwrap();
    let first = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    let retry_at = T0_MS + 60_000;
    let out = store
        .fail(
            "video_r",
            &first.lease_id,
            JobError::new("engine", "boom"),
            Some(retry_at),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        FailOutcome::Requeued {
            run_at_ms: retry_at
        }
    );
    let queued = store.get_video("p", "video_r").await.unwrap().unwrap();
    assert_eq!(queued.status, VideoStatus::Queued);
    assert_eq!(
        queued.error, None,
        "a retried attempt's error stays private"
    );
    assert_eq!(queued.attempts, 1);
    assert!(
        store
            .claim("w", retry_at - 1, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );

    let second = store.claim("w", retry_at, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(second.attempt, 2);
    assert_eq!(second.video.started_at, Some(T0), "started_at is set once");
    let out = store
        .fail(
            "video_r",
            &second.lease_id,
            JobError::new("engine", "boom again"),
            Some(retry_at + 1),
            T0 + 70,
        )
        .await
        .unwrap();
    let FailOutcome::Failed(failed) = out else {
        panic!("out of attempts must fail: {out:?}")
    };
    assert_eq!(failed.status, VideoStatus::Failed);
    assert_eq!(failed.error, Some(JobError::new("engine", "boom again")));
    assert_eq!(failed.completed_at, Some(T0 + 70));
    assert!(
        store
            .claim("w", retry_at + 10_000, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn fail_without_retry(store: Store) {
    create(&store, "p", "video_f").await;
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    let out = store
        .fail(
            "video_f",
            &lease.lease_id,
            JobError::new("moderation_blocked", "no"),
            None,
            T0 + 1,
        )
        .await
        .unwrap();
    assert!(matches!(out, FailOutcome::Failed(ref v) if v.status == VideoStatus::Failed));
    let again = store
        .fail(
            "video_f",
            &lease.lease_id,
            JobError::new("x", "y"),
            None,
            T0 + 2,
        )
        .await;
    assert!(matches!(again, Err(StoreError::LeaseLost)), "{again:?}");
}

pub(crate) async fn stale_lease_after_reclaim(store: Store) {
    create(&store, "p", "video_s").await;
    let a = store.claim("node-a", T0_MS, 1_000).await.unwrap().unwrap();
    assert_eq!(
        store.reclaim_expired(T0_MS + 1_000).await.unwrap(),
        0,
        "not yet expired"
    );
    assert_eq!(store.reclaim_expired(T0_MS + 1_001).await.unwrap(), 1);
    let requeued = store.get_video("p", "video_s").await.unwrap().unwrap();
    assert_eq!(
        (requeued.status, requeued.progress),
        (VideoStatus::Queued, 0)
    );
    let b = store
        .claim("node-b", T0_MS + 2_000, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.attempt, 2);
    assert_ne!(a.lease_id, b.lease_id);

    let hb = store
        .heartbeat("video_s", &a.lease_id, 90, T0_MS + 2_001, LEASE_MS)
        .await;
    assert!(matches!(hb, Err(StoreError::LeaseLost)), "{hb:?}");
    let done = store
        .complete("video_s", &a.lease_id, completion(T0 + 99), T0 + 3)
        .await;
    assert!(matches!(done, Err(StoreError::LeaseLost)), "{done:?}");
    let failed = store
        .fail(
            "video_s",
            &a.lease_id,
            JobError::new("x", "y"),
            None,
            T0 + 3,
        )
        .await;
    assert!(matches!(failed, Err(StoreError::LeaseLost)), "{failed:?}");

    let done = store
        .complete("video_s", &b.lease_id, completion(T0 + 99), T0 + 4)
        .await
        .unwrap();
    assert_eq!(done.status, VideoStatus::Completed);
    assert_eq!(done.attempts, 2);
}

pub(crate) async fn reclaim_out_of_attempts(store: Store) {
    let mut v = video("p", "video_l");
    v.max_attempts = 1;
    store.create_video(v, None).await.unwrap();
    store.claim("w", T0_MS, 1_000).await.unwrap().unwrap();
    assert_eq!(store.reclaim_expired(T0_MS + 5_000).await.unwrap(), 1);
    let lost = store.get_video("p", "video_l").await.unwrap().unwrap();
    assert_eq!(lost.status, VideoStatus::Failed);
    assert_eq!(
        lost.error.as_ref().map(|e| e.code.as_str()),
        Some(ErrorCode::WorkerLost.as_str())
    );
    assert!(!lost.error.unwrap().message.is_empty());
    assert_eq!(lost.completed_at, Some(T0 + 5));
}
