//! Webhooks in the store: endpoints per project, the events Kinora emits, and one durable
//! delivery per (event, endpoint) that workers claim with a lease and retry until it is
//! delivered or given up.
//!
//! Events are never written through this trait: each backend records them inside the
//! transaction of the state change that causes them (a video or batch reaching a terminal state).

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::record::{Order, Page};

/// A webhook endpoint as stored. `secret` and `previous_secret` are whole `whsec_…` strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookEndpointRecord {
    pub id: String,
    pub project: String,
    pub name: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    /// Declared in the settings file: read-only through the API.
    pub declared: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl WebhookEndpointRecord {
    /// The secrets a delivery made at `now` is signed with: the current one first.
    pub fn signing_secrets(&self, now: i64) -> Vec<String> {
        let mut secrets = vec![self.secret.clone()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && now < until
        {
            secrets.push(old.clone());
        }
        secrets
    }
}

/// An endpoint created through the API (`declared` false) or the settings file (true).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    pub id: String,
    pub project: String,
    pub name: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub secret: String,
    pub created_at: i64,
}

/// Fields an update replaces; `None` keeps the stored value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookEndpointPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Given up after the retry window.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One entry of an endpoint's delivery log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The `webhook-id` every attempt of this delivery carries.
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: i64,
    /// Unix ms of the next try; meaningful while `Pending`.
    pub next_attempt_at_ms: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub completed_at: Option<i64>,
}

/// A delivery leased to one sender: everything needed to make the attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: String,
    pub lease_id: String,
    pub endpoint_id: String,
    pub url: String,
    /// Current secret first, then the previous one while its grace period lasts.
    pub secrets: Vec<String>,
    /// The event JSON, byte-identical on every attempt.
    pub body: String,
    pub event_type: String,
    /// Including the attempt this lease is for.
    pub attempt: u32,
    /// Unix seconds when the event was emitted; the retry window counts from here.
    pub created_at: i64,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        status_code: u16,
    },
    /// Try again at `retry_at_ms`.
    Retry {
        status_code: Option<u16>,
        error: String,
        retry_at_ms: i64,
    },
    /// No further attempt: the delivery ends `failed`.
    GiveUp {
        status_code: Option<u16>,
        error: String,
    },
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// `Conflict` if the id exists.
    async fn create_webhook_endpoint(&self, e: NewWebhookEndpoint)
    -> Result<WebhookEndpointRecord>;

    async fn get_webhook_endpoint(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>>;

    /// Endpoints of `project` (declared ones included) in creation order; `after` as for videos.
    async fn list_webhook_endpoints(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<WebhookEndpointRecord>>;

    /// `None` if absent; `Conflict` for a declared endpoint. `updated_at` moves only when a
    /// field actually changes.
    async fn update_webhook_endpoint(
        &self,
        project: &str,
        id: &str,
        patch: WebhookEndpointPatch,
        now: i64,
    ) -> Result<Option<WebhookEndpointRecord>>;

    /// Removes the endpoint and its pending deliveries and log. `false` if absent; `Conflict`
    /// for a declared endpoint.
    async fn delete_webhook_endpoint(&self, project: &str, id: &str) -> Result<bool>;

    /// Installs `new_secret`. With `keep_previous_until`, the replaced secret keeps signing until
    /// then; otherwise it stops at once. `None` if absent; `Conflict` for a declared endpoint.
    async fn rotate_webhook_secret(
        &self,
        project: &str,
        id: &str,
        new_secret: &str,
        keep_previous_until: Option<i64>,
        now: i64,
    ) -> Result<Option<WebhookEndpointRecord>>;

    /// Makes the declared endpoints exactly `endpoints`: inserts or updates each (by id) and
    /// removes declared endpoints no longer listed. API-created endpoints are untouched.
    async fn sync_declared_webhooks(
        &self,
        endpoints: Vec<NewWebhookEndpoint>,
        now: i64,
    ) -> Result<()>;

    /// Leases up to `limit` pending deliveries due at `now_ms` whose previous lease (if any) ran
    /// out, oldest first; each claim counts as an attempt. Two callers never hold the same
    /// delivery at once.
    async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>>;

    /// Records how a leased attempt ended. `LeaseLost` if `lease_id` is not current.
    async fn record_webhook_attempt(
        &self,
        delivery_id: &str,
        lease_id: &str,
        outcome: AttemptOutcome,
        now_ms: i64,
    ) -> Result<()>;

    /// The delivery log of one endpoint of `project`, by creation order; `NotFound` if the
    /// endpoint is not one of the project's or `after` is not one of its deliveries.
    async fn list_webhook_deliveries(
        &self,
        project: &str,
        endpoint_id: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<DeliveryRecord>>;

    /// Woken after every commit that emitted events, so a delivery loop need not poll often.
    fn webhook_signal(&self) -> Arc<tokio::sync::Notify>;
}
