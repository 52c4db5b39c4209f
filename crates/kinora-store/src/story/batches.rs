//! Scenarios for files and batches: file records, a batch's whole life, fair interleaving of
//! projects' batch jobs behind interactive ones, cancel, expiry, driver leases.

use std::sync::Arc;

use kinora_core::{JobSpec, VideoSize, VideoStatus};

use super::{LEASE_MS, T0, T0_MS, completion, video};
use crate::batch::{
    BatchCancel, BatchOutputs, BatchRecord, BatchStatus, LineError, StagedRequest, StagedVideo,
};
use crate::file::FileRecord;
use crate::metadata::MetadataStore;
use crate::record::{CreateOutcome, JobError, Order};

type Store = Arc<dyn MetadataStore>;

pub(crate) fn file(project: &str, id: &str, purpose: &str, expires_at: Option<i64>) -> FileRecord {
    FileRecord {
        id: id.into(),
        project: project.into(),
        purpose: purpose.into(),
        filename: format!("{id}.jsonl"),
        bytes: 42,
        created_at: T0,
        expires_at,
    }
}

pub(crate) fn batch(project: &str, id: &str) -> BatchRecord {
    BatchRecord {
        id: id.into(),
        project: project.into(),
        endpoint: "/v1/videos".into(),
        input_file_id: "file-in".into(),
        completion_window: "24h".into(),
        status: BatchStatus::Validating,
        model: None,
        metadata: Some(serde_json::json!({"shoot": "day 1"})),
        output_expires_after: None,
        errors: Vec::new(),
        output_file_id: None,
        error_file_id: None,
        created_at: T0,
        in_progress_at: None,
        expires_at: T0 + 86_400,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
    }
}

pub(crate) fn staged(line: u64, video_id: &str) -> StagedRequest {
    StagedRequest {
        line,
        custom_id: format!("shot-{line}"),
        video: Some(StagedVideo {
            video_id: video_id.into(),
            model: "sora-2".into(),
            prompt: format!("shot {line}"),
            size: VideoSize::new(1280, 720),
            seconds: 4,
            seed: line,
            spec: JobSpec::Create {
                input_reference: None,
                characters: Vec::new(),
            },
        }),
        error: None,
    }
}

pub(crate) fn invalid(line: u64) -> StagedRequest {
    StagedRequest {
        line,
        custom_id: format!("shot-{line}"),
        video: None,
        error: Some(LineError {
            code: "invalid_size".into(),
            message: "size must be one of ...".into(),
            param: Some("size".into()),
            line: Some(line),
        }),
    }
}

/// A validating batch of `project` with one staged job per id, enqueued.
async fn running_batch(store: &Store, project: &str, id: &str, videos: &[&str]) -> BatchRecord {
    store.create_batch(batch(project, id)).await.unwrap();
    let rows: Vec<_> = videos
        .iter()
        .enumerate()
        .map(|(i, v)| staged(i as u64 + 1, v))
        .collect();
    store.stage_requests(id, &rows).await.unwrap();
    store.enqueue_batch(id, 3, T0_MS).await.unwrap().unwrap()
}

