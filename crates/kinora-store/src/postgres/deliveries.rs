//! Deliveries on PostgreSQL: claim with a lease, record an attempt, read an endpoint's log.
//!
//! A claim locks the rows it takes with `FOR UPDATE SKIP LOCKED`, so senders on many nodes claim
//! at once and never lease the same delivery while its lease runs.

use sqlx::Row;

use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::record::{Order, Page};
use crate::sql::rows::{DELIVERY_COLUMNS, delivery_from_row};
use crate::sql::{page_of, paging};
use crate::webhook::{AttemptOutcome, DeliveryRecord, DueDelivery, WebhookEndpointRecord};

impl PostgresStore {
    pub(super) async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        let lease_id = format!("wdl_{}", random_hex());
        let rows = sqlx::query(
            "WITH due AS (SELECT seq FROM webhook_deliveries \
               WHERE status = 'pending' AND next_attempt_at <= $2 \
                 AND (lease_expires_at IS NULL OR lease_expires_at <= $2) \
               ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED), \
             claimed AS (UPDATE webhook_deliveries d SET lease_id = $1, \
               lease_expires_at = $2 + $3, attempts = d.attempts + 1 \
               FROM due WHERE d.seq = due.seq \
               RETURNING d.seq, d.id, d.endpoint_id, d.event_id, d.attempts, d.next_attempt_at) \
             SELECT c.id, c.endpoint_id, c.attempts, e.body, e.type, e.created_at, \
               w.url, w.secret, w.previous_secret, w.previous_secret_until \
             FROM claimed c \
               JOIN webhook_events e ON e.id = c.event_id \
               JOIN webhook_endpoints w ON w.id = c.endpoint_id \
             ORDER BY c.next_attempt_at, c.seq",
        )
        .bind(&lease_id)
        .bind(now_ms)
        .bind(lease_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let now = now_ms.div_euclid(1000);
        rows.iter()
            .map(|row| {
                let endpoint = WebhookEndpointRecord {
                    secret: row.try_get("secret")?,
                    previous_secret: row.try_get("previous_secret")?,
                    previous_secret_until: row.try_get("previous_secret_until")?,
                    ..WebhookEndpointRecord::default()
                };
                Ok(DueDelivery {
                    id: row.try_get("id")?,
                    lease_id: lease_id.clone(),
                    endpoint_id: row.try_get("endpoint_id")?,
                    url: row.try_get("url")?,
                    secrets: endpoint.signing_secrets(now),
                    body: row.try_get("body")?,
                    event_type: row.try_get("type")?,
                    attempt: row
                        .try_get::<i64, _>("attempts")?
                        .clamp(0, i64::from(u32::MAX)) as u32,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn record_attempt(
        &self,
        delivery_id: &str,
        lease_id: &str,
        outcome: AttemptOutcome,
        now_ms: i64,
    ) -> Result<()> {
        let now = now_ms.div_euclid(1000);
        let (status, code, error, next) = match outcome {
            AttemptOutcome::Delivered { status_code } => {
                ("delivered", Some(status_code), None, None)
            }
            AttemptOutcome::Retry {
                status_code,
                error,
                retry_at_ms,
            } => ("pending", status_code, Some(error), Some(retry_at_ms)),
            AttemptOutcome::GiveUp { status_code, error } => {
                ("failed", status_code, Some(error), None)
            }
        };
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, last_status_code = $2, last_error = $3, \
               last_attempt_at = $4, next_attempt_at = COALESCE($5, next_attempt_at), \
               completed_at = CASE WHEN $1 = 'pending' THEN NULL ELSE $4 END, \
               lease_id = NULL, lease_expires_at = NULL \
             WHERE id = $6 AND lease_id = $7 AND status = 'pending'",
        )
        .bind(status)
        .bind(code.map(i64::from))
        .bind(error)
        .bind(now)
        .bind(next)
        .bind(delivery_id)
        .bind(lease_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost);
        }
        Ok(())
    }

    pub(super) async fn list_deliveries(
        &self,
        project: &str,
        endpoint_id: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<DeliveryRecord>> {
        let owned: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM webhook_endpoints WHERE project = $1 AND id = $2")
                .bind(project)
                .bind(endpoint_id)
                .fetch_optional(&self.pool)
                .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        let cursor: Option<i64> = match after {
            Some(id) => Some(
                sqlx::query_scalar(
                    "SELECT seq FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2",
                )
                .bind(id)
                .bind(endpoint_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        let (cmp, dir) = paging(order);
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
               JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.endpoint_id = $1 AND ($2::BIGINT IS NULL OR d.seq {cmp} $2) \
             ORDER BY d.seq {dir} LIMIT $3"
        ))
        .bind(endpoint_id)
        .bind(cursor)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        page_of(&rows, limit, delivery_from_row)
    }
}

/// 32 random hex digits, as SQLite's `lower(hex(randomblob(16)))` gives: a lease id's.
fn random_hex() -> String {
    let id = kinora_core::ids::lease_id();
    id.strip_prefix("lease_").unwrap_or(&id).to_string()
}
