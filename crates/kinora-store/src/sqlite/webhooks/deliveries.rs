//! Deliveries on SQLite: claim with a lease, record an attempt, read an endpoint's log.
//!
//! A claim is one transaction on the single writer connection, so two senders (in this process
//! or, through the file lock, in another) never lease the same delivery while its lease runs.

use sqlx::Row;

use super::{DELIVERY_COLUMNS, cursor_seq, delivery_from_row, paging};
use crate::error::{Result, StoreError};
use crate::record::{Order, Page};
use crate::sqlite::SqliteStore;
use crate::webhook::{AttemptOutcome, DeliveryRecord, DueDelivery, WebhookEndpointRecord};

impl SqliteStore {
    pub(super) async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let lease_id: String = sqlx::query_scalar("SELECT 'wdl_' || lower(hex(randomblob(16)))")
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "UPDATE webhook_deliveries SET lease_id = ?1, lease_expires_at = ?2 + ?3, \
               attempts = attempts + 1 \
             WHERE seq IN (SELECT seq FROM webhook_deliveries \
               WHERE status = 'pending' AND next_attempt_at <= ?2 \
                 AND (lease_expires_at IS NULL OR lease_expires_at <= ?2) \
               ORDER BY next_attempt_at, seq LIMIT ?4) \
             RETURNING seq",
        )
        .bind(&lease_id)
        .bind(now_ms)
        .bind(lease_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT d.id, d.endpoint_id, d.attempts, e.body, e.type, e.created_at, \
               w.url, w.secret, w.previous_secret, w.previous_secret_until \
             FROM webhook_deliveries d \
               JOIN webhook_events e ON e.id = d.event_id \
               JOIN webhook_endpoints w ON w.id = d.endpoint_id \
             WHERE d.lease_id = ? ORDER BY d.next_attempt_at, d.seq",
        )
        .bind(&lease_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
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
            "UPDATE webhook_deliveries SET status = ?1, last_status_code = ?2, last_error = ?3, \
               last_attempt_at = ?4, next_attempt_at = COALESCE(?5, next_attempt_at), \
               completed_at = CASE WHEN ?1 = 'pending' THEN NULL ELSE ?4 END, \
               lease_id = NULL, lease_expires_at = NULL \
             WHERE id = ?6 AND lease_id = ?7 AND status = 'pending'",
        )
        .bind(status)
        .bind(code.map(i64::from))
        .bind(error)
        .bind(now)
        .bind(next)
        .bind(delivery_id)
        .bind(lease_id)
        .execute(&self.writer)
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
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM webhook_endpoints WHERE project = ? AND id = ?")
                .bind(project)
                .bind(endpoint_id)
                .fetch_optional(&self.reader)
                .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        let cursor = match after {
            Some(id) => Some(
                cursor_seq(
                    &self.reader,
                    "SELECT seq FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?",
                    endpoint_id,
                    id,
                )
                .await?,
            ),
            None => None,
        };
        let (cmp, dir) = paging(order);
        let cursor_sql = if cursor.is_some() {
            format!(" AND d.seq {cmp} ?")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
               JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.endpoint_id = ?{cursor_sql} ORDER BY d.seq {dir} LIMIT ?"
        );
        let mut q = sqlx::query(&sql).bind(endpoint_id);
        if let Some(seq) = cursor {
            q = q.bind(seq);
        }
        let rows = q.bind(i64::from(limit) + 1).fetch_all(&self.reader).await?;
        let has_more = rows.len() > limit as usize;
        let items = rows
            .iter()
            .take(limit as usize)
            .map(delivery_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, has_more })
    }
}
