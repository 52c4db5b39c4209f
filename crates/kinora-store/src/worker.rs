//! The registry of remote workers: who registered, which pool and models, when each was last
//! heard from, and how many jobs each holds now. It is what the studio's Operations page and
//! `GET /v1/workers` show; nothing in the queue depends on it (a lease names its owner itself).
//!
//! Unlike the older verbs, each statement and each verb's body is written once here, in the `$N`
//! placeholder form both sqlx drivers accept; each backend only stamps the verbs onto its type
//! with `worker_store!`. This is the shape issue 17 proposes for the rest of the store.

use async_trait::async_trait;
use sqlx::FromRow;

use crate::error::{Result, StoreError};

/// A worker as it registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerRecord {
    /// `wkr_<name>_<suffix>`, as `/internal/v1/workers/register` answered.
    pub id: String,
    pub name: String,
    pub pool: String,
    pub models: Vec<String>,
    pub version: Option<String>,
    /// Unix milliseconds.
    pub registered_at_ms: i64,
}

/// A registered worker with what the store knows of it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerSeen {
    pub worker: WorkerRecord,
    /// The later of its last register/lease call and its last heartbeat on a running job.
    pub last_seen_ms: i64,
    /// Jobs it holds a lease on now.
    pub running_jobs: u64,
}

#[async_trait]
pub trait WorkerStore: Send + Sync {
    /// Records a registration; registering the same id again refreshes it.
    async fn record_worker(&self, w: &WorkerRecord) -> Result<()>;
    /// Notes that the worker called (a lease poll). Unknown ids are ignored: a worker registered
    /// before the registry existed is still served, just not listed.
    async fn touch_worker(&self, id: &str, now_ms: i64) -> Result<()>;
    /// Workers heard from at or after `since_ms`, or holding a running job, in registration
    /// order.
    async fn list_workers(&self, since_ms: i64) -> Result<Vec<WorkerSeen>>;
    /// Forgets workers not heard from since `before_ms` and holding no job; returns how many.
    async fn forget_workers(&self, before_ms: i64) -> Result<u64>;
}

pub(crate) const UPSERT: &str = "INSERT INTO workers (id, name, pool, models, version, registered_at, \
                      last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                      ON CONFLICT (id) DO UPDATE SET models = excluded.models, \
                      version = excluded.version, last_seen_at = excluded.last_seen_at";

pub(crate) const TOUCH: &str =
    "UPDATE workers SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2";

/// Running jobs are joined in, so a worker busy on one long render (which heartbeats but does
/// not poll) still reads as present.
pub(crate) const LIST: &str = "SELECT w.id, w.name, w.pool, w.models, w.version, w.registered_at, \
                    w.last_seen_at, COUNT(v.id) AS running_jobs, \
                    MAX(v.heartbeat_at) AS last_heartbeat \
                    FROM workers w LEFT JOIN videos v \
                    ON v.lease_owner = w.id AND v.status = 'in_progress' \
                    GROUP BY w.id, w.name, w.pool, w.models, w.version, w.registered_at, \
                    w.last_seen_at \
                    HAVING w.last_seen_at >= $1 OR COUNT(v.id) > 0 \
                    ORDER BY w.registered_at, w.id";

pub(crate) const FORGET: &str = "DELETE FROM workers WHERE last_seen_at < $1 AND NOT EXISTS \
                      (SELECT 1 FROM videos v WHERE v.lease_owner = workers.id \
                      AND v.status = 'in_progress')";

#[derive(FromRow)]
pub(crate) struct WorkerRow {
    id: String,
    name: String,
    pool: String,
    models: String,
    version: Option<String>,
    registered_at: i64,
    last_seen_at: i64,
    running_jobs: i64,
    last_heartbeat: Option<i64>,
}

impl TryFrom<WorkerRow> for WorkerSeen {
    type Error = StoreError;

    fn try_from(r: WorkerRow) -> Result<Self> {
        let models = serde_json::from_str(&r.models)
            .map_err(|e| StoreError::Backend(format!("worker {}: models: {e}", r.id)))?;
        Ok(WorkerSeen {
            last_seen_ms: r.last_seen_at.max(r.last_heartbeat.unwrap_or(0)),
            running_jobs: u64::try_from(r.running_jobs).unwrap_or(0),
            worker: WorkerRecord {
                id: r.id,
                name: r.name,
                pool: r.pool,
                models,
                version: r.version,
                registered_at_ms: r.registered_at,
            },
        })
    }
}

/// Implements [`WorkerStore`] for a backend from the statements above: one body, stamped per
/// backend (as vaultwarden's `db_run!` does), because sqlx's generic-database bounds would
/// outweigh the four verbs they serve. `$write` and `$read` name the backend's pools.
macro_rules! worker_store {
    ($store:ty, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl $crate::worker::WorkerStore for $store {
            async fn record_worker(&self, w: &$crate::worker::WorkerRecord) -> $crate::Result<()> {
                let models = serde_json::to_string(&w.models)
                    .map_err(|e| $crate::StoreError::Backend(format!("worker models: {e}")))?;
                sqlx::query($crate::worker::UPSERT)
                    .bind(&w.id)
                    .bind(&w.name)
                    .bind(&w.pool)
                    .bind(models)
                    .bind(&w.version)
                    .bind(w.registered_at_ms)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }
            async fn touch_worker(&self, id: &str, now_ms: i64) -> $crate::Result<()> {
                sqlx::query($crate::worker::TOUCH)
                    .bind(id)
                    .bind(now_ms)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }
            async fn list_workers(
                &self,
                since_ms: i64,
            ) -> $crate::Result<Vec<$crate::worker::WorkerSeen>> {
                sqlx::query_as::<_, $crate::worker::WorkerRow>($crate::worker::LIST)
                    .bind(since_ms)
                    .fetch_all(&self.$read)
                    .await?
                    .into_iter()
                    .map($crate::worker::WorkerSeen::try_from)
                    .collect()
            }
            async fn forget_workers(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::worker::FORGET)
                    .bind(before_ms)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use worker_store;
