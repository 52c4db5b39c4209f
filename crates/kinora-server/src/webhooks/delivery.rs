//! The delivery loop: claim due deliveries with a lease, send each once, record the outcome.
//!
//! Woken by the store's signal when an event commits, and by a poll for retries coming due. Up to
//! `concurrency` attempts run at once; the lease outlives the request timeout, so a delivery is
//! in one sender's hands at a time, and a sender that dies mid-attempt only delays it until its
//! lease lapses (at-least-once: the receiver dedupes on `webhook-id`).

use std::time::Duration;

use kinora_core::clock;
use kinora_store::{AttemptOutcome, DueDelivery, StoreError};
use rand::Rng;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::webhooks::config::WebhookDeliverySettings;
use crate::webhooks::sender::Reply;

/// Beyond the request timeout, how long a lease lasts, so that recording the outcome never races
/// another node's claim.
const LEASE_MARGIN_MS: i64 = 30_000;

/// The delay before retry number `attempt` (1 = after the first failure): the base doubled per
/// attempt, capped, then scaled into [½, 1] by `jitter` ∈ [0, 1) so that receivers coming back
/// from an outage are not hit by every sender at the same instant.
pub fn backoff_ms(cfg: &WebhookDeliverySettings, attempt: u32, jitter: f64) -> i64 {
    let exp = attempt.saturating_sub(1).min(40);
    let full = cfg
        .retry_base_ms
        .saturating_mul(1u64 << exp)
        .min(cfg.retry_max_ms);
    let scaled = full as f64 * (0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    scaled.max(1.0) as i64
}

/// Judges one attempt: 2xx is delivered; anything else retries until the window closes (the last
/// retry is placed at the window's end), then the delivery ends failed.
pub fn judge(
    cfg: &WebhookDeliverySettings,
    d: &DueDelivery,
    reply: Reply,
    now_ms: i64,
    jitter: f64,
) -> AttemptOutcome {
    let (status_code, error) = match reply {
        Reply::Status(code) if (200..300).contains(&code) => {
            return AttemptOutcome::Delivered { status_code: code };
        }
        Reply::Status(code) if (300..400).contains(&code) => (
            Some(code),
            format!("receiver answered {code}; redirects are not followed"),
        ),
        Reply::Status(code) => (Some(code), format!("receiver answered {code}")),
        Reply::Failed(reason) => (None, reason),
    };
    let deadline_ms = d
        .created_at
        .saturating_add(cfg.max_age_seconds)
        .saturating_mul(1000);
    if now_ms >= deadline_ms {
        return AttemptOutcome::GiveUp {
            status_code,
            error: format!("{error}; gave up after the retry window"),
        };
    }
    let retry_at_ms = now_ms
        .saturating_add(backoff_ms(cfg, d.attempt, jitter))
        .min(deadline_ms);
    AttemptOutcome::Retry {
        status_code,
        error,
        retry_at_ms,
    }
}

/// Makes one attempt of a leased delivery and records it.
pub async fn attempt(state: &AppState, d: DueDelivery) {
    let cfg = &state.settings.webhook_delivery;
    let reply = state
        .webhook_sender
        .post(&d.url, &d.id, &d.secrets, &d.body, clock::now_unix())
        .await;
    let jitter: f64 = rand::rng().random();
    let outcome = judge(cfg, &d, reply, clock::now_millis(), jitter);
    let label = match &outcome {
        AttemptOutcome::Delivered { .. } => "delivered",
        AttemptOutcome::Retry { .. } => "retrying",
        AttemptOutcome::GiveUp { .. } => "failed",
    };
    if let AttemptOutcome::Retry { error, .. } | AttemptOutcome::GiveUp { error, .. } = &outcome {
        tracing::info!(
            webhook_id = %d.id, endpoint = %d.endpoint_id, attempt = d.attempt, outcome = label,
            reason = %error, "webhook attempt failed"
        );
    }
    state.metrics.webhook_attempt(label);
    match state
        .store
        .record_webhook_attempt(&d.id, &d.lease_id, outcome, clock::now_millis())
        .await
    {
        Ok(()) => {}
        Err(StoreError::LeaseLost) => {
            tracing::warn!(webhook_id = %d.id, "webhook lease lapsed before the attempt was recorded")
        }
        Err(e) => {
            tracing::warn!(webhook_id = %d.id, error = %e, "recording a webhook attempt failed")
        }
    }
}

/// Runs the loop until `stop`; attempts in flight then finish (bounded by the request timeout).
pub fn spawn(state: &AppState, stop: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move { run(state, stop).await })
}