pub(crate) async fn files(store: Store) {
    store
        .create_file(file("p", "file-a", "batch", Some(T0 + 100)))
        .await
        .unwrap();
    store
        .create_file(file("p", "file-b", "vision", None))
        .await
        .unwrap();
    store
        .create_file(file("q", "file-c", "batch", None))
        .await
        .unwrap();
    assert!(
        store
            .create_file(file("p", "file-a", "batch", None))
            .await
            .is_err()
    );
    assert_eq!(
        store.get_file("p", "file-a", T0).await.unwrap(),
        Some(file("p", "file-a", "batch", Some(T0 + 100)))
    );
    assert_eq!(store.get_file("q", "file-a", T0).await.unwrap(), None);
    // Past its expiry a file is gone for readers even before the sweeper runs.
    assert_eq!(store.get_file("p", "file-a", T0 + 100).await.unwrap(), None);

    let all = store
        .list_files("p", None, None, 10, Order::Asc)
        .await
        .unwrap();
    let ids: Vec<_> = all.items.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["file-a", "file-b"]);
    let vision = store
        .list_files("p", Some("vision"), None, 10, Order::Desc)
        .await
        .unwrap();
    assert_eq!(vision.items.len(), 1);
    let after = store
        .list_files("p", None, Some("file-a"), 10, Order::Asc)
        .await
        .unwrap();
    assert_eq!(after.items[0].id, "file-b");

    let expired = store.expire_files(T0 + 100, 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].id, "file-a");
    assert!(store.expire_files(T0 + 100, 10).await.unwrap().is_empty());
    assert!(
        store
            .delete_file("q", "file-b", T0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .delete_file("p", "file-b", T0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.get_file("p", "file-b", T0).await.unwrap().is_none());
}

pub(crate) async fn batch_life(store: Store) {
    store.create_batch(batch("p", "batch_1")).await.unwrap();
    assert_eq!(store.batch_counts("batch_1").await.unwrap().total, 0);
    assert!(store.get_batch("q", "batch_1").await.unwrap().is_none());
    store
        .stage_requests("batch_1", &[staged(1, "video_b1"), invalid(2)])
        .await
        .unwrap();
    store
        .stage_requests("batch_1", &[staged(3, "video_b3")])
        .await
        .unwrap();
    // An interactive job submitted later still runs before every batch job.
    let CreateOutcome::Created(_) = store
        .create_video(video("p", "video_i"), None)
        .await
        .unwrap()
    else {
        panic!("create")
    };
    let b = store
        .enqueue_batch("batch_1", 3, T0_MS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.status, BatchStatus::InProgress);
    assert_eq!(b.in_progress_at, Some(T0));
    assert_eq!(b.model.as_deref(), Some("sora-2"));
    assert!(
        store
            .enqueue_batch("batch_1", 3, T0_MS)
            .await
            .unwrap()
            .is_none()
    );
    let counts = store.batch_counts("batch_1").await.unwrap();
    assert_eq!((counts.total, counts.completed, counts.failed), (3, 0, 1));

    let mut leases = Vec::new();
    while let Some(l) = store.claim("w", T0_MS, LEASE_MS).await.unwrap() {
        leases.push(l);
    }
    let order: Vec<&str> = leases.iter().map(|l| l.video.id.as_str()).collect();
    assert_eq!(order, ["video_i", "video_b1", "video_b3"]);
    assert_eq!(leases[1].video.batch_id.as_deref(), Some("batch_1"));
    assert_eq!(store.unfinished_jobs("batch_1").await.unwrap(), 2);
    store
        .complete(
            "video_b1",
            &leases[1].lease_id,
            completion(T0 + 1000),
            T0 + 1,
        )
        .await
        .unwrap();
    store
        .fail(
            "video_b3",
            &leases[2].lease_id,
            JobError::new("render_failed", "boom"),
            None,
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(store.unfinished_jobs("batch_1").await.unwrap(), 0);
    let counts = store.batch_counts("batch_1").await.unwrap();
    assert_eq!((counts.total, counts.completed, counts.failed), (3, 1, 2));

    assert!(store.begin_finalizing("batch_1", T0 + 5).await.unwrap());
    assert!(!store.begin_finalizing("batch_1", T0 + 5).await.unwrap());
    let page1 = store.request_results("batch_1", 0, 2).await.unwrap();
    assert_eq!(page1.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        page1[0].video.as_ref().unwrap().status,
        VideoStatus::Completed
    );
    assert!(page1[1].video.is_none() && page1[1].error.is_some());
    let page2 = store.request_results("batch_1", 2, 2).await.unwrap();
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].video.as_ref().unwrap().status, VideoStatus::Failed);

    let outputs = BatchOutputs {
        output: Some(file("p", "file-out", "batch_output", Some(T0 + 999))),
        errors: Some(file("p", "file-err", "batch_output", Some(T0 + 999))),
    };
    let done = store
        .finish_batch("batch_1", outputs, T0 + 6)
        .await
        .unwrap();
    assert_eq!(done.status, BatchStatus::Completed);
    assert_eq!(done.completed_at, Some(T0 + 6));
    assert_eq!(done.output_file_id.as_deref(), Some("file-out"));
    assert!(store.get_file("p", "file-err", T0).await.unwrap().is_some());
    assert!(
        store
            .finish_batch("batch_1", BatchOutputs::default(), T0 + 7)
            .await
            .is_err()
    );
    assert!(store.open_batches(10).await.unwrap().is_empty());
    let listed = store
        .list_batches("p", None, 10, Order::Desc)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].metadata, batch("p", "x").metadata);
}

