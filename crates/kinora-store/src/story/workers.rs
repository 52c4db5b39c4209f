//! Scenario for the worker registry: registration, presence by polls and by heartbeats on a
//! running job, and forgetting workers long gone.

use std::sync::Arc;

use super::{LEASE_MS, T0_MS, video};
use crate::metadata::MetadataStore;
use crate::worker::WorkerRecord;

fn worker(id: &str, pool: &str, at_ms: i64) -> WorkerRecord {
    WorkerRecord {
        id: id.into(),
        name: id.trim_start_matches("wkr_").into(),
        pool: pool.into(),
        models: vec!["ltx-2".into(), "wan-2.2".into()],
        version: Some("kinora-gpu-worker 1.0".into()),
        registered_at_ms: at_ms,
    }
}

pub(crate) async fn worker_registry(store: Arc<dyn MetadataStore>) {
    let (a, b) = (
        worker("wkr_a", "gpu", T0_MS),
        worker("wkr_b", "builtin", T0_MS + 1),
    );
    store.record_worker(&a).await.unwrap();
    store.record_worker(&b).await.unwrap();
    let all = store.list_workers(T0_MS).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0].worker, a,
        "models, version and times survive the round trip"
    );
    assert_eq!((all[0].last_seen_ms, all[0].running_jobs), (T0_MS, 0));
    assert_eq!(all[1].worker.id, "wkr_b");

    // A poll moves presence forward, never back; an unknown id is no error.
    store.touch_worker("wkr_a", T0_MS + 60_000).await.unwrap();
    store.touch_worker("wkr_a", T0_MS + 5_000).await.unwrap();
    store
        .touch_worker("wkr_gone", T0_MS + 60_000)
        .await
        .unwrap();
    let recent = store.list_workers(T0_MS + 30_000).await.unwrap();
    assert_eq!(recent.len(), 1, "{recent:?}");
    assert_eq!(recent[0].last_seen_ms, T0_MS + 60_000);

    // Busy on a long job, b stops polling but heartbeats: it is listed, with the job counted.
    store
        .create_video(video("p", "video_1"), None)
        .await
        .unwrap();
    let lease = store
        .claim("wkr_b", T0_MS + 1_000, LEASE_MS)
        .await
        .unwrap()
        .unwrap();
    store
        .heartbeat("video_1", &lease.lease_id, 40, T0_MS + 25_000, LEASE_MS)
        .await
        .unwrap();
    let now = store.list_workers(T0_MS + 20_000).await.unwrap();
    let b_now = now.iter().find(|w| w.worker.id == "wkr_b").unwrap();
    assert_eq!(
        (b_now.running_jobs, b_now.last_seen_ms),
        (1, T0_MS + 25_000)
    );
    let later = store.list_workers(T0_MS + 80_000).await.unwrap();
    let ids: Vec<_> = later.iter().map(|w| w.worker.id.as_str()).collect();
    assert_eq!(
        ids,
        ["wkr_b"],
        "a, last seen at +60 s, is not; b holds a job"
    );

    // Forgetting spares a worker that holds a job, however long since it polled.
    assert_eq!(store.forget_workers(T0_MS + 100_000).await.unwrap(), 1);
    let left = store.list_workers(0).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].worker.id, "wkr_b");
    store
        .complete("video_1", &lease.lease_id, super::completion(0), 0)
        .await
        .unwrap();
    assert_eq!(store.list_workers(T0_MS + 80_000).await.unwrap().len(), 0);
    assert_eq!(store.forget_workers(T0_MS + 100_000).await.unwrap(), 1);

    // Registering again (a restarted worker keeps its id only if it reuses it) refreshes it.
    store.record_worker(&a).await.unwrap();
    let mut newer = a.clone();
    newer.models = vec!["ltx-2".into()];
    newer.registered_at_ms = T0_MS + 200_000;
    store.record_worker(&newer).await.unwrap();
    let again = store.list_workers(T0_MS + 150_000).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].worker.models, ["ltx-2"]);
    assert_eq!(
        again[0].worker.registered_at_ms, T0_MS,
        "first registration kept"
    );
}
