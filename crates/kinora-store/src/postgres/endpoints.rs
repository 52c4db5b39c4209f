//! Webhook endpoints on PostgreSQL: create, update, rotate, delete, and the settings file's
//! declared endpoints. Every write locks the endpoint it read (`FOR UPDATE`), so two nodes
//! editing one endpoint apply their changes one after the other.

use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::sql::rows::{ENDPOINT_COLUMNS, endpoint_from_row};
use crate::webhook::{NewWebhookEndpoint, WebhookEndpointPatch, WebhookEndpointRecord};

/// Advisory lock key serializing `sync_declared_webhooks` across nodes starting at once:
/// "kinora" in ASCII, then 2.
const SYNC_DECLARED_LOCK: i64 = 0x6b69_6e6f_7261_0002;

/// Written before a read-only endpoint is refused, so the server can say why.
const DECLARED: &str = "this webhook endpoint is declared in the server's settings file and is \
     read-only through the API";

impl PostgresStore {
    /// The endpoint of `project` for a write, locked until the transaction ends, or why it
    /// cannot be written.
    pub(super) async fn writable_endpoint(
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

    pub(super) async fn insert_endpoint(
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

    pub(super) async fn update_endpoint(
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

    pub(super) async fn remove_endpoint(&self, project: &str, id: &str) -> Result<bool> {
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

    pub(super) async fn rotate_secret(
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

    pub(super) async fn sync_declared(
        &self,
        endpoints: Vec<NewWebhookEndpoint>,
        now: i64,
    ) -> Result<()> {
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
