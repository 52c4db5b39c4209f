//! The PostgreSQL backend: a connection pool shared by many nodes, each running its own workers.
//!
//! Every verb keeps the SQLite backend's meaning; what changes is how concurrent writers are kept
//! apart. SQLite has one writer; here claims lock their row with `FOR UPDATE SKIP LOCKED`, so
//! many nodes claim at once without waiting on each other or leasing one job twice, and
//! read-then-write verbs lock what they read (`FOR UPDATE`, or a transaction-scoped advisory lock
//! where the row may not exist yet).
//!
//! Waking: a transaction that makes a job claimable also runs `pg_notify('kinora_queue')`, one
//! that records webhook deliveries `pg_notify('kinora_webhooks')`. The `listener` task turns
//! those into [`tokio::sync::Notify`] wakeups on every node; the workers' poll stays as fallback.
//!
//! Resilience: sqlx reconnects the pool lazily, so after a PostgreSQL restart the next call gets
//! a fresh connection; calls during the outage fail with the retryable
//! [`StoreError::Unavailable`](crate::StoreError::Unavailable).
//!
//! Layout: `queue` (claim, heartbeat, finish, reclaim), `listener` (LISTEN → Notify); every
//! other verb is the shared SQL in `crate::sql`, stamped here by `store_verbs!` over the few
//! hooks below (`begin_write`, `lock_key`, `wake_queue_in`, `wake_webhooks_in`, `text_list` and
//! two list tests).

mod listener;
mod queue;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::Notify;

use crate::error::{Result, StoreError};
use crate::metadata::MetadataStore;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Channel notified inside every transaction that makes a job claimable.
pub(crate) const QUEUE_CHANNEL: &str = "kinora_queue";
/// Channel notified inside every transaction that records webhook deliveries.
pub(crate) const WEBHOOK_CHANNEL: &str = "kinora_webhooks";

const MAX_CONNECTIONS: u32 = 16;
/// How long a call waits for a pool connection; during an outage this bounds each failure.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct PostgresStore {
    pub(crate) pool: PgPool,
    webhook_signal: Arc<Notify>,
    queue_signal: Arc<Notify>,
    listener: tokio::task::JoinHandle<()>,
}

/// Connects to `url` (`postgres://…`), brings the schema up to date and starts listening for
/// other nodes' wakeups.
pub async fn open_postgres(url: &str) -> Result<Arc<dyn MetadataStore>> {
    Ok(Arc::new(PostgresStore::open(url).await?))
}

impl PostgresStore {
    async fn close_pools(&self) {
        self.listener.abort();
        self.pool.close().await;
    }

    /// Woken by NOTIFY when any node makes a job claimable.
    fn queue_wake(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.queue_signal))
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Serialises transactions on one (scope, key) until they end: a row lock cannot, because
    /// the key's row may not exist yet. (SQLite gets this from its single writer.)
    async fn lock_key(conn: &mut sqlx::PgConnection, scope: &str, key: &str) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
            .bind(scope)
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Every node's workers hear of the new job when the transaction commits.
    async fn wake_queue_in(conn: &mut sqlx::PgConnection) -> Result<()> {
        notify(conn, QUEUE_CHANNEL).await
    }

    /// Every node's sender hears of the new deliveries when the transaction commits.
    async fn wake_webhooks_in(conn: &mut sqlx::PgConnection) -> Result<()> {
        notify(conn, WEBHOOK_CHANNEL).await
    }

    /// A text list as PostgreSQL stores it: `TEXT[]`.
    fn text_list(items: &[String]) -> Result<Vec<String>> {
        Ok(items.to_vec())
    }

    /// The endpoint's `event_types` holds `$2`.
    const SUBSCRIBED: &str = "$2 = ANY(event_types)";
    /// `id` is not in the list bound as `$1`.
    const NOT_LISTED: &str = "NOT (id = ANY($1))";

    pub async fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection that died with a server restart is found out before a verb uses it.
            .test_before_acquire(true)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let webhook_signal = Arc::new(Notify::new());
        let queue_signal = Arc::new(Notify::new());
        let listener = tokio::spawn(listener::run(
            options,
            Arc::clone(&queue_signal),
            Arc::clone(&webhook_signal),
        ));
        Ok(Self {
            pool,
            webhook_signal,
            queue_signal,
            listener,
        })
    }

    /// True when no table of the schema holds a row: the target `kinora migrate` accepts.
    pub async fn is_empty(&self) -> Result<bool> {
        let any: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM videos) OR EXISTS (SELECT 1 FROM characters) \
               OR EXISTS (SELECT 1 FROM files) OR EXISTS (SELECT 1 FROM batches) \
               OR EXISTS (SELECT 1 FROM webhook_endpoints) OR EXISTS (SELECT 1 FROM webhook_events) \
               OR EXISTS (SELECT 1 FROM idempotency_keys) OR EXISTS (SELECT 1 FROM blob_deletions)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(!any)
    }

    /// The pool, for `kinora migrate`'s bulk copy.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Queued in the caller's transaction: PostgreSQL delivers it to every listener at commit, and
/// never when the transaction rolls back.
pub(crate) async fn notify(conn: &mut sqlx::PgConnection, channel: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(())
}

crate::sql::store_verbs!(
    PostgresStore,
    sqlx::postgres::PgRow,
    sqlx::PgConnection,
    write = pool,
    read = pool,
    for_update = " FOR UPDATE",
    skip_locked = " FOR UPDATE SKIP LOCKED",
    greatest = "GREATEST"
);

#[cfg(test)]
pub(crate) mod test_db;
#[cfg(test)]
mod tests;
