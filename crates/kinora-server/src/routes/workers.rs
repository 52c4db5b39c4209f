//! `GET /v1/workers` (Kinora extension): the remote workers that serve this cluster's queue,
//! from the store's registry, so any API node answers for all of them. The studio's Operations
//! page shows it.

use axum::Json;
use axum::extract::State;
use kinora_core::clock;
use kinora_store::WorkerSeen;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use crate::auth::Project;
use crate::error::{ApiResult, ErrorResponse};
use crate::state::AppState;
use crate::view::constant;

/// A worker not heard from for this long (no lease poll, no heartbeat) is no longer listed: a
/// poll comes at least every 30 s and a heartbeat every third of a lease.
pub const PRESENT_FOR_MS: i64 = 120_000;

fn object_worker() -> Object {
    constant("worker")
}

fn object_list() -> Object {
    constant("list")
}

/// A registered remote worker (Kinora extension).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Worker)]
pub struct WorkerView {
    #[schema(examples("wkr_gpu-0_4f2a9c1b7d3e"))]
    pub id: String,
    #[schema(schema_with = object_worker)]
    pub object: &'static str,
    /// The name it registered with (host, GPU index).
    pub name: String,
    /// The engine pool it serves: `builtin` or a pool of `[[remote_models]]`.
    pub pool: String,
    /// The models it takes jobs for.
    pub models: Vec<String>,
    /// Its software and version, as it reported them.
    pub version: Option<String>,
    /// Unix seconds.
    pub registered_at: i64,
    /// Unix seconds of its last lease poll or heartbeat.
    pub last_seen_at: i64,
    /// Jobs it renders now (of every project; their ids are not shown).
    pub running_jobs: u64,
    /// `busy` while it holds a job, else `idle`.
    #[schema(examples("busy", "idle"))]
    pub status: &'static str,
}

/// `GET /v1/workers`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerList {
    #[schema(schema_with = object_list)]
    pub object: &'static str,
    /// Remote workers heard from in the last two minutes, or holding a job, in registration
    /// order.
    pub data: Vec<WorkerView>,
    /// How many built-in engine workers run inside the node that answered.
    pub in_process_workers: usize,
}

fn view(w: WorkerSeen) -> WorkerView {
    WorkerView {
        object: "worker",
        status: if w.running_jobs > 0 { "busy" } else { "idle" },
        registered_at: w.worker.registered_at_ms / 1000,
        last_seen_at: w.last_seen_ms / 1000,
        running_jobs: w.running_jobs,
        id: w.worker.id,
        name: w.worker.name,
        pool: w.worker.pool,
        models: w.worker.models,
        version: w.worker.version,
    }
}

/// Remote workers (Kinora extension)
///
/// The GPU and built-in workers that registered with any node of this cluster and are present
/// now. Workers are shared by every project, so this lists no job ids.
#[utoipa::path(
    get,
    path = "/v1/workers",
    operation_id = "list_workers",
    tag = "Workers",
    responses(
        (status = 200, description = "The workers present now.", body = WorkerList),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 503, description = "The metadata store is unreachable.", body = ErrorResponse),
    ),
)]
pub async fn list(State(state): State<AppState>, _project: Project) -> ApiResult<Json<WorkerList>> {
    let since = clock::now_millis() - PRESENT_FOR_MS;
    let seen = state.store.list_workers(since).await?;
    Ok(Json(WorkerList {
        object: "list",
        data: seen.into_iter().map(view).collect(),
        in_process_workers: state.settings.worker_count(),
    }))
}
