//! Webhook endpoints, events and their durable deliveries on SQLite.
//!
//! `emit_event` runs inside the caller's transaction, so an event exists exactly when the state
//! change that causes it commits. Each subscribed endpoint gets its own delivery row whose id is
//! the Standard Webhooks `webhook-id`, minted once and so stable across retries. A caller that
//! emits calls `self.webhook_signal.notify_one()` after its commit so delivery starts at once.
//!
//! Layout: this file (emitting, endpoints, the `WebhookStore` impl), `deliveries` (claim, attempt,
//! log).

mod deliveries;

use std::sync::Arc;

use async_trait::async_trait;
use kinora_core::ids;
use serde_json::json;
use sqlx::SqlitePool;

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::record::{Order, Page};
use crate::sql::rows::{DELIVERY_COLUMNS, ENDPOINT_COLUMNS, delivery_from_row, endpoint_from_row};
use crate::sql::to_json;
use crate::webhook::{
    AttemptOutcome, DeliveryRecord, DueDelivery, NewWebhookEndpoint, WebhookEndpointPatch,
    WebhookEndpointRecord, WebhookStore,
};

/// Records one event of `project` and a pending delivery for every enabled endpoint of that
/// project subscribed to `event_type` (nothing when there is none). `data` is the event's
/// `data` object, e.g. `{"id": "video_…"}`; `now` is Unix seconds.
pub(crate) async fn emit_event(
    conn: &mut sqlx::SqliteConnection,
    project: &str,
    event_type: &str,
    data: serde_json::Value,
    now: i64,
) -> Result<()> {
    let targets: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE project = ?1 AND enabled = 1 \
           AND EXISTS (SELECT 1 FROM json_each(event_types) WHERE value = ?2)",
    )
    .bind(project)
    .bind(event_type)
    .fetch_all(&mut *conn)
    .await?;
    if targets.is_empty() {
        return Ok(());
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
        "INSERT INTO webhook_events (id, project, type, created_at, body) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(project)
    .bind(event_type)
    .bind(now)
    .bind(&body)
    .execute(&mut *conn)
    .await?;
    for endpoint in targets {
        insert_delivery(conn, &endpoint, &id, now).await?;
    }
    Ok(())
}

/// A pending delivery, due at once. The id is random (`msg_` + 32 hex digits).
async fn insert_delivery(
    conn: &mut sqlx::SqliteConnection,
    endpoint_id: &str,
    event_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts, \
           created_at, next_attempt_at) \
         VALUES ('msg_' || lower(hex(randomblob(16))), ?, ?, 'pending', 0, ?, ?)",
    )
    .bind(endpoint_id)
    .bind(event_id)
    .bind(now)
    .bind(now.saturating_mul(1000))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `video.completed` / `video.failed` for one video: `data` is `{"id": video_id}`.
pub(crate) async fn emit_video_event(
    conn: &mut sqlx::SqliteConnection,
    project: &str,
    event_type: &str,
    video_id: &str,
    now: i64,
) -> Result<()> {
    emit_event(conn, project, event_type, json!({ "id": video_id }), now).await
}

/// Written before a read-only endpoint is refused, so the server can say why.
const DECLARED: &str = "this webhook endpoint is declared in the server's settings file and is \
     read-only through the API";

/// The seq `sql` finds for `id` within `scope` (bound in that order); `NotFound` if none.
async fn cursor_seq(pool: &SqlitePool, sql: &str, scope: &str, id: &str) -> Result<i64> {
    sqlx::query_scalar(sql)
        .bind(id)
        .bind(scope)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
}

fn paging(order: Order) -> (&'static str, &'static str) {
    match order {
        Order::Asc => (">", "ASC"),
        Order::Desc => ("<", "DESC"),
    }
}

