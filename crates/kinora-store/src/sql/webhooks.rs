//! Webhook events and endpoints, and the `WebhookStore` impl, stamped onto each backend by
//! [`webhook_verbs!`]; deliveries are in `deliveries`.
//!
//! `event` runs inside the caller's transaction, so an event exists exactly when the state
//! change that causes it commits. Each subscribed endpoint gets its own delivery row whose id is
//! the Standard Webhooks `webhook-id`, minted once and so stable across retries. The caller hands
//! what `event` returns to `emitted` after its commit, which wakes this node's sender at once;
//! other nodes hear of it through the backend's `wake_webhooks_in` (PostgreSQL NOTIFY).
//!
//! Event types are a text list: JSON on SQLite, `TEXT[]` on PostgreSQL. A backend supplies the
//! binding (`text_list`) and the two membership tests (`SUBSCRIBED`, `NOT_LISTED`).

/// Written before a read-only endpoint is refused, so the server can say why.
pub(crate) const DECLARED: &str = "this webhook endpoint is declared in the server's settings \
     file and is read-only through the API";

pub(crate) const INSERT_EVENT: &str = "INSERT INTO webhook_events (id, project, type, \
     created_at, body) VALUES ($1, $2, $3, $4, $5)";
/// A pending delivery, due at once.
pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, endpoint_id, \
     event_id, status, attempts, created_at, next_attempt_at) \
     VALUES ($1, $2, $3, 'pending', 0, $4, $5)";

/// Binds: project, id.
pub(crate) fn select_sql(lock: &str) -> String {
    format!(
        "SELECT {} FROM webhook_endpoints WHERE project = $1 AND id = $2{lock}",
        super::rows::ENDPOINT_COLUMNS
    )
}

pub(crate) fn insert_endpoint_sql() -> String {
    format!(
        "INSERT INTO webhook_endpoints (id, project, name, url, event_types, secret, declared, \
           created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {}",
        super::rows::ENDPOINT_COLUMNS
    )
}

pub(crate) const UPDATE_ENDPOINT: &str = "UPDATE webhook_endpoints SET name = $1, url = $2, \
     event_types = $3, updated_at = $4 WHERE id = $5";
pub(crate) const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE id = $1";

/// Binds: keep-previous-until or NULL, new secret, now, id.
pub(crate) fn rotate_sql() -> String {
    format!(
        "UPDATE webhook_endpoints SET \
           previous_secret = CASE WHEN CAST($1 AS BIGINT) IS NULL THEN NULL ELSE secret END, \
           previous_secret_until = $1, secret = $2, updated_at = $3 \
         WHERE id = $4 RETURNING {}",
        super::rows::ENDPOINT_COLUMNS
    )
}

/// Binds: project, name, url, event types, secret, now, id. `updated_at` moves only when
/// something changed.
pub(crate) const SYNC_DECLARED: &str = "UPDATE webhook_endpoints SET project = $1, name = $2, \
       url = $3, event_types = $4, secret = $5, previous_secret = NULL, \
       previous_secret_until = NULL, \
       updated_at = CASE WHEN project = $1 AND name = $2 AND url = $3 \
         AND event_types = $4 AND secret = $5 THEN updated_at ELSE $6 END \
     WHERE id = $7 AND declared";

/// The endpoint page: the shared keyset lookup over the whole table.
pub(crate) const PAGE: super::PageOf = super::PageOf {
    table: "webhook_endpoints",
    columns: super::rows::ENDPOINT_COLUMNS,
    live_only: false,
};