async fn run(state: AppState, stop: CancellationToken) {
    let cfg = state.settings.webhook_delivery.clone();
    let signal = state.webhook_wake.clone();
    let lease_ms = (cfg.timeout_seconds as i64)
        .saturating_mul(1000)
        .saturating_add(LEASE_MARGIN_MS);
    let poll = Duration::from_millis(cfg.poll_ms);
    let mut inflight = JoinSet::new();
    loop {
        let room = cfg.concurrency.saturating_sub(inflight.len());
        if room > 0 {
            match state
                .store
                .claim_webhook_deliveries(clock::now_millis(), lease_ms, room as u32)
                .await
            {
                Ok(due) => {
                    for d in due {
                        let state = state.clone();
                        inflight.spawn(async move { attempt(&state, d).await });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
            }
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = signal.notified() => {}
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
    while inflight.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(attempt: u32, created_at: i64) -> DueDelivery {
        DueDelivery {
            id: "msg_1".into(),
            lease_id: "l".into(),
            endpoint_id: "we_1".into(),
            url: "https://example.com/".into(),
            secrets: vec![],
            body: "{}".into(),
            event_type: "video.completed".into(),
            attempt,
            created_at,
        }
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let cfg = WebhookDeliverySettings {
            retry_base_ms: 1_000,
            retry_max_ms: 10_000,
            ..Default::default()
        };
        assert_eq!(backoff_ms(&cfg, 1, 1.0), 1_000);
        assert_eq!(backoff_ms(&cfg, 2, 1.0), 2_000);
        assert_eq!(backoff_ms(&cfg, 3, 0.0), 2_000);
        assert_eq!(backoff_ms(&cfg, 9, 1.0), 10_000);
        assert_eq!(backoff_ms(&cfg, 500, 1.0), 10_000);
    }

    #[test]
    fn judging_attempts() {
        let cfg = WebhookDeliverySettings {
            retry_base_ms: 1_000,
            max_age_seconds: 100,
            ..Default::default()
        };
        let t = 1_000;
        assert_eq!(
            judge(&cfg, &due(1, t), Reply::Status(204), t * 1000, 0.5),
            AttemptOutcome::Delivered { status_code: 204 }
        );
        let out = judge(&cfg, &due(1, t), Reply::Status(302), t * 1000, 1.0);
        let AttemptOutcome::Retry {
            status_code,
            error,
            retry_at_ms,
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!((status_code, retry_at_ms), (Some(302), t * 1000 + 1_000));
        assert!(error.contains("redirects are not followed"), "{error}");
        // The last retry lands on the window's end, and a failure there gives up.
        let out = judge(&cfg, &due(30, t), Reply::Status(500), (t + 99) * 1000, 1.0);
        assert!(
            matches!(out, AttemptOutcome::Retry { retry_at_ms, .. } if retry_at_ms == (t + 100) * 1000),
            "{out:?}"
        );
        let out = judge(
            &cfg,
            &due(31, t),
            Reply::Failed("refused".into()),
            (t + 100) * 1000,
            1.0,
        );
        assert!(
            matches!(&out, AttemptOutcome::GiveUp { status_code: None, error } if error.starts_with("refused")),
            "{out:?}"
        );
    }
}
