//! The storage story on PostgreSQL, each scenario on its own fresh database, plus what only a
//! shared server shows: claims from many connections and nodes, and cross-node wakeups.

use std::collections::HashSet;
use std::sync::Arc;

use super::test_db::fresh_store;
use crate::error::StoreError;
use crate::metadata::MetadataStore;
use crate::story::{LEASE_MS, T0_MS, video};

mod story {
    use super::fresh_store;
    crate::story::storage_story!(fresh_store());
}

/// Two stores on one database stand for two nodes; eight claimers share 200 jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_from_two_nodes_take_each_job_once() {
    let Some((node_a, db)) = fresh_store().await else {
        return;
    };
    let node_b = super::open_postgres(&db.url).await.unwrap();
    for i in 0..200 {
        node_a
            .create_video(video("p", &format!("video_{i:03}")), None)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store: Arc<dyn MetadataStore> = if w % 2 == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        };
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
            assert!(seen.insert(id.clone()), "{id} leased twice");
        }
    }
    assert_eq!(seen.len(), 200);
}

/// A job enqueued on one node wakes the other node's workers through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_on_one_node_wakes_another() {
    let Some((node_a, db)) = fresh_store().await else {
        return;
    };
    let node_b = super::open_postgres(&db.url).await.unwrap();
    let signal = node_b
        .queue_signal()
        .expect("PostgreSQL has a queue signal");
    // The listener wakes once when it has subscribed (it may have missed something while it
    // was connecting); after that, only a notification wakes it.
    guard(signal.notified()).await;
    node_a
        .create_video(video("p", "video_1"), None)
        .await
        .unwrap();
    guard(signal.notified()).await;
}

/// Fails the test instead of hanging it if a wakeup never comes.
async fn guard(wait: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(std::time::Duration::from_secs(60), wait)
        .await
        .expect("no wakeup came through LISTEN/NOTIFY");
}

/// Nothing listening there: the failure is the retryable kind, not a panic or a `Backend` error.
#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let err = super::open_postgres("postgres://kinora@127.0.0.1:1/kinora")
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn malformed_url_is_a_typed_error() {
    let err = super::open_postgres("postgres://[::1").await.err().unwrap();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
}

/// Every connection to the database is cut (as a PostgreSQL restart or a network failure would):
/// the pool reconnects on the next call, and the listener resubscribes, wakes its workers once
/// for anything it may have missed, and carries notifications again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_when_connections_are_cut() {
    let Some((store, db)) = fresh_store().await else {
        return;
    };
    let signal = store.queue_signal().unwrap();
    guard(signal.notified()).await;
    store.ping().await.unwrap();

    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(cut.len() >= 2, "the pool's and the listener's connections");

    // Nothing sends notifications meanwhile, so this wakeup is the listener's after resubscribing.
    guard(signal.notified()).await;
    store
        .create_video(video("p", "video_1"), None)
        .await
        .unwrap();
    guard(signal.notified()).await;
    let lease = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(lease.video.id, "video_1");
}
