//! `GET /v1/models`: the catalogue in OpenAI's list shape, with Kinora's extra facts per model
//! (engine, sizes, seconds, features, prices) that the SDK keeps as extra fields.

use axum::Json;
use axum::extract::{Path, State};
use kinora_core::{ModelSpec, PriceTier};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::state::AppState;
use crate::view::constant;

fn object_model() -> Object {
    constant("model")
}

fn object_list() -> Object {
    constant("list")
}

/// One price tier of a model (Kinora extension).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ModelPricing)]
pub struct PricingView {
    #[schema(examples("720p"))]
    pub resolution: String,
    /// The sizes (`WIDTHxHEIGHT`) billed at this tier.
    pub sizes: Vec<String>,
    pub usd_per_second: f64,
    /// The price through the Batch API.
    pub batch_usd_per_second: f64,
}

/// A model, in OpenAI's shape plus Kinora's facts about what it renders.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Model)]
pub struct ModelView {
    #[schema(examples("sora-2"))]
    pub id: String,
    #[schema(schema_with = object_model)]
    pub object: &'static str,
    /// Unix seconds.
    pub created: i64,
    #[schema(examples("kinora"))]
    pub owned_by: &'static str,
    /// Kinora extension: which engine renders it (`builtin` or a worker pool's name).
    pub engine: String,
    /// Kinora extension.
    pub description: String,
    /// Kinora extension: the sizes it accepts.
    pub sizes: Vec<String>,
    /// Kinora extension: the clip lengths it accepts (as the wire's strings).
    pub seconds: Vec<String>,
    /// Kinora extension: what it supports beyond text-to-video.
    pub features: Vec<String>,
    /// Kinora extension: price per second, by resolution.
    pub pricing: Vec<PricingView>,
}

/// `GET /v1/models`'s answer (OpenAI's models list has no cursor fields).
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    #[schema(schema_with = object_list)]
    pub object: &'static str,
    pub data: Vec<ModelView>,
}

fn pricing(t: &PriceTier) -> PricingView {
    PricingView {
        resolution: t.resolution.clone(),
        sizes: t.sizes.iter().map(|s| s.to_string()).collect(),
        usd_per_second: t.price_per_second,
        batch_usd_per_second: t.batch_price_per_second,
    }
}

fn view(m: &ModelSpec) -> ModelView {
    ModelView {
        id: m.id.clone(),
        object: "model",
        created: m.created,
        owned_by: "kinora",
        engine: m.engine.clone(),
        description: m.description.clone(),
        sizes: m.sizes().map(|s| s.to_string()).collect(),
        seconds: m.seconds.iter().map(|s| s.to_string()).collect(),
        features: m.features.clone(),
        pricing: m.tiers.iter().map(pricing).collect(),
    }
}

#[utoipa::path(
    get,
    path = "/v1/models",
    operation_id = "list_models",
    tag = "Models",
    responses(
        (status = 200, description = "Every model this server renders, aliases included.", body = ModelList),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
    ),
)]
pub async fn list(State(state): State<AppState>, _project: Project) -> Json<ModelList> {
    Json(ModelList {
        object: "list",
        data: state.catalogue.models.iter().map(view).collect(),
    })
}

#[utoipa::path(
    get,
    path = "/v1/models/{model}",
    operation_id = "retrieve_model",
    tag = "Models",
    params(("model" = String, Path, description = "The model's id, e.g. `sora-2`.")),
    responses(
        (status = 200, description = "The model.", body = ModelView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such model.", body = ErrorResponse),
    ),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    _project: Project,
    Path(id): Path<String>,
) -> ApiResult<Json<ModelView>> {
    state
        .catalogue
        .get(&id)
        .map(|m| Json(view(m)))
        .ok_or_else(|| ApiError::NotFound {
            message: format!("The model '{id}' does not exist."),
            param: Some("model".into()),
        })
}
