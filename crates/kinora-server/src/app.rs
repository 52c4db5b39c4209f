//! Opening a node: stores, state, router, workers; and closing it without losing a job.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use kinora_core::{Catalogue, clock};
use kinora_store::BlobStore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::metrics::{self, Metrics};
use crate::routes;
use crate::settings::Settings;
use crate::state::{AppState, Inner};

pub struct App {
    pub state: AppState,
}

#[derive(Clone, Copy)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        kinora_core::ids::request_id()
            .parse()
            .ok()
            .map(RequestId::new)
    }
}

/// A node's stable name, kept in its data directory, so after a crash the restarted node can hand
/// back the jobs its previous life was holding instead of waiting for their leases to lapse.
fn node_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("node-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_string();
        if !id.is_empty() {
            return Ok(id);
        }
    }
    let id = format!("node_{}", &kinora_core::ids::lease_id()[6..22]);
    std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}

fn catalogue(settings: &Settings) -> anyhow::Result<Catalogue> {
    let mut c = Catalogue::builtin();
    for (alias, target) in &settings.model_aliases {
        let mut spec = c
            .get(target)
            .with_context(|| {
                format!("model_aliases: '{alias}' points at unknown model '{target}'")
            })?
            .clone();
        spec.id = alias.clone();
        c.models.push(spec);
    }
    crate::worker::config::add_remote_models(&mut c, &settings.remote_models)
        .map_err(anyhow::Error::msg)?;
    Ok(c)
}

/// Makes the store's declared endpoints exactly the settings file's `[[webhooks]]`.
async fn sync_declared_webhooks(
    settings: &Settings,
    store: &dyn kinora_store::MetadataStore,
) -> anyhow::Result<()> {
    crate::webhooks::config::check_declared(&settings.webhooks).map_err(anyhow::Error::msg)?;
    let now = clock::now_unix();
    let declared = settings
        .webhooks
        .iter()
        .map(|h| kinora_store::NewWebhookEndpoint {
            id: h.id(),
            project: h.project.clone(),
            name: h.name.clone().unwrap_or_else(|| h.url.clone()),
            url: h.url.clone(),
            event_types: h.event_types.clone(),
            secret: h.secret.0.clone(),
            created_at: now,
        })
        .collect();
    store
        .sync_declared_webhooks(declared, now)
        .await
        .context("installing the webhook endpoints declared in the settings file")
}

/// Jobs made claimable by other nodes sharing the store (PostgreSQL) wake this node's workers at
/// once; the workers' poll remains the fallback. `None` for a store only this process writes.
fn forward_queue_signal(
    state: &AppState,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let signal = state.store.queue_signal()?;
    let state = state.clone();
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = signal.notified() => state.wake.notify_waiters(),
            }
        }
    }))
}

impl App {
    pub async fn open(settings: Settings) -> anyhow::Result<App> {
        let data = settings.data_dir.clone();
        std::fs::create_dir_all(&data)
            .with_context(|| format!("creating data dir {}", data.display()))?;
        let tmp_dir = data.join("tmp");
        // Scratch from a previous life is garbage: its jobs are re-rendered from the queue.
        let _ = std::fs::remove_dir_all(&tmp_dir);
        std::fs::create_dir_all(&tmp_dir)?;
        let store = match &settings.database_url {
            Some(url) => kinora_store::open_postgres(&url.0)
                .await
                .context("opening the PostgreSQL metadata store (database_url)")?,
            None => kinora_store::open_sqlite(&data.join("kinora.db"))
                .await
                .context("opening the metadata store")?,
        };
        let blobs = match &settings.blob_url {
            Some(url) => BlobStore::from_url(url, &settings.s3.to_config())
                .with_context(|| format!("opening the blob store at {url}"))?,
            None => BlobStore::local(&data.join("blobs")).context("opening the blob store")?,
        };
        sync_declared_webhooks(&settings, store.as_ref()).await?;
        let delivery = &settings.webhook_delivery;
        let webhook_sender = crate::webhooks::sender::Sender::new(
            Duration::from_secs(delivery.timeout_seconds),
            delivery.danger_allow_private,
        )
        .context("building the webhook HTTP client")?;
        let webhook_wake = store.webhook_signal();
        let node_id = node_id(&data)?;
        let released = store
            .release_owner(&format!("{node_id}/"), clock::now_millis())
            .await?;
        if released > 0 {
            tracing::info!(
                jobs = released,
                "re-queued jobs this node held before it stopped"
            );
        }
        let catalogue = catalogue(&settings)?;
        let builtin_models =
            crate::worker::config::pool_models(&catalogue, crate::worker::config::BUILTIN_POOL);
        let state = AppState::new(Inner {
            catalogue,
            builtin_models,
            auth: Auth::from_settings(&settings),
            settings,
            store,
            blobs,
            tmp_dir,
            wake: Default::default(),
            batch_wake: Default::default(),
            queue_ranks: Default::default(),
            progress: Default::default(),
            interpretations: Default::default(),
            running: Default::default(),
            metrics: Metrics::default(),
            health: Default::default(),
            node_id,
            webhook_wake,
            webhook_sender,
        });
        Ok(App { state })
    }