pub(crate) async fn batch_fairness(store: Store) {
    running_batch(
        &store,
        "a",
        "batch_a",
        &["video_a1", "video_a2", "video_a3", "video_a4"],
    )
    .await;
    running_batch(&store, "b", "batch_b", &["video_b1", "video_b2"]).await;
    // A second batch of project a queues behind a's own work, not beside it.
    running_batch(&store, "a", "batch_a2", &["video_a5"]).await;
    // A batch still to validate comes before older ones that only wait on their jobs, so a
    // driver that takes the first few is never stuck behind long-running batches.
    store.create_batch(batch("c", "batch_new")).await.unwrap();
    let open: Vec<String> = store
        .open_batches(2)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(open, ["batch_new", "batch_a"]);
    let mut order = Vec::new();
    while let Some(l) = store.claim("w", T0_MS, LEASE_MS).await.unwrap() {
        order.push(l.video.id);
    }
    assert_eq!(
        order,
        [
            "video_a1", "video_b1", "video_a2", "video_b2", "video_a3", "video_a4", "video_a5"
        ]
    );
}

pub(crate) async fn batch_cancel(store: Store) {
    running_batch(&store, "p", "batch_c", &["video_c1", "video_c2"]).await;
    let running = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(running.video.id, "video_c1");
    assert_eq!(
        store.cancel_batch("q", "batch_c", T0 + 1).await.unwrap(),
        BatchCancel::NotFound
    );
    let BatchCancel::Cancelling(b) = store.cancel_batch("p", "batch_c", T0 + 1).await.unwrap()
    else {
        panic!("expected cancelling")
    };
    assert_eq!(
        (b.status, b.cancelling_at),
        (BatchStatus::Cancelling, Some(T0 + 1))
    );
    let queued = store.get_video("p", "video_c2").await.unwrap().unwrap();
    assert_eq!(queued.status, VideoStatus::Failed);
    assert_eq!(queued.error.unwrap().code, "cancelled");
    // The running job learns it on its next heartbeat.
    assert!(
        store
            .heartbeat("video_c1", &running.lease_id, 50, T0_MS, LEASE_MS)
            .await
            .unwrap()
    );
    assert!(matches!(
        store.cancel_batch("p", "batch_c", T0 + 2).await.unwrap(),
        BatchCancel::Ended(_)
    ));
    assert_eq!(store.unfinished_jobs("batch_c").await.unwrap(), 1);
    store
        .fail(
            "video_c1",
            &running.lease_id,
            JobError::new("cancelled", "stopped"),
            None,
            T0 + 3,
        )
        .await
        .unwrap();
    assert!(store.begin_finalizing("batch_c", T0 + 4).await.unwrap());
    let done = store
        .finish_batch("batch_c", BatchOutputs::default(), T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.cancelled_at),
        (BatchStatus::Cancelled, Some(T0 + 5))
    );
}