impl SqliteStore {
    /// The endpoint of `project` for a write, or why it cannot be written.
    async fn writable_endpoint(
        conn: &mut sqlx::SqliteConnection,
        project: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project = ? AND id = ?"
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
        conn: &mut sqlx::SqliteConnection,
        e: &NewWebhookEndpoint,
        declared: bool,
    ) -> Result<WebhookEndpointRecord> {
        let row = sqlx::query(&format!(
            "INSERT INTO webhook_endpoints (id, project, name, url, event_types, secret, \
               declared, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&e.id)
        .bind(&e.project)
        .bind(&e.name)
        .bind(&e.url)
        .bind(to_json("event_types", &e.event_types)?)
        .bind(&e.secret)
        .bind(i64::from(declared))
        .bind(e.created_at)
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
        let mut tx = self.writer.begin().await?;
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
                "UPDATE webhook_endpoints SET name = ?, url = ?, event_types = ?, updated_at = ? \
                 WHERE id = ?",
            )
            .bind(&e.name)
            .bind(&e.url)
            .bind(to_json("event_types", &e.event_types)?)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(e))
    }

    async fn remove_endpoint(&self, project: &str, id: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        if Self::writable_endpoint(&mut tx, project, id)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        // The foreign key cascades to the endpoint's deliveries.
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?")
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
        let mut tx = self.writer.begin().await?;
        if Self::writable_endpoint(&mut tx, project, id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "UPDATE webhook_endpoints SET \
               previous_secret = CASE WHEN ?1 IS NULL THEN NULL ELSE secret END, \
               previous_secret_until = ?1, secret = ?2, updated_at = ?3 \
             WHERE id = ?4 RETURNING {ENDPOINT_COLUMNS}"
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
        let mut tx = self.writer.begin().await?;
        let keep: Vec<&str> = endpoints.iter().map(|e| e.id.as_str()).collect();
        sqlx::query(
            "DELETE FROM webhook_endpoints WHERE declared = 1 \
               AND id NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(to_json("declared ids", &keep)?)
        .execute(&mut *tx)
        .await?;
        for e in &endpoints {
            let updated = sqlx::query(
                "UPDATE webhook_endpoints SET project = ?, name = ?, url = ?, event_types = ?, \
                   secret = ?, previous_secret = NULL, previous_secret_until = NULL, \
                   updated_at = CASE WHEN project = ? AND name = ? AND url = ? \
                     AND event_types = ? AND secret = ? THEN updated_at ELSE ? END \
                 WHERE id = ? AND declared = 1",
            )
            .bind(&e.project)
            .bind(&e.name)
            .bind(&e.url)
            .bind(to_json("event_types", &e.event_types)?)
            .bind(&e.secret)
            .bind(&e.project)
            .bind(&e.name)
            .bind(&e.url)
            .bind(to_json("event_types", &e.event_types)?)
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
impl WebhookStore for SqliteStore {
    async fn create_webhook_endpoint(
        &self,
        e: NewWebhookEndpoint,
    ) -> Result<WebhookEndpointRecord> {
        let mut conn = self.writer.acquire().await?;
        Self::insert_endpoint(&mut conn, &e, false).await
    }

    async fn get_webhook_endpoint(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project = ? AND id = ?"
        ))
        .bind(project)
        .bind(id)
        .fetch_optional(&self.reader)
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
        let cursor = match after {
            Some(id) => Some(
                cursor_seq(
                    &self.reader,
                    "SELECT seq FROM webhook_endpoints WHERE id = ? AND project = ?",
                    project,
                    id,
                )
                .await?,
            ),
            None => None,
        };
        let (cmp, dir) = paging(order);
        let cursor_sql = if cursor.is_some() {
            format!(" AND seq {cmp} ?")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE project = ?{cursor_sql} \
             ORDER BY seq {dir} LIMIT ?"
        );
        let mut q = sqlx::query(&sql).bind(project);
        if let Some(seq) = cursor {
            q = q.bind(seq);
        }
        let rows = q.bind(i64::from(limit) + 1).fetch_all(&self.reader).await?;
        let has_more = rows.len() > limit as usize;
        let items = rows
            .iter()
            .take(limit as usize)
            .map(endpoint_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, has_more })
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
