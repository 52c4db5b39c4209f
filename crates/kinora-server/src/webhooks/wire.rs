//! The webhook API's JSON: request bodies and views, in the shapes of the openai SDK 3.51.0
//! (`WebhookEndpoint`, `WebhookEndpointWithSecret`, `DeletedWebhookEndpoint`,
//! `WebhookEndpointTestResult`) plus Kinora's delivery log entry.

use kinora_store::{DeliveryRecord, WebhookEndpointRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use crate::view::constant;
use crate::webhooks::EVENT_TYPES;
use crate::webhooks::signing::secret_hint;

fn object_endpoint() -> Object {
    constant("webhook_endpoint")
}
fn object_endpoint_deleted() -> Object {
    constant("webhook_endpoint.deleted")
}
fn object_endpoint_test() -> Object {
    constant("webhook_endpoint.test")
}
fn object_delivery() -> Object {
    constant("webhook_delivery")
}

// These are the handlers' typed requests (`form::typed`); `deny_unknown_fields` refuses an
// unknown field by name and documents `additionalProperties: false`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// A human-readable name: 1-256 characters, not only spaces.
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub name: String,
    /// The `http(s)` URL that receives deliveries, without credentials.
    #[schema(schema_with = url_schema)]
    pub url: String,
    /// At least one of the event types the server emits.
    #[schema(schema_with = event_types_schema)]
    pub event_types: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpoint {
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(schema_with = optional_url_schema)]
    pub url: Option<String>,
    /// The complete set of event types that should trigger deliveries.
    #[schema(schema_with = optional_event_types_schema)]
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateWebhookSecret {
    /// Keep signing with the previous secret too for 24 hours (default false: it stops at once).
    #[serde(default)]
    pub keep_old_secret_active_for_24_hours: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestWebhookEndpoint {
    /// The event type of the sample delivery.
    #[schema(schema_with = event_type_schema)]
    pub event_type: String,
}

/// What `check_url` takes, as far as a pattern can say it: `http(s)://`, a host name of
/// letters, digits, dots and dashes, an optional port and path; no credentials.
fn url_schema() -> Object {
    url_of_type(serde_json::json!("string"))
}

/// An update's `url`: `null` leaves it as it is.
fn optional_url_schema() -> Object {
    url_of_type(serde_json::json!(["string", "null"]))
}

fn url_of_type(of: serde_json::Value) -> Object {
    serde_json::from_value(serde_json::json!({
        "type": of,
        "format": "uri",
        "pattern": "^https?://[A-Za-z0-9]([A-Za-z0-9.-]{0,60}[A-Za-z0-9])?(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$",
        "maxLength": 2048,
    }))
    .expect("a valid schema object")
}

fn event_type_schema() -> Object {
    serde_json::from_value(serde_json::json!({"type": "string", "enum": EVENT_TYPES}))
        .expect("a valid schema object")
}

fn event_types_schema() -> utoipa::openapi::schema::Array {
    event_types_of_type(serde_json::json!("array"))
}

/// An update's `event_types`: `null` leaves them as they are.
fn optional_event_types_schema() -> utoipa::openapi::schema::Array {
    event_types_of_type(serde_json::json!(["array", "null"]))
}

fn event_types_of_type(of: serde_json::Value) -> utoipa::openapi::schema::Array {
    serde_json::from_value(serde_json::json!({
        "type": of,
        "minItems": 1,
        "items": {"type": "string", "enum": EVENT_TYPES},
    }))
    .expect("a valid schema object")
}

/// A webhook endpoint. `signing_secret` is present only when the endpoint is created or its
/// secret rotated.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointView {
    #[schema(examples("we_6f1c2b0e9d8a7c6b5a4f3e2d1c0b9a88"))]
    pub id: String,
    #[schema(schema_with = object_endpoint)]
    pub object: &'static str,
    pub name: String,
    pub url: String,
    pub event_types: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last configuration or secret change.
    pub updated_at: i64,
    /// A masked hint of the signing secret.
    #[schema(examples("whsec_****Q2xk"))]
    pub signing_secret_hint: String,
    /// `whsec_` + base64; returned only by create and rotate_secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Kinora extension: declared in the server's settings file, so read-only here.
    pub read_only: bool,
}

impl EndpointView {
    pub fn new(e: &WebhookEndpointRecord, with_secret: bool) -> EndpointView {
        EndpointView {
            id: e.id.clone(),
            object: "webhook_endpoint",
            name: e.name.clone(),
            url: e.url.clone(),
            event_types: e.event_types.clone(),
            created_at: e.created_at,
            updated_at: e.updated_at,
            signing_secret_hint: secret_hint(&e.secret),
            signing_secret: with_secret.then(|| e.secret.clone()),
            read_only: e.declared,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeletedWebhookEndpoint)]
pub struct EndpointDeleted {
    pub id: String,
    #[schema(schema_with = object_endpoint_deleted)]
    pub object: &'static str,
    pub deleted: bool,
}

impl EndpointDeleted {
    pub fn new(id: String) -> EndpointDeleted {
        EndpointDeleted {
            id,
            object: "webhook_endpoint.deleted",
            deleted: true,
        }
    }
}

/// The answer of a test delivery: the receiver's status code, whatever it was.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEndpointTestResult)]
pub struct TestResult {
    #[schema(schema_with = object_endpoint_test)]
    pub object: &'static str,
    pub webhook_endpoint_id: String,
    pub event_type: String,
    pub status_code: u16,
    /// Always true: the request completed; `status_code` says how the receiver answered.
    pub success: bool,
}

/// Kinora extension: one delivery of one event to one endpoint, with its latest attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    /// The `webhook-id` header of every attempt of this delivery.
    #[schema(examples("msg_2b7e151628aed2a6abf7158809cf4f3c"))]
    pub id: String,
    #[schema(schema_with = object_delivery)]
    pub object: &'static str,
    pub webhook_endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending` (awaiting an attempt), `delivered` (a 2xx answer) or `failed` (given up).
    #[schema(examples("delivered"))]
    pub status: &'static str,
    pub attempts: u32,
    /// Unix seconds when the event was emitted.
    pub created_at: i64,
    /// Unix seconds of the next attempt while `pending`; otherwise null.
    #[schema(required = true)]
    pub next_attempt_at: Option<i64>,
    #[schema(required = true)]
    pub last_attempt_at: Option<i64>,
    /// The receiver's status code at the last attempt; null if it did not answer.
    #[schema(required = true)]
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed (including a destination blocked by the egress policy).
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// Unix seconds when it was delivered or given up.
    #[schema(required = true)]
    pub completed_at: Option<i64>,
}

impl DeliveryView {
    pub fn new(d: &DeliveryRecord) -> DeliveryView {
        let pending = d.status == kinora_store::DeliveryStatus::Pending;
        DeliveryView {
            id: d.id.clone(),
            object: "webhook_delivery",
            webhook_endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.as_str(),
            attempts: d.attempts,
            created_at: d.created_at,
            next_attempt_at: pending.then(|| d.next_attempt_at_ms.div_euclid(1000)),
            last_attempt_at: d.last_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
            completed_at: d.completed_at,
        }
    }
}

/// `GET /v1/webhook_event_types`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEventTypeList)]
pub struct EventTypeList {
    #[schema(schema_with = crate::webhooks::wire::object_list)]
    pub object: &'static str,
    pub data: Vec<&'static str>,
}

pub(crate) fn object_list() -> Object {
    constant("list")
}