macro_rules! webhook_verbs {
    ($store:ty, $conn:ty, $write:ident, $read:ident, for_update = $for_update:literal) => {
        impl $store {
            /// Records one event of `project` and a pending delivery for every enabled endpoint
            /// of that project subscribed to `event_type`; true when it recorded any. `data` is
            /// the event's `data` object, e.g. `{"id": "video_…"}`; `now` is Unix seconds.
            pub(super) async fn event(
                conn: &mut $conn,
                project: &str,
                event_type: &str,
                data: serde_json::Value,
                now: i64,
            ) -> $crate::Result<bool> {
                use $crate::sql::webhooks as q;
                let targets: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT id FROM webhook_endpoints WHERE project = $1 AND enabled AND {} \
                     ORDER BY seq",
                    Self::SUBSCRIBED
                ))
                .bind(project)
                .bind(event_type)
                .fetch_all(&mut *conn)
                .await?;
                if targets.is_empty() {
                    return Ok(false);
                }
                let id = kinora_core::ids::event_id();
                let body = serde_json::json!({
                    "id": id,
                    "object": "event",
                    "created_at": now,
                    "type": event_type,
                    "data": data,
                })
                .to_string();
                sqlx::query(q::INSERT_EVENT)
                    .bind(&id)
                    .bind(project)
                    .bind(event_type)
                    .bind(now)
                    .bind(&body)
                    .execute(&mut *conn)
                    .await?;
                for endpoint in targets {
                    sqlx::query(q::INSERT_DELIVERY)
                        .bind(kinora_core::ids::delivery_id())
                        .bind(endpoint)
                        .bind(&id)
                        .bind(now)
                        .bind(now.saturating_mul(1000))
                        .execute(&mut *conn)
                        .await?;
                }
                Self::wake_webhooks_in(conn).await?;
                Ok(true)
            }

            /// `video.completed` / `video.failed` for one video: `data` is `{"id": video_id}`.
            pub(super) async fn video_event(
                conn: &mut $conn,
                project: &str,
                event_type: &str,
                video_id: &str,
                now: i64,
            ) -> $crate::Result<bool> {
                let data = serde_json::json!({ "id": video_id });
                Self::event(conn, project, event_type, data, now).await
            }

            /// After a commit: wakes this node's sender if the transaction recorded deliveries.
            pub(super) fn emitted(&self, emitted: bool) {
                if emitted {
                    self.webhook_signal.notify_one();
                }
            }

            /// The endpoint of `project` for a write, locked until the transaction ends (on
            /// PostgreSQL), or why it cannot be written.
            async fn writable_endpoint(
                conn: &mut $conn,
                project: &str,
                id: &str,
            ) -> $crate::Result<Option<$crate::webhook::WebhookEndpointRecord>> {
                let row = sqlx::query(&$crate::sql::webhooks::select_sql($for_update))
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                let found = row
                    .as_ref()
                    .map($crate::sql::rows::endpoint_from_row)
                    .transpose()?;
                match found {
                    Some(e) if e.declared => Err($crate::StoreError::Conflict(
                        $crate::sql::webhooks::DECLARED.into(),
                    )),
                    found => Ok(found),
                }
            }

            async fn insert_endpoint(
                conn: &mut $conn,
                e: &$crate::webhook::NewWebhookEndpoint,
                declared: bool,
            ) -> $crate::Result<$crate::webhook::WebhookEndpointRecord> {
                let row = sqlx::query(&$crate::sql::webhooks::insert_endpoint_sql())
                    .bind(&e.id)
                    .bind(&e.project)
                    .bind(&e.name)
                    .bind(&e.url)
                    .bind(Self::text_list(&e.event_types)?)
                    .bind(&e.secret)
                    .bind(declared)
                    .bind(e.created_at)
                    .fetch_one(&mut *conn)
                    .await?;
                $crate::sql::rows::endpoint_from_row(&row)
            }
        }

        #[async_trait::async_trait]
        impl $crate::webhook::WebhookStore for $store {
            async fn create_webhook_endpoint(
                &self,
                e: $crate::webhook::NewWebhookEndpoint,
            ) -> $crate::Result<$crate::webhook::WebhookEndpointRecord> {
                let mut conn = self.$write.acquire().await?;
                Self::insert_endpoint(&mut conn, &e, false).await
            }

            async fn get_webhook_endpoint(
                &self,
                project: &str,
                id: &str,
            ) -> $crate::Result<Option<$crate::webhook::WebhookEndpointRecord>> {
                let row = sqlx::query(&$crate::sql::webhooks::select_sql(""))
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.$read)
                    .await?;
                row.as_ref()
                    .map($crate::sql::rows::endpoint_from_row)
                    .transpose()
            }

            async fn list_webhook_endpoints(
                &self,
                project: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::webhook::WebhookEndpointRecord>> {
                $crate::sql::keyset_page!(
                    &self.$read,
                    $crate::sql::webhooks::PAGE,
                    project,
                    after,
                    limit,
                    order,
                    $crate::sql::rows::endpoint_from_row,
                )
            }

            async fn update_webhook_endpoint(
                &self,
                project: &str,
                id: &str,
                patch: $crate::webhook::WebhookEndpointPatch,
                now: i64,
            ) -> $crate::Result<Option<$crate::webhook::WebhookEndpointRecord>> {
                let mut tx = self.begin_write().await?;
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
                    sqlx::query($crate::sql::webhooks::UPDATE_ENDPOINT)
                        .bind(&e.name)
                        .bind(&e.url)
                        .bind(Self::text_list(&e.event_types)?)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Some(e))
            }

            async fn delete_webhook_endpoint(
                &self,
                project: &str,
                id: &str,
            ) -> $crate::Result<bool> {
                let mut tx = self.begin_write().await?;
                if Self::writable_endpoint(&mut tx, project, id).await?.is_none() {
                    return Ok(false);
                }
                // The foreign key cascades to the endpoint's deliveries.
                sqlx::query($crate::sql::webhooks::DELETE_ENDPOINT)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn rotate_webhook_secret(
                &self,
                project: &str,
                id: &str,
                new_secret: &str,
                keep_previous_until: Option<i64>,
                now: i64,
            ) -> $crate::Result<Option<$crate::webhook::WebhookEndpointRecord>> {
                let mut tx = self.begin_write().await?;
                if Self::writable_endpoint(&mut tx, project, id).await?.is_none() {
                    return Ok(None);
                }
                let row = sqlx::query(&$crate::sql::webhooks::rotate_sql())
                    .bind(keep_previous_until)
                    .bind(new_secret)
                    .bind(now)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let record = $crate::sql::rows::endpoint_from_row(&row)?;
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn sync_declared_webhooks(
                &self,
                endpoints: Vec<$crate::webhook::NewWebhookEndpoint>,
                now: i64,
            ) -> $crate::Result<()> {
                let mut tx = self.begin_write().await?;
                // Nodes starting together each sync: one at a time, so none trips on another's
                // insert.
                Self::lock_key(&mut tx, "webhooks", "declared").await?;
                let keep: Vec<String> = endpoints.iter().map(|e| e.id.clone()).collect();
                sqlx::query(&format!(
                    "DELETE FROM webhook_endpoints WHERE declared AND {}",
                    Self::NOT_LISTED
                ))
                .bind(Self::text_list(&keep)?)
                .execute(&mut *tx)
                .await?;
                for e in &endpoints {
                    let updated = sqlx::query($crate::sql::webhooks::SYNC_DECLARED)
                        .bind(&e.project)
                        .bind(&e.name)
                        .bind(&e.url)
                        .bind(Self::text_list(&e.event_types)?)
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

            async fn claim_webhook_deliveries(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::webhook::DueDelivery>> {
                self.claim_deliveries(now_ms, lease_ms, limit).await
            }

            async fn record_webhook_attempt(
                &self,
                delivery_id: &str,
                lease_id: &str,
                outcome: $crate::webhook::AttemptOutcome,
                now_ms: i64,
            ) -> $crate::Result<()> {
                self.record_attempt(delivery_id, lease_id, outcome, now_ms)
                    .await
            }

            async fn list_webhook_deliveries(
                &self,
                project: &str,
                endpoint_id: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::webhook::DeliveryRecord>> {
                self.list_deliveries(project, endpoint_id, after, limit, order)
                    .await
            }

            fn webhook_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
                std::sync::Arc::clone(&self.webhook_signal)
            }
        }
    };
}
pub(crate) use webhook_verbs;
