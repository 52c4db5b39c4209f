//! `GET /v1/models`: the catalogue in OpenAI's list shape, with Kinora's extra facts per model
//! (engine, sizes, seconds, features, prices) that the SDK keeps as extra fields.

use axum::Json;
use axum::extract::{Path, State};
use kinora_core::ModelSpec;
use serde_json::{Value, json};

use crate::auth::Project;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn view(m: &ModelSpec) -> Value {
    json!({
        "id": m.id,
        "object": "model",
        "created": m.created,
        "owned_by": "kinora",
        "engine": m.engine,
        "description": m.description,
        "sizes": m.sizes().map(|s| s.to_string()).collect::<Vec<_>>(),
        "seconds": m.seconds.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "features": m.features,
        "pricing": m.tiers.iter().map(|t| json!({
            "resolution": t.resolution,
            "sizes": t.sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "usd_per_second": t.price_per_second,
            "batch_usd_per_second": t.batch_price_per_second,
        })).collect::<Vec<_>>(),
    })
}

pub async fn list(State(state): State<AppState>, _project: Project) -> Json<Value> {
    let data: Vec<Value> = state.catalogue.models.iter().map(view).collect();
    Json(json!({"object": "list", "data": data}))
}

pub async fn retrieve(
    State(state): State<AppState>,
    _project: Project,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state
        .catalogue
        .get(&id)
        .map(|m| Json(view(m)))
        .ok_or_else(|| ApiError::NotFound {
            message: format!("The model '{id}' does not exist."),
            param: Some("model".into()),
        })
}
