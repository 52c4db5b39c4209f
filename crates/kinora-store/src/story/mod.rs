//! The storage story: backend-neutral scenarios over `Arc<dyn MetadataStore>`.
//!
//! Each backend instantiates every scenario as its own test with [`storage_story!`], so the
//! PostgreSQL backend runs exactly what SQLite runs.

pub(crate) mod batches;
pub(crate) mod catalogue;
pub(crate) mod jobs;
pub(crate) mod listing;
pub(crate) mod queue;
pub(crate) mod webhooks;
pub(crate) mod workers;

use std::sync::Arc;

use kinora_core::{JobSpec, VideoSize};

use crate::metadata::MetadataStore;
use crate::record::{Completion, MediaInfo, NewVideo, Usage};

/// Unix seconds every scenario starts at.
pub(crate) const T0: i64 = 1_700_000_000;
pub(crate) const T0_MS: i64 = T0 * 1000;
pub(crate) const LEASE_MS: i64 = 30_000;

pub(crate) fn video(project: &str, id: &str) -> NewVideo {
    NewVideo {
        id: id.to_string(),
        project: project.to_string(),
        model: "sora-2".to_string(),
        prompt: Some(format!("a lighthouse for {id}")),
        size: VideoSize::new(1280, 720),
        seconds: 8,
        seed: u64::MAX - 7,
        spec: JobSpec::Create {
            input_reference: None,
            characters: vec!["char_1".into()],
        },
        remixed_from_video_id: None,
        batch_id: None,
        priority: 0,
        max_attempts: 3,
        created_at: T0,
    }
}

pub(crate) fn completion(expires_at: i64) -> Completion {
    Completion {
        usage: Usage {
            seconds: 8,
            cost_usd: 0.8,
        },
        expires_at,
        media: MediaInfo {
            video_bytes: 1234,
            thumbnail_bytes: 56,
            spritesheet_bytes: 78,
            frames: 192,
            duration_s: 8.0,
        },
        seconds: 8,
    }
}

/// Expands to one `#[tokio::test]` per scenario, each on a fresh store from `$open`.
macro_rules! storage_story {
    ($open:expr) => {
        $crate::story::storage_story!(@ $open;
            jobs::complete_path, jobs::retry_then_terminal, jobs::fail_without_retry,
            jobs::stale_lease_after_reclaim, jobs::reclaim_out_of_attempts, queue::cancel,
            queue::release_owner, queue::claim_for_models, queue::queue_position_follows_claim_order,
            catalogue::idempotency, catalogue::duplicate_id, catalogue::delete,
            catalogue::expire_due, catalogue::characters, catalogue::count_by_status,
            catalogue::purge_idempotency_keys, catalogue::blob_deletions,
            batches::files, batches::batch_life, batches::batch_fairness, batches::batch_cancel,
            batches::batch_expiry, batches::batch_validation_failure, batches::batch_driver_lease,
            listing::pages_asc_desc, listing::project_isolation, listing::characters_pages,
            webhooks::webhook_endpoints, webhooks::webhook_declared, webhooks::webhook_rotation,
            webhooks::webhook_video_events, webhooks::webhook_delivery_lease,
            workers::worker_registry);
    };
    (@ $open:expr; $($module:ident :: $name:ident),+) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some((store, _guard)) = $crate::story::Opened::parts($open.await) else {
                    return;
                };
                $crate::story::$module::$name(store).await;
            }
        )+
    };
}
pub(crate) use storage_story;

/// What a backend's `$open` gives `storage_story!`: a store, or a store and a guard that cleans
/// up after the scenario (drops its database), or `None` when the backend was skipped on
/// purpose.
pub(crate) trait Opened {
    fn parts(self) -> Option<(Arc<dyn MetadataStore>, Box<dyn std::any::Any>)>;
}

impl Opened for Arc<dyn MetadataStore> {
    fn parts(self) -> Option<(Arc<dyn MetadataStore>, Box<dyn std::any::Any>)> {
        Some((self, Box::new(())))
    }
}

impl<G: 'static> Opened for Option<(Arc<dyn MetadataStore>, G)> {
    fn parts(self) -> Option<(Arc<dyn MetadataStore>, Box<dyn std::any::Any>)> {
        self.map(|(store, guard)| (store, Box::new(guard) as Box<dyn std::any::Any>))
    }
}
