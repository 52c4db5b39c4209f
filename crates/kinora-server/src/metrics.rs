//! Prometheus metrics: jobs by outcome, render time, queue depth (read from the store at scrape
//! time, so every node reports the shared queue), HTTP latency by route.

use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kinora_core::VideoStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub method: String,
    pub route: String,
    pub code: u16,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub jobs_created: Counter,
    pub jobs_cancelled: Counter,
    /// Store reads by live-progress feeds: one per change or fallback poll of a watched video,
    /// however many watch it.
    pub progress_reads: Counter,
    finished: Family<StatusLabel, Counter>,
    pub render_seconds: Histogram,
    videos: Family<StatusLabel, Gauge>,
    http: Family<RouteLabel, Histogram>,
    webhook_attempts: Family<OutcomeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kinora");
        let jobs_created = Counter::default();
        let jobs_cancelled = Counter::default();
        let progress_reads = Counter::default();
        let finished = Family::<StatusLabel, Counter>::default();
        let render_seconds = Histogram::new(exponential_buckets(0.25, 2.0, 12));
        let videos = Family::<StatusLabel, Gauge>::default();
        let http = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "jobs_created",
            "Video jobs accepted into the queue",
            jobs_created.clone(),
        );
        registry.register(
            "jobs_cancelled",
            "Queued video jobs cancelled",
            jobs_cancelled.clone(),
        );
        registry.register(
            "jobs_finished",
            "Video jobs that reached a terminal state on this node",
            finished.clone(),
        );
        registry.register(
            "render_seconds",
            "Wall time of one render attempt",
            render_seconds.clone(),
        );
        registry.register(
            "videos",
            "Videos in the store by status (includes the queue depth as status=queued)",
            videos.clone(),
        );
        registry.register(
            "progress_store_reads",
            "Store reads by live-progress feeds (GET /v1/videos/{id}/events), shared by all watchers",
            progress_reads.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome (delivered, retrying, failed)",
            webhook_attempts.clone(),
        );
        registry.register(
            "http_request_seconds",
            "HTTP request latency by route",
            http.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            jobs_created,
            jobs_cancelled,
            progress_reads,
            finished,
            render_seconds,
            videos,
            http,
            webhook_attempts,
        }
    }
}

impl Metrics {
    pub fn webhook_attempt(&self, outcome: &str) {
        self.webhook_attempts
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn jobs_finished(&self, status: VideoStatus) {
        self.finished
            .get_or_create(&StatusLabel {
                status: status.as_str().to_string(),
            })
            .inc();
    }
}

pub async fn track_http(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    if resp
        .extensions()
        .get::<crate::health::DiskFault>()
        .is_some()
    {
        state
            .health
            .fault_for(crate::health::Part::Database, crate::health::DISK_FAULT_TTL);
    } else if resp.status().is_success() && !matches!(method.as_str(), "GET" | "HEAD") {
        // A write went through: the disk has room again.
        state.health.clear(crate::health::Part::Database);
    }
    state
        .metrics
        .http
        .get_or_create(&RouteLabel {
            method,
            route,
            code: resp.status().as_u16(),
        })
        .observe(start.elapsed().as_secs_f64());
    resp
}

/// Prometheus metrics
///
/// Jobs by status, render seconds, queue depth and HTTP latency, in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "OpenMetrics text.", content_type = "application/openmetrics-text")),
)]
pub async fn render(State(state): State<AppState>) -> Response {
    if let Ok(counts) = state.store.count_by_status().await {
        for s in VideoStatus::ALL {
            let n = counts
                .iter()
                .find(|(st, _)| *st == s)
                .map_or(0, |(_, n)| *n);
            state
                .metrics
                .videos
                .get_or_create(&StatusLabel {
                    status: s.as_str().to_string(),
                })
                .set(n as i64);
        }
    }
    let mut out = String::new();
    let encoded = match state.metrics.registry.lock() {
        Ok(reg) => prometheus_client::encoding::text::encode(&mut out, &reg).is_ok(),
        Err(_) => false,
    };
    if !encoded {
        return crate::error::ApiError::internal("metrics encoding failed").into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
