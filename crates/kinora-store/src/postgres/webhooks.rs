//! Webhook events on PostgreSQL, and the `WebhookStore` impl (endpoints are in `endpoints`,
//! deliveries in `deliveries`).
//!
//! `emit_event` runs inside the caller's transaction, so an event exists exactly when the state
//! change that causes it commits; when it records deliveries it also notifies `kinora_webhooks`
//! in that transaction, so every node's sender wakes at commit. The caller passes what it
//! returns to [`PostgresStore::emitted`] after committing, which wakes this node's sender
//! directly, as on SQLite, without waiting for the notification's round trip.

use std::sync::Arc;

use super::{PostgresStore, WEBHOOK_CHANNEL, notify};
use crate::error::{Result, StoreError};
use crate::record::{Order, Page};
use crate::sql::rows::{ENDPOINT_COLUMNS, endpoint_from_row};
use crate::sql::{page_of, paging};
use crate::webhook::{
    AttemptOutcome, DeliveryRecord, DueDelivery, NewWebhookEndpoint, WebhookEndpointPatch,
    WebhookEndpointRecord, WebhookStore,
};
use async_trait::async_trait;
use kinora_core::ids;
use serde_json::json;

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

impl PostgresStore {
    /// After a commit: wakes this node's webhook sender if the transaction recorded deliveries.
    pub(super) fn emitted(&self, emitted: bool) {
        if emitted {
            self.webhook_signal.notify_one();
        }
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
