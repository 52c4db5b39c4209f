//! A SQLite deployment filled through the public verbs reads the same through PostgreSQL after
//! the copy, except for what the copy hands back on purpose (running jobs, leases).

use kinora_core::{ErrorCode, VideoStatus};

use super::copy_sqlite_to_postgres;
use crate::batch::BatchStore;
use crate::character::CharacterStore;
use crate::error::StoreError;
use crate::file::FileStore;
use crate::metadata::MetadataStore;
use crate::postgres::PostgresStore;
use crate::postgres::test_db::TestDb;
use crate::queue::QueueStore;
use crate::record::{CreateOutcome, IdempotencyKey, JobError, Order, VideoRecord};
use crate::sqlite::SqliteStore;
use crate::story::batches::{batch, file, invalid, staged};
use crate::story::catalogue::character;
use crate::story::webhooks::endpoint;
use crate::story::{LEASE_MS, T0, T0_MS, completion, video};
use crate::video::VideoStore;
use crate::webhook::{AttemptOutcome, WebhookStore};

const P: &str = "p";
/// When the copy runs; handed-back jobs are claimable from here.
const MIGRATED_MS: i64 = T0_MS + 100_000;

fn key(k: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey {
        key: k.into(),
        request_hash: format!("hash-{k}"),
    })
}

