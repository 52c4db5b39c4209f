//! Scenarios for records: idempotency, deletion, expiry, characters, counts.

use std::sync::Arc;

use kinora_core::VideoStatus;

use super::{LEASE_MS, T0, T0_MS, completion, video};
use crate::error::StoreError;
use crate::metadata::MetadataStore;
use crate::record::{CharacterRecord, CreateOutcome, IdempotencyKey, Order};

type Store = Arc<dyn MetadataStore>;

fn key(k: &str, hash: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey {
        key: k.into(),
        request_hash: hash.into(),
    })
}

pub(crate) fn character(project: &str, id: &str, created_at: i64) -> CharacterRecord {
    CharacterRecord {
        id: id.into(),
        project: project.into(),
        name: format!("name of {id}"),
        created_at,
        width: 640,
        height: 360,
    }
}

pub(crate) async fn idempotency(store: Store) {
    let first = store
        .create_video(video("p", "video_1"), key("k", "h1"))
        .await
        .unwrap();
    let CreateOutcome::Created(original) = first else {
        panic!("{first:?}")
    };
    let replay = store
        .create_video(video("p", "video_2"), key("k", "h1"))
        .await
        .unwrap();
    assert_eq!(replay, CreateOutcome::Replayed(original.clone()));
    let conflict = store
        .create_video(video("p", "video_3"), key("k", "h2"))
        .await
        .unwrap();
    assert_eq!(conflict, CreateOutcome::KeyConflict);
    let page = store.list_videos("p", None, 10, Order::Asc).await.unwrap();
    assert_eq!(
        page.items,
        vec![original],
        "a replay or conflict inserts nothing"
    );
    // Keys are scoped per project.
    let other = store
        .create_video(video("q", "video_4"), key("k", "h2"))
        .await
        .unwrap();
    assert!(
        matches!(other, CreateOutcome::Created(ref v) if v.id == "video_4"),
        "{other:?}"
    );
    // A replay reflects the job's current state.
    store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    let replay = store
        .create_video(video("p", "video_5"), key("k", "h1"))
        .await
        .unwrap();
    assert!(
        matches!(replay, CreateOutcome::Replayed(ref v) if v.status == VideoStatus::InProgress)
    );
}