    pub fn router(&self) -> Router {
        let s = &self.state.settings;
        let request_id = HeaderName::from_static("x-request-id");
        let timeout = |seconds: u64| {
            TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(seconds),
            )
        };
        let public = Router::new()
            .nest("/v1", routes::v1())
            .route("/healthz", get(routes::ops::healthz))
            .route("/readyz", get(routes::ops::readyz))
            .route("/metrics", get(metrics::render))
            .route("/openapi.json", get(crate::openapi::document))
            .route("/", get(crate::studio::index))
            .route("/studio/{*path}", get(crate::studio::asset))
            .fallback(routes::ops::not_found)
            .layer(timeout(s.request_timeout_seconds));
        // Workers' calls get their own, longer bound: `complete` validates and stores a whole
        // clip before it answers, and a handler cut off midway would throw that work away.
        let internal = Router::new()
            .nest("/internal/v1", crate::worker::routes::router())
            .layer(timeout(
                s.request_timeout_seconds
                    .max(crate::worker::routes::CALL_LIMIT_SECONDS),
            ));
        public
            .merge(internal)
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                metrics::track_http,
            ))
            .layer(DefaultBodyLimit::max(s.max_upload_bytes))
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                crate::envelope::refuse_oversized,
            ))
            .layer(axum::middleware::from_fn(crate::envelope::envelope))
            .layer(TraceLayer::new_for_http())
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(SetRequestIdLayer::new(request_id, MakeId))
            .with_state(self.state.clone())
    }

    /// Serves until `shutdown` resolves, then stops taking jobs, stops renders in flight and
    /// hands their jobs back to the queue, so another node (or this one, restarted) runs them.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let workers = crate::jobs::runner::spawn_workers(
            &self.state,
            self.state.settings.worker_count(),
            stop.clone(),
        );
        let sweeper = crate::jobs::sweeper::spawn(&self.state, stop.clone());
        let webhooks = crate::webhooks::delivery::spawn(&self.state, stop.clone());
        let batches = crate::jobs::batches::spawn(&self.state, stop.clone());
        let queue_wake = forward_queue_signal(&self.state, stop.clone());
        let router = self.router();
        // Progress streams end first, so watchers do not hold a graceful shutdown open.
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            state.progress.close();
        };
        let limits = self.state.settings.connections.clone();
        let result = crate::serve::serve(listener, router, &limits, shutdown).await;
        stop.cancel();
        for w in workers {
            let _ = w.await;
        }
        let _ = sweeper.await;
        let _ = webhooks.await;
        let _ = batches.await;
        if let Some(task) = queue_wake {
            let _ = task.await;
        }
        let released = self
            .state
            .store
            .release_owner(&format!("{}/", self.state.node_id), clock::now_millis())
            .await?;
        tracing::info!(
            jobs = released,
            "shut down; in-flight jobs returned to the queue"
        );
        result.context("serving HTTP")
    }
}
