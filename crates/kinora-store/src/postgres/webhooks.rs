//! Webhook endpoints and events on PostgreSQL, and the `WebhookStore` impl.
//!
//! `emit_event` runs inside the caller's transaction, so an event exists exactly when the state
//! change that causes it commits; when it records deliveries it also notifies `kinora_webhooks`
//! in that transaction, so every node's sender wakes at commit. The caller passes what it
//! returns to [`PostgresStore::emitted`] after committing, which wakes this node's sender
//! directly, as on SQLite, without waiting for the notification's round trip.

use std::sync::Arc;

use async_trait::async_trait;
use kinora_core::ids;
use serde_json::json;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::rows::{page_of, paging};
use super::{PostgresStore, WEBHOOK_CHANNEL, notify};
use crate::error::{Result, StoreError};
use crate::record::{Order, Page};
use crate::webhook::{
    AttemptOutcome, DeliveryRecord, DueDelivery, NewWebhookEndpoint, WebhookEndpointPatch,
    WebhookEndpointRecord, WebhookStore,
};

/// Serializes `sync_declared_webhooks` across nodes starting at once.
const SYNC_DECLARED_LOCK: i64 = 0x6b69_6e6f_7261_0002;

/// Records one event of `project` and a pending delivery for every enabled endpoint of that
/// project subscribed to `event_type` (nothing when there is none); returns whether it did.
/// `data` is the event's `data` object, e.g. `{"id": "video_…"}`; `now` is Unix seconds.
pub(crate) async fn emit_event(
    conn: &mut sqlx::PgConnection,
    project: &str,
    event_type: &str,
    data: serde_json::Value,
    now: i64,
) -> Result<bool> {
    let targets: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE project = $1 AND enabled \
           AND $2 = ANY(event_types) ORDER BY seq",
    )
    .bind(project)
    .bind(event_type)
    .fetch_all(&mut *conn)
    .await?;
    if targets.is_empty() {
        return Ok(false);
    }
    let id = ids::event_id();
    let body = json!({
        "id": id,
        "object": "event",
        "created_at": now,
        "type": event_type,
        "data": data,
    })
    .to_string();
    sqlx::query(
        "INSERT INTO webhook_events (id, project, type, created_at, body) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(project)
    .bind(event_type)
    .bind(now)
    .bind(&body)
    .execute(&mut *conn)
    .await?;
    // One pending delivery per endpoint, due at once; ids are `msg_` + 32 random hex digits.
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts, \
           created_at, next_attempt_at) \
         SELECT 'msg_' || replace(gen_random_uuid()::TEXT, '-', ''), endpoint, $2, 'pending', \
           0, $3, $4 \
         FROM unnest($1::TEXT[]) WITH ORDINALITY AS t (endpoint, n) ORDER BY n",
    )
    .bind(&targets)
    .bind(&id)
    .bind(now)
    .bind(now.saturating_mul(1000))
    .execute(&mut *conn)
    .await?;
    notify(conn, WEBHOOK_CHANNEL).await?;
    Ok(true)
}

/// `video.completed` / `video.failed` for one video: `data` is `{"id": video_id}`.
pub(crate) async fn emit_video_event(
    conn: &mut sqlx::PgConnection,
    project: &str,
    event_type: &str,
    video_id: &str,
    now: i64,
) -> Result<bool> {
    emit_event(conn, project, event_type, json!({ "id": video_id }), now).await
}

pub(super) const ENDPOINT_COLUMNS: &str = "id, project, name, url, event_types, secret, \
     previous_secret, previous_secret_until, declared, created_at, updated_at";

/// Written before a read-only endpoint is refused, so the server can say why.
const DECLARED: &str = "this webhook endpoint is declared in the server's settings file and is \
     read-only through the API";

