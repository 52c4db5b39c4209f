//! `AppState`: what every handler and worker shares, chosen once at start-up.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kinora_core::Catalogue;
use kinora_render::CancelToken;
use kinora_store::{BlobStore, MetadataStore};
use tokio::sync::Notify;

use crate::auth::Auth;
use crate::metrics::Metrics;
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub store: Arc<dyn MetadataStore>,
    pub blobs: BlobStore,
    pub catalogue: Catalogue,
    /// The catalogue's models the built-in engine renders: what in-process workers claim.
    pub builtin_models: Vec<String>,
    pub auth: Auth,
    /// Scratch space for uploads and renders, on the same disk as the data.
    pub tmp_dir: PathBuf,
    /// Wakes idle workers when a job is enqueued, so a new job does not wait for the poll.
    pub wake: Notify,
    /// Wakes the batch driver when a batch is created or cancelled, or one of its jobs ends.
    pub batch_wake: Notify,
    /// Shared snapshot of queue positions, so polling clients do not each count the queue.
    pub queue_ranks: crate::queue_ranks::QueueRanks,
    /// Live progress feeds for `/v1/videos/{id}/events`; write paths call `progress.changed`.
    pub progress: crate::progress::ProgressHub,
    /// Each built-in video's reading of its prompt, so reads do not re-read the prompt.
    pub interpretations: crate::interpretation::Cache,
    /// Jobs rendering in this process, so a cancel takes effect without waiting for a heartbeat.
    pub running: Mutex<HashMap<String, CancelToken>>,
    pub metrics: Metrics,
    /// Node-level faults (a full or read-only disk), for `/readyz` and the workers.
    pub health: crate::health::Health,
    /// Identifies this process in lease owners; restarts get a new one.
    pub node_id: String,
    /// The store's signal that webhook events were emitted; wakes the delivery loop.
    pub webhook_wake: Arc<Notify>,
    /// The webhook HTTP client, behind the egress policy.
    pub webhook_sender: crate::webhooks::sender::Sender,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }

    /// The worker pool that renders `model` (the built-in engine for unknown ids).
    pub fn pool_of(&self, model: &str) -> String {
        self.catalogue
            .get(model)
            .map_or_else(|| "builtin".to_string(), |m| m.engine.clone())
    }

    pub fn cancel_local(&self, id: &str) {
        if let Ok(map) = self.running.lock()
            && let Some(token) = map.get(id)
        {
            token.cancel();
        }
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