pub(crate) async fn duplicate_id(store: Store) {
    store
        .create_video(video("p", "video_1"), None)
        .await
        .unwrap();
    let dup = store.create_video(video("q", "video_1"), None).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    // The failed insert must not leave a half-written key behind.
    let dup = store
        .create_video(video("p", "video_1"), key("k", "h"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let fresh = store
        .create_video(video("p", "video_2"), key("k", "h"))
        .await
        .unwrap();
    assert!(matches!(fresh, CreateOutcome::Created(_)), "{fresh:?}");
}

pub(crate) async fn delete(store: Store) {
    store
        .create_video(video("p", "video_done"), None)
        .await
        .unwrap();
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    store
        .complete("video_done", &lease.lease_id, completion(T0 + 100), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_video("other", "video_done", T0 + 2)
            .await
            .unwrap(),
        None
    );
    let deleted = store
        .delete_video("p", "video_done", T0 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.status, VideoStatus::Completed);
    assert_eq!(store.get_video("p", "video_done").await.unwrap(), None);
    assert_eq!(store.get_video_unscoped("video_done").await.unwrap(), None);
    assert_eq!(
        store.delete_video("p", "video_done", T0 + 3).await.unwrap(),
        None
    );
    assert!(
        store.expire_due(T0 + 1000, 10).await.unwrap().is_empty(),
        "deleted never expires"
    );

    // Deleting a job still queued cancels it; a running one is asked to stop.
    store
        .create_video(video("p", "video_q"), None)
        .await
        .unwrap();
    let queued = store
        .delete_video("p", "video_q", T0 + 4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queued.status, VideoStatus::Failed);
    assert!(
        store
            .claim("w", T0_MS + 10_000, LEASE_MS)
            .await
            .unwrap()
            .is_none()
    );
    store
        .create_video(video("p", "video_r"), None)
        .await
        .unwrap();
    let running = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    let deleted = store
        .delete_video("p", "video_r", T0 + 5)
        .await
        .unwrap()
        .unwrap();
    assert!(deleted.cancel_requested);
    assert!(
        store
            .heartbeat("video_r", &running.lease_id, 5, T0_MS + 1, LEASE_MS)
            .await
            .unwrap()
    );

    // A key whose video was deleted is free again: no replay of an id that answers 404.
    store
        .create_video(video("p", "video_keyed"), key("k-del", "h"))
        .await
        .unwrap();
    store
        .delete_video("p", "video_keyed", T0 + 2)
        .await
        .unwrap()
        .unwrap();
    let again = store
        .create_video(video("p", "video_keyed2"), key("k-del", "h"))
        .await
        .unwrap();
    assert!(
        matches!(again, CreateOutcome::Created(ref v) if v.id == "video_keyed2"),
        "{again:?}"
    );
}

pub(crate) async fn expire_due(store: Store) {
    for (id, expires) in [
        ("video_1", T0 + 10),
        ("video_2", T0 + 20),
        ("video_3", T0 + 10),
    ] {
        store.create_video(video("p", id), None).await.unwrap();
        let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
        store
            .complete(id, &lease.lease_id, completion(expires), T0 + 1)
            .await
            .unwrap();
    }
    assert!(store.expire_due(T0 + 9, 10).await.unwrap().is_empty());
    let first = store.expire_due(T0 + 15, 1).await.unwrap();
    assert_eq!(first.len(), 1, "limit is honoured");
    let rest = store.expire_due(T0 + 15, 10).await.unwrap();
    let mut ids: Vec<_> = first.iter().chain(&rest).map(|v| v.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["video_1", "video_3"]);
    assert!(rest.iter().all(|v| v.status == VideoStatus::Expired));
    let v = store.get_video("p", "video_1").await.unwrap().unwrap();
    assert_eq!(v.status, VideoStatus::Expired);
    assert!(store.expire_due(T0 + 15, 10).await.unwrap().is_empty());
}

pub(crate) async fn characters(store: Store) {
    let c = character("p", "char_1", T0);
    store.create_character(c.clone()).await.unwrap();
    assert_eq!(
        store.get_character("p", "char_1").await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(store.get_character("q", "char_1").await.unwrap(), None);
    let dup = store.create_character(character("q", "char_1", T0)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert!(!store.delete_character("q", "char_1").await.unwrap());
    assert!(store.delete_character("p", "char_1").await.unwrap());
    assert_eq!(store.get_character("p", "char_1").await.unwrap(), None);
    assert!(!store.delete_character("p", "char_1").await.unwrap());
}

pub(crate) async fn count_by_status(store: Store) {
    for id in ["video_1", "video_2", "video_3"] {
        store.create_video(video("p", id), None).await.unwrap();
    }
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    store
        .complete(&lease.video.id, &lease.lease_id, completion(T0 + 9), T0)
        .await
        .unwrap();
    store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    let counts = store.count_by_status().await.unwrap();
    assert_eq!(counts.len(), VideoStatus::ALL.len());
    let n = |s: VideoStatus| counts.iter().find(|(k, _)| *k == s).map(|(_, n)| *n);
    assert_eq!(n(VideoStatus::Queued), Some(1));
    assert_eq!(n(VideoStatus::InProgress), Some(1));
    assert_eq!(n(VideoStatus::Completed), Some(1));
    assert_eq!(n(VideoStatus::Failed), Some(0));
}

pub(crate) async fn purge_idempotency_keys(store: Store) {
    store
        .create_video(video("p", "video_1"), key("old", "h"))
        .await
        .unwrap();
    let mut later = video("p", "video_2");
    later.created_at = T0 + 100;
    store.create_video(later, key("new", "h")).await.unwrap();
    assert_eq!(store.purge_idempotency_keys(T0 + 50).await.unwrap(), 1);
    let reused = store
        .create_video(video("p", "video_3"), key("old", "h"))
        .await
        .unwrap();
    assert!(matches!(reused, CreateOutcome::Created(_)), "{reused:?}");
    let kept = store
        .create_video(video("p", "video_4"), key("new", "h"))
        .await
        .unwrap();
    assert!(
        matches!(kept, CreateOutcome::Replayed(ref v) if v.id == "video_2"),
        "{kept:?}"
    );
}

pub(crate) async fn blob_deletions(store: Store) {
    assert!(store.due_blob_deletions(T0, 10).await.unwrap().is_empty());
    store
        .defer_blob_deletion("videos/b/", T0 + 20)
        .await
        .unwrap();
    store
        .defer_blob_deletion("videos/a/", T0 + 10)
        .await
        .unwrap();
    assert!(
        store
            .due_blob_deletions(T0 + 9, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.due_blob_deletions(T0 + 20, 10).await.unwrap(),
        ["videos/a/", "videos/b/"],
        "earliest first"
    );
    assert_eq!(
        store.due_blob_deletions(T0 + 20, 1).await.unwrap(),
        ["videos/a/"]
    );
    // Deferring again moves the retry; it never duplicates the prefix.
    store
        .defer_blob_deletion("videos/a/", T0 + 30)
        .await
        .unwrap();
    assert_eq!(
        store.due_blob_deletions(T0 + 20, 10).await.unwrap(),
        ["videos/b/"]
    );
    store.forget_blob_deletion("videos/b/").await.unwrap();
    store.forget_blob_deletion("videos/never/").await.unwrap();
    assert_eq!(
        store.due_blob_deletions(T0 + 99, 10).await.unwrap(),
        ["videos/a/"]
    );
}