pub(super) fn endpoint_from_row(row: &PgRow) -> Result<WebhookEndpointRecord> {
    Ok(WebhookEndpointRecord {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        event_types: row.try_get("event_types")?,
        secret: row.try_get("secret")?,
        previous_secret: row.try_get("previous_secret")?,
        previous_secret_until: row.try_get("previous_secret_until")?,
        declared: row.try_get("declared")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl PostgresStore {
    /// After a commit: wakes this node's webhook sender if the transaction recorded deliveries.
    pub(super) fn emitted(&self, emitted: bool) {
        if emitted {
            self.webhook_signal.notify_one();
        }
    }

    /// The endpoint of `project` for a write, locked until the transaction ends, or why it
    /// cannot be written.
    async fn writable_endpoint(
        conn: &mut sqlx::PgConnection,
        project: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project = $1 AND id = $2 \
             FOR UPDATE"
        ))
        .bind(project)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(endpoint) = row.as_ref().map(endpoint_from_row).transpose()? else {
            return Ok(None);
        };
        if endpoint.declared {
            return Err(StoreError::Conflict(DECLARED.into()));
        }
        Ok(Some(endpoint))
    }

    async fn insert_endpoint(
        conn: &mut sqlx::PgConnection,
        e: &NewWebhookEndpoint,
        declared: bool,
    ) -> Result<WebhookEndpointRecord> {
        let row = sqlx::query(&format!(
            "INSERT INTO webhook_endpoints (id, project, name, url, event_types, secret, \
               declared, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&e.id)
        .bind(&e.project)
        .bind(&e.name)
        .bind(&e.url)
        .bind(&e.event_types)
        .bind(&e.secret)
        .bind(declared)
        .bind(e.created_at)
        .fetch_one(&mut *conn)
        .await?;
        endpoint_from_row(&row)
    }

    async fn update_endpoint(
        &self,
        project: &str,
        id: &str,
        patch: WebhookEndpointPatch,
        now: i64,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let mut tx = self.pool.begin().await?;
        let Some(mut e) = Self::writable_endpoint(&mut tx, project, id).await? else {
            return Ok(None);
        };
        let before = e.clone();
        if let Some(name) = patch.name {
            e.name = name;
        }
        if let Some(url) = patch.url {
            e.url = url;
        }
        if let Some(types) = patch.event_types {
            e.event_types = types;
        }
        if e != before {
            e.updated_at = now;
            sqlx::query(
                "UPDATE webhook_endpoints SET name = $1, url = $2, event_types = $3, \
                   updated_at = $4 WHERE id = $5",
            )
            .bind(&e.name)
            .bind(&e.url)
            .bind(&e.event_types)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(e))
    }

    async fn remove_endpoint(&self, project: &str, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if Self::writable_endpoint(&mut tx, project, id)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        // The foreign key cascades to the endpoint's deliveries.
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn rotate_secret(
        &self,
        project: &str,
        id: &str,
        new_secret: &str,
        keep_previous_until: Option<i64>,
        now: i64,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let mut tx = self.pool.begin().await?;
        if Self::writable_endpoint(&mut tx, project, id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "UPDATE webhook_endpoints SET \
               previous_secret = CASE WHEN $1::BIGINT IS NULL THEN NULL ELSE secret END, \
               previous_secret_until = $1, secret = $2, updated_at = $3 \
             WHERE id = $4 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(keep_previous_until)
        .bind(new_secret)
        .bind(now)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let record = endpoint_from_row(&row)?;
        tx.commit().await?;
        Ok(Some(record))
    }

    async fn sync_declared(&self, endpoints: Vec<NewWebhookEndpoint>, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Nodes starting together each sync; one at a time, so none trips on another's insert.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SYNC_DECLARED_LOCK)
            .execute(&mut *tx)
            .await?;
        let keep: Vec<&str> = endpoints.iter().map(|e| e.id.as_str()).collect();
        sqlx::query("DELETE FROM webhook_endpoints WHERE declared AND NOT (id = ANY($1))")
            .bind(&keep)
            .execute(&mut *tx)
            .await?;
        for e in &endpoints {
            let updated = sqlx::query(
                "UPDATE webhook_endpoints SET project = $1, name = $2, url = $3, \
                   event_types = $4, secret = $5, previous_secret = NULL, \
                   previous_secret_until = NULL, \
                   updated_at = CASE WHEN project = $1 AND name = $2 AND url = $3 \
                     AND event_types = $4 AND secret = $5 THEN updated_at ELSE $6 END \
                 WHERE id = $7 AND declared",
            )
            .bind(&e.project)
            .bind(&e.name)
            .bind(&e.url)
            .bind(&e.event_types)
            .bind(&e.secret)
            .bind(now)
            .bind(&e.id)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                Self::insert_endpoint(&mut tx, e, true).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_webhook_endpoint(
        &self,
        e: NewWebhookEndpoint,
    ) -> Result<WebhookEndpointRecord> {
        let mut conn = self.pool.acquire().await?;
        Self::insert_endpoint(&mut conn, &e, false).await
    }

    async fn get_webhook_endpoint(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project = $1 AND id = $2"
        ))
        .bind(project)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    async fn list_webhook_endpoints(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<WebhookEndpointRecord>> {
        let cursor: Option<i64> = match after {
            Some(id) => Some(
                sqlx::query_scalar(
                    "SELECT seq FROM webhook_endpoints WHERE id = $1 AND project = $2",
                )
                .bind(id)
                .bind(project)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        let (cmp, dir) = paging(order);
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project = $1 \
               AND ($2::BIGINT IS NULL OR seq {cmp} $2) ORDER BY seq {dir} LIMIT $3"
        ))
        .bind(project)
        .bind(cursor)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        page_of(&rows, limit, endpoint_from_row)
    }

    async fn update_webhook_endpoint(
        &self,
        project: &str,
        id: &str,
        patch: WebhookEndpointPatch,
        now: i64,
    ) -> Result<Option<WebhookEndpointRecord>> {
        self.update_endpoint(project, id, patch, now).await
    }

    async fn delete_webhook_endpoint(&self, project: &str, id: &str) -> Result<bool> {
        self.remove_endpoint(project, id).await
    }

    async fn rotate_webhook_secret(
        &self,
        project: &str,
        id: &str,
        new_secret: &str,
        keep_previous_until: Option<i64>,
        now: i64,
    ) -> Result<Option<WebhookEndpointRecord>> {
        self.rotate_secret(project, id, new_secret, keep_previous_until, now)
            .await
    }

    async fn sync_declared_webhooks(
        &self,
        endpoints: Vec<NewWebhookEndpoint>,
        now: i64,
    ) -> Result<()> {
        self.sync_declared(endpoints, now).await
    }

    async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        self.claim_deliveries(now_ms, lease_ms, limit).await
    }

    async fn record_webhook_attempt(
        &self,
        delivery_id: &str,
        lease_id: &str,
        outcome: AttemptOutcome,
        now_ms: i64,
    ) -> Result<()> {
        self.record_attempt(delivery_id, lease_id, outcome, now_ms)
            .await
    }

    async fn list_webhook_deliveries(
        &self,
        project: &str,
        endpoint_id: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<DeliveryRecord>> {
        self.list_deliveries(project, endpoint_id, after, limit, order)
            .await
    }

    fn webhook_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.webhook_signal)
    }
}