pub(crate) async fn batch_expiry(store: Store) {
    running_batch(&store, "p", "batch_e", &["video_e1", "video_e2"]).await;
    let b = store.get_batch("p", "batch_e").await.unwrap().unwrap();
    assert_eq!(store.expire_batches(b.expires_at - 1).await.unwrap(), 0);
    let running = store.claim("w", T0_MS, LEASE_MS).await.unwrap().unwrap();
    assert_eq!(store.expire_batches(b.expires_at).await.unwrap(), 1);
    assert_eq!(store.expire_batches(b.expires_at).await.unwrap(), 0);
    let queued = store.get_video("p", "video_e2").await.unwrap().unwrap();
    assert_eq!(queued.error.unwrap().code, "batch_expired");
    store
        .complete("video_e1", &running.lease_id, completion(T0 + 1000), T0 + 1)
        .await
        .unwrap();
    assert!(
        store
            .begin_finalizing("batch_e", b.expires_at)
            .await
            .unwrap()
    );
    let done = store
        .finish_batch("batch_e", BatchOutputs::default(), b.expires_at + 1)
        .await
        .unwrap();
    assert_eq!(done.status, BatchStatus::Expired);
    assert_eq!(done.expired_at, Some(b.expires_at + 1));
    let counts = store.batch_counts("batch_e").await.unwrap();
    assert_eq!((counts.total, counts.completed, counts.failed), (2, 1, 1));
}

pub(crate) async fn batch_validation_failure(store: Store) {
    store.create_batch(batch("p", "batch_f")).await.unwrap();
    store
        .stage_requests("batch_f", &[staged(1, "video_f1")])
        .await
        .unwrap();
    let errors = vec![LineError {
        code: "duplicate_custom_id".into(),
        message: "line 7 repeats shot-1".into(),
        param: None,
        line: Some(7),
    }];
    store
        .fail_batch("batch_f", errors.clone(), T0 + 1)
        .await
        .unwrap();
    let b = store.get_batch("p", "batch_f").await.unwrap().unwrap();
    assert_eq!((b.status, b.failed_at), (BatchStatus::Failed, Some(T0 + 1)));
    assert_eq!(b.errors, errors);
    assert!(
        store
            .request_results("batch_f", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.get_video("p", "video_f1").await.unwrap().is_none());
    assert!(
        store
            .enqueue_batch("batch_f", 3, T0_MS)
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn batch_driver_lease(store: Store) {
    store.create_batch(batch("p", "batch_d")).await.unwrap();
    assert!(
        store
            .acquire_batch("batch_d", "n1", T0_MS, 1000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acquire_batch("batch_d", "n2", T0_MS + 999, 1000)
            .await
            .unwrap()
    );
    assert!(
        store
            .acquire_batch("batch_d", "n1", T0_MS + 999, 1000)
            .await
            .unwrap()
    );
    assert!(
        store
            .acquire_batch("batch_d", "n2", T0_MS + 2000, 1000)
            .await
            .unwrap()
    );
    store.release_batch("batch_d", "n1").await.unwrap();
    assert!(
        !store
            .acquire_batch("batch_d", "n1", T0_MS + 2001, 1000)
            .await
            .unwrap()
    );
    store.release_batch("batch_d", "n2").await.unwrap();
    assert!(
        store
            .acquire_batch("batch_d", "n1", T0_MS + 2001, 1000)
            .await
            .unwrap()
    );
    // A cancel while validating: the enqueue that follows changes nothing.
    store
        .stage_requests("batch_d", &[staged(1, "video_d1")])
        .await
        .unwrap();
    assert!(matches!(
        store.cancel_batch("p", "batch_d", T0).await.unwrap(),
        BatchCancel::Cancelling(_)
    ));
    assert!(
        store
            .enqueue_batch("batch_d", 3, T0_MS)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.get_video("p", "video_d1").await.unwrap().is_none());
    assert_eq!(store.open_batches(10).await.unwrap().len(), 1);
}
