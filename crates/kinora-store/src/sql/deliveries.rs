//! Webhook deliveries: claim with a lease, record an attempt, read an endpoint's log; stamped
//! onto each backend by [`delivery_verbs!`].
//!
//! A claim is one write transaction whose row selection appends the backend's `skip_locked`:
//! on PostgreSQL senders on many nodes claim at once and never lease the same delivery while its
//! lease runs; on SQLite the single writer gives the same.

/// Binds: lease id, now (ms), lease (ms), limit.
pub(crate) fn claim_sql(skip_locked: &str) -> String {
    format!(
        "UPDATE webhook_deliveries SET lease_id = $1, lease_expires_at = $2 + $3, \
           attempts = attempts + 1 \
         WHERE seq IN (SELECT seq FROM webhook_deliveries \
           WHERE status = 'pending' AND next_attempt_at <= $2 \
             AND (lease_expires_at IS NULL OR lease_expires_at <= $2) \
           ORDER BY next_attempt_at, seq LIMIT $4{skip_locked}) \
         RETURNING seq"
    )
}

/// What a sender needs of the deliveries leased as `$1`.
pub(crate) const LEASED: &str = "SELECT d.id, d.endpoint_id, d.attempts, e.body, e.type, \
       e.created_at, w.url, w.secret, w.previous_secret, w.previous_secret_until \
     FROM webhook_deliveries d \
       JOIN webhook_events e ON e.id = d.event_id \
       JOIN webhook_endpoints w ON w.id = d.endpoint_id \
     WHERE d.lease_id = $1 ORDER BY d.next_attempt_at, d.seq";

/// Binds: status, status code, error, now, retry at (ms) or NULL, id, lease id.
pub(crate) const ATTEMPT: &str = "UPDATE webhook_deliveries SET status = $1, \
       last_status_code = $2, last_error = $3, last_attempt_at = $4, \
       next_attempt_at = COALESCE($5, next_attempt_at), \
       completed_at = CASE WHEN $1 = 'pending' THEN NULL ELSE $4 END, \
       lease_id = NULL, lease_expires_at = NULL \
     WHERE id = $6 AND lease_id = $7 AND status = 'pending'";

pub(crate) const OWNED: &str = "SELECT seq FROM webhook_endpoints WHERE project = $1 AND id = $2";
pub(crate) const CURSOR: &str =
    "SELECT seq FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2";

/// Binds: endpoint id, cursor seq or NULL, limit + 1.
pub(crate) fn page_sql(order: crate::record::Order) -> String {
    let (cmp, dir) = super::paging(order);
    format!(
        "SELECT {} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.endpoint_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR d.seq {cmp} $2) \
         ORDER BY d.seq {dir} LIMIT $3",
        super::rows::DELIVERY_COLUMNS
    )
}

/// One leased row as the sender takes it; `now` picks the secrets that still sign.
pub(crate) fn due_of<R: super::Cols>(
    row: &R,
    lease_id: &str,
    now: i64,
) -> crate::Result<crate::webhook::DueDelivery> {
    let endpoint = crate::webhook::WebhookEndpointRecord {
        secret: row.col("secret")?,
        previous_secret: row.col("previous_secret")?,
        previous_secret_until: row.col("previous_secret_until")?,
        ..Default::default()
    };
    Ok(crate::webhook::DueDelivery {
        id: row.col("id")?,
        lease_id: lease_id.to_string(),
        endpoint_id: row.col("endpoint_id")?,
        url: row.col("url")?,
        secrets: endpoint.signing_secrets(now),
        body: row.col("body")?,
        event_type: row.col("type")?,
        attempt: row.col::<i64>("attempts")?.clamp(0, i64::from(u32::MAX)) as u32,
        created_at: row.col("created_at")?,
    })
}

macro_rules! delivery_verbs {
    ($store:ty, $write:ident, $read:ident, skip_locked = $skip:literal) => {
        impl $store {
            async fn claim_deliveries(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::webhook::DueDelivery>> {
                use $crate::sql::deliveries as q;
                let lease_id = kinora_core::ids::delivery_lease_id();
                let mut tx = self.begin_write().await?;
                let claimed = sqlx::query(&q::claim_sql($skip))
                    .bind(&lease_id)
                    .bind(now_ms)
                    .bind(lease_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?;
                if claimed.is_empty() {
                    return Ok(Vec::new());
                }
                let rows = sqlx::query(q::LEASED)
                    .bind(&lease_id)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let now = now_ms.div_euclid(1000);
                rows.iter()
                    .map(|row| q::due_of(row, &lease_id, now))
                    .collect()
            }

            async fn record_attempt(
                &self,
                delivery_id: &str,
                lease_id: &str,
                outcome: $crate::webhook::AttemptOutcome,
                now_ms: i64,
            ) -> $crate::Result<()> {
                use $crate::webhook::AttemptOutcome;
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
                let done = sqlx::query($crate::sql::deliveries::ATTEMPT)
                    .bind(status)
                    .bind(code.map(i64::from))
                    .bind(error)
                    .bind(now)
                    .bind(next)
                    .bind(delivery_id)
                    .bind(lease_id)
                    .execute(&self.$write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::LeaseLost);
                }
                Ok(())
            }

            async fn list_deliveries(
                &self,
                project: &str,
                endpoint_id: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::webhook::DeliveryRecord>> {
                use $crate::sql::deliveries as q;
                let owned: Option<i64> = sqlx::query_scalar(q::OWNED)
                    .bind(project)
                    .bind(endpoint_id)
                    .fetch_optional(&self.$read)
                    .await?;
                if owned.is_none() {
                    return Err($crate::StoreError::NotFound);
                }
                let cursor: Option<i64> = match after {
                    Some(id) => Some(
                        sqlx::query_scalar(q::CURSOR)
                            .bind(id)
                            .bind(endpoint_id)
                            .fetch_optional(&self.$read)
                            .await?
                            .ok_or($crate::StoreError::NotFound)?,
                    ),
                    None => None,
                };
                let rows = sqlx::query(&q::page_sql(order))
                    .bind(endpoint_id)
                    .bind(cursor)
                    .bind(i64::from(limit) + 1)
                    .fetch_all(&self.$read)
                    .await?;
                $crate::sql::page_of(&rows, limit, $crate::sql::rows::delivery_from_row)
            }
        }
    };
}
pub(crate) use delivery_verbs;
