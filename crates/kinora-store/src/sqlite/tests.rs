//! The storage story on SQLite (file and memory), plus what only a real file can show:
//! durability across reopen, concurrent claims, and the queue index.

use std::collections::HashSet;
use std::sync::Arc;

use super::SqliteStore;
use crate::metadata::MetadataStore;
use crate::record::{CreateOutcome, IdempotencyKey, Order};
use crate::story::{LEASE_MS, T0, T0_MS, completion, video};
use crate::video::VideoStore;

/// A fresh database file; the directory lives as long as the test process, which is short.
async fn file_store() -> Arc<dyn MetadataStore> {
    let dir = tempfile::tempdir().unwrap().keep();
    super::open_sqlite(&dir.join("kinora.db")).await.unwrap()
}

mod on_file {
    use super::file_store;
    crate::story::storage_story!(file_store());
}

mod in_memory {
    crate::story::storage_story!(async { crate::sqlite::open_sqlite_memory().await.unwrap() });
}

#[tokio::test]
async fn everything_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/kinora.db");
    let store = super::open_sqlite(&path).await.unwrap();
    let idem = || {
        Some(IdempotencyKey {
            key: "k".into(),
            request_hash: "h".into(),
        })
    };
    store
        .create_video(video("p", "video_1"), idem())
        .await
        .unwrap();
    store
        .create_video(video("p", "video_2"), None)
        .await
        .unwrap();
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    let done = store
        .complete(
            &lease.video.id,
            &lease.lease_id,
            completion(T0 + 50),
            T0 + 5,
        )
        .await
        .unwrap();
    store
        .create_character(crate::story::catalogue::character("p", "char_1", T0))
        .await
        .unwrap();
    store.close().await;
    assert!(store.ping().await.is_err(), "a closed store refuses work");

    let store = super::open_sqlite(&path).await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(store.get_video("p", "video_1").await.unwrap(), Some(done));
    let page = store.list_videos("p", None, 10, Order::Asc).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let replay = store
        .create_video(video("p", "video_9"), idem())
        .await
        .unwrap();
    assert!(matches!(replay, CreateOutcome::Replayed(ref v) if v.id == "video_1"));
    assert!(store.get_character("p", "char_1").await.unwrap().is_some());
    let next = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(next.video.id, "video_2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_take_each_job_once() {
    let store = file_store().await;
    for i in 0..200 {
        store
            .create_video(video("p", &format!("video_{i:03}")), None)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(lease) = store
                .claim(&format!("w{w}"), T0_MS, LEASE_MS)
                .await
                .unwrap()
            {
                got.push(lease.video.id);
            }
            got
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(seen.insert(id.clone()), "{id} claimed twice");
        }
    }
    assert_eq!(seen.len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_all_land() {
    let store = file_store().await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                store
                    .create_video(video("p", &format!("video_{t}_{i}")), None)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let page = store
        .list_videos("p", None, 1000, Order::Asc)
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.has_more), (400, false));
}

/// The claim query and queue_position must walk the queue index, not scan and sort the table.
#[tokio::test]
async fn queue_queries_use_the_queue_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("q.db")).await.unwrap();
    let claim_plan = explain(
        &store,
        "SELECT seq FROM videos WHERE status = 'queued' AND run_at <= 1 AND deleted_at IS NULL \
         AND (NULL IS NULL OR model IN (SELECT value FROM json_each(NULL))) \
         ORDER BY priority, run_at, seq LIMIT 1",
    )
    .await;
    assert!(claim_plan.contains("videos_queue"), "{claim_plan}");
    assert!(
        !claim_plan.contains("TEMP B-TREE"),
        "claim must not sort: {claim_plan}"
    );
    let position_plan = explain(
        &store,
        "SELECT COUNT(*) FROM videos o WHERE o.status = 'queued' AND o.deleted_at IS NULL \
         AND (o.priority, o.run_at, o.seq) < (0, 0, 0)",
    )
    .await;
    assert!(position_plan.contains("videos_queue"), "{position_plan}");
}

async fn explain(store: &SqliteStore, sql: &str) -> String {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&store.reader)
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| r.3)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// 10,000 queued jobs: creates from concurrent callers keep up with a busy API, and the queue
/// position of the last job and the first claim stay quick and right.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_queued_jobs() {
    let store = file_store().await;
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..625 {
                let mut v = video("p", &format!("video_{t:02}_{i:04}"));
                v.priority = i % 2;
                store.create_video(v, None).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let created = started.elapsed();
    let last = store
        .list_videos("p", None, 1, Order::Desc)
        .await
        .unwrap()
        .items
        .remove(0);
    let started = std::time::Instant::now();
    let position = store.queue_position(&last.id).await.unwrap();
    let position_took = started.elapsed();
    // Each task makes 313 jobs of priority 0 (even i) and 312 of priority 1; the last job
    // created is the last of its priority in claim order.
    let expected = if last.id.ends_with("_0624") {
        16 * 313
    } else {
        10_000
    };
    assert_eq!(position, Some(expected));
    let first = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert!(first.video.id.ends_with("_0000"), "{}", first.video.id);
    println!("10,000 creates: {created:?}; queue_position: {position_took:?}");
}

/// SQLite ends a transaction by itself after some failures (a COMMIT on a full disk); sqlx still
/// counted it open and refused every later `BEGIN` until a restart. The writer must be replaced.
#[tokio::test]
async fn a_transaction_sqlite_ended_itself_does_not_wedge_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kinora.db"))
        .await
        .unwrap();
    {
        let mut tx = store.writer.begin().await.unwrap();
        // What SQLite does on its own after a failed COMMIT: the transaction is gone under sqlx.
        sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
    }
    for i in 0..3 {
        store
            .create_video(video("p", &format!("video_{i}")), None)
            .await
            .unwrap();
    }
    let page = store.list_videos("p", None, 10, Order::Asc).await.unwrap();
    assert_eq!(page.items.len(), 3);
}

/// A database that cannot grow (as on a full disk) refuses writes as a disk fault, retryable,
/// while reads go on; once it can grow again the next write succeeds.
#[tokio::test]
async fn a_full_database_refuses_writes_and_serves_again_once_it_can_grow() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kinora.db"))
        .await
        .unwrap();
    store
        .create_video(video("p", "video_0"), None)
        .await
        .unwrap();
    // Caps the file at its current size; the cap belongs to the connection, like the fault.
    sqlx::query("PRAGMA max_page_count = 1")
        .execute(&store.writer)
        .await
        .unwrap();
    let mut refused = None;
    for i in 1..2000 {
        let mut v = video("p", &format!("video_{i}"));
        v.prompt = Some("x".repeat(3000));
        if let Err(e) = store.create_video(v, None).await {
            refused = Some(e);
            break;
        }
    }
    let err = refused.expect("the capped database fills up");
    assert!(matches!(err, crate::StoreError::DiskFault(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(store.get_video("p", "video_0").await.unwrap().is_some());
    sqlx::query("PRAGMA max_page_count = 1073741823")
        .execute(&store.writer)
        .await
        .unwrap();
    store
        .create_video(video("p", "video_after"), None)
        .await
        .unwrap();
}