/// Creates `id` and leases it, so each job's state is set up one at a time.
async fn claimed(s: &SqliteStore, id: &str, owner: &str) -> String {
    s.create_video(video(P, id), None).await.unwrap();
    let lease = s.claim(owner, T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(lease.video.id, id);
    lease.lease_id
}

/// One of everything: videos in every status, keys, characters, files, a batch, endpoints
/// (declared and not), events and deliveries in each state.
async fn fill(s: &SqliteStore) {
    s.create_webhook_endpoint(endpoint(
        P,
        "we_1",
        &["video.completed", "video.failed", "batch.in_progress"],
    ))
    .await
    .unwrap();
    s.sync_declared_webhooks(vec![endpoint(P, "we_declared", &["video.completed"])], T0)
        .await
        .unwrap();

    let lease = claimed(s, "video_done", "node_a/w1").await;
    s.complete("video_done", &lease, completion(T0 + 1000), T0 + 5)
        .await
        .unwrap();
    let lease = claimed(s, "video_expired", "node_a/w1").await;
    s.complete("video_expired", &lease, completion(T0 + 10), T0 + 5)
        .await
        .unwrap();
    assert_eq!(s.expire_due(T0 + 20, 10).await.unwrap().len(), 1);
    let lease = claimed(s, "video_failed", "node_a/w1").await;
    s.fail(
        "video_failed",
        &lease,
        JobError::new("boom", "it broke"),
        None,
        T0 + 6,
    )
    .await
    .unwrap();
    let lease = claimed(s, "video_retry", "node_a/w1").await;
    s.fail(
        "video_retry",
        &lease,
        JobError::new("flaky", "try again"),
        Some(T0_MS + 50_000),
        T0 + 6,
    )
    .await
    .unwrap();
    claimed(s, "video_running", "node_a/w2").await;
    claimed(s, "video_stopping", "node_b/w1").await;
    s.request_cancel(P, "video_stopping", T0 + 7).await.unwrap();
    s.create_video(video(P, "video_cancelled"), None)
        .await
        .unwrap();
    s.request_cancel(P, "video_cancelled", T0 + 7)
        .await
        .unwrap();
    s.create_video(video(P, "video_deleted"), None)
        .await
        .unwrap();
    s.delete_video(P, "video_deleted", T0 + 8).await.unwrap();
    s.create_video(video(P, "video_queued"), key("k1"))
        .await
        .unwrap();
    s.create_video(video("other", "video_other"), key("k1"))
        .await
        .unwrap();

    s.create_character(character(P, "char_1", T0))
        .await
        .unwrap();
    s.create_character(character(P, "char_2", T0 + 1))
        .await
        .unwrap();
    s.create_file(file(P, "file-in", "batch", None))
        .await
        .unwrap();
    s.create_file(file(P, "file-gone", "user_data", Some(T0 + 50)))
        .await
        .unwrap();
    s.delete_file(P, "file-gone", T0 + 9).await.unwrap();

    s.create_batch(batch(P, "batch_1")).await.unwrap();
    s.stage_requests(
        "batch_1",
        &[staged(1, "video_b1"), invalid(2), staged(3, "video_b3")],
    )
    .await
    .unwrap();
    s.enqueue_batch("batch_1", 3, T0_MS).await.unwrap().unwrap();
    s.create_batch(batch(P, "batch_2")).await.unwrap();
    // A driver lease the old node held when it stopped.
    assert!(
        s.acquire_batch("batch_2", "node_a", T0_MS, 60_000)
            .await
            .unwrap()
    );

    // One delivery delivered, one leased by the stopped node, the rest pending.
    let due = s
        .claim_webhook_deliveries(T0_MS + 10_000, LEASE_MS, 1)
        .await
        .unwrap();
    s.record_webhook_attempt(
        &due[0].id,
        &due[0].lease_id,
        AttemptOutcome::Delivered { status_code: 204 },
        T0_MS + 10_000,
    )
    .await
    .unwrap();
    let hanging = s
        .claim_webhook_deliveries(T0_MS + 10_000, 3_600_000, 1)
        .await
        .unwrap();
    assert_eq!(hanging.len(), 1);

    // A deletion the blob store refused, still to retry.
    s.defer_blob_deletion("videos/video_x/", T0 + 60)
        .await
        .unwrap();
}

async fn all_videos(s: &dyn MetadataStore, project: &str) -> Vec<VideoRecord> {
    s.list_videos(project, None, 1000, Order::Asc)
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn sqlite_to_postgres_keeps_every_record() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("kinora.db"))
        .await
        .unwrap();
    fill(&sqlite).await;
    let pg = PostgresStore::open(&db.url).await.unwrap();

    let report = copy_sqlite_to_postgres(&sqlite, &pg, MIGRATED_MS)
        .await
        .unwrap();
    assert_eq!(report.released_jobs, 2, "{report:?}");
    let rows = |t: &str| report.tables.iter().find(|(n, _)| *n == t).unwrap().1;
    assert_eq!(rows("videos"), 12);
    assert_eq!(rows("batch_requests"), 3);
    assert_eq!(
        pg.due_blob_deletions(T0 + 60, 10).await.unwrap(),
        ["videos/video_x/"],
        "pending blob deletions carry over"
    );

    // Videos: identical in content and order, but for the two jobs that were running.
    let before = all_videos(&sqlite, P).await;
    let after = all_videos(&pg, P).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        match b.id.as_str() {
            "video_running" => {
                assert_eq!(a.status, VideoStatus::Queued, "{a:?}");
                assert_eq!(a.attempts, b.attempts - 1, "the hand-back costs no attempt");
            }
            "video_stopping" => {
                assert_eq!(a.status, VideoStatus::Failed);
                assert_eq!(
                    a.error.as_ref().unwrap().code,
                    ErrorCode::Cancelled.as_str()
                );
            }
            _ => assert_eq!(a, b),
        }
    }
    assert_eq!(
        all_videos(&sqlite, "other").await,
        all_videos(&pg, "other").await
    );
    assert_eq!(
        sqlite.get_video(P, "video_deleted").await.unwrap(),
        pg.get_video(P, "video_deleted").await.unwrap()
    );

    // Queue order is kept; the handed-back job joins at the time of the copy.
    let mut expected = sqlite.queued_ids().await.unwrap();
    let batch_at = expected
        .iter()
        .position(|(id, _)| id.starts_with("video_b"))
        .unwrap();
    let running_model = pg
        .get_video_unscoped("video_running")
        .await
        .unwrap()
        .unwrap()
        .model;
    expected.insert(batch_at, ("video_running".into(), running_model));
    assert_eq!(pg.queued_ids().await.unwrap(), expected);

    // Idempotency keys came along, scoped per project.
    match pg
        .create_video(video(P, "video_new"), key("k1"))
        .await
        .unwrap()
    {
        CreateOutcome::Replayed(v) => assert_eq!(v.id, "video_queued"),
        other => panic!("{other:?}"),
    }

    // Characters, files, batches and their requests.
    assert_eq!(
        sqlite
            .list_characters(P, None, 10, Order::Desc)
            .await
            .unwrap(),
        pg.list_characters(P, None, 10, Order::Desc).await.unwrap()
    );
    assert_eq!(
        sqlite
            .list_files(P, None, None, 10, Order::Asc)
            .await
            .unwrap(),
        pg.list_files(P, None, None, 10, Order::Asc).await.unwrap()
    );
    assert_eq!(
        sqlite.list_batches(P, None, 10, Order::Asc).await.unwrap(),
        pg.list_batches(P, None, 10, Order::Asc).await.unwrap()
    );
    assert_eq!(
        sqlite.batch_counts("batch_1").await.unwrap(),
        pg.batch_counts("batch_1").await.unwrap()
    );
    assert_eq!(
        sqlite.request_results("batch_1", 0, 10).await.unwrap(),
        pg.request_results("batch_1", 0, 10).await.unwrap()
    );
    assert!(
        pg.acquire_batch("batch_2", "node_new", MIGRATED_MS, 60_000)
            .await
            .unwrap(),
        "the old node's driver lease is cleared"
    );

    // Endpoints and the delivery log; the hand-back's own `video.failed` comes last.
    assert_eq!(
        sqlite
            .list_webhook_endpoints(P, None, 10, Order::Asc)
            .await
            .unwrap(),
        pg.list_webhook_endpoints(P, None, 10, Order::Asc)
            .await
            .unwrap()
    );
    let log_before = sqlite
        .list_webhook_deliveries(P, "we_1", None, 100, Order::Asc)
        .await
        .unwrap()
        .items;
    let log_after = pg
        .list_webhook_deliveries(P, "we_1", None, 100, Order::Asc)
        .await
        .unwrap()
        .items;
    assert_eq!(log_after[..log_before.len()], log_before[..]);
    assert_eq!(log_after.len(), log_before.len() + 1);
    assert_eq!(log_after.last().unwrap().event_type, "video.failed");
    // Every pending delivery is due on the new store, the one leased by the old node included.
    let pending = log_after
        .iter()
        .filter(|d| d.status == crate::webhook::DeliveryStatus::Pending)
        .count();
    let due = pg
        .claim_webhook_deliveries(MIGRATED_MS, LEASE_MS, 100)
        .await
        .unwrap();
    assert!(pending >= 2);
    assert_eq!(
        due.iter().filter(|d| d.endpoint_id == "we_1").count(),
        pending
    );

    // New rows go after the copied ones.
    pg.create_video(video(P, "video_after"), None)
        .await
        .unwrap();
    assert_eq!(all_videos(&pg, P).await.last().unwrap().id, "video_after");

    // A second copy into the now non-empty database is refused.
    let again = copy_sqlite_to_postgres(&sqlite, &pg, MIGRATED_MS).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}
