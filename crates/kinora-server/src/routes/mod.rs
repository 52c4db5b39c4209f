//! The HTTP surface: one function per endpoint, grouped by resource.

pub mod characters;
pub mod content;
pub mod create;
pub mod derive;
pub mod enqueue;
pub mod models;
pub mod ops;
pub mod paging;
pub mod videos;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn v1() -> Router<AppState> {
    Router::new()
        .route("/videos", post(create::create).get(videos::list))
        .route("/videos/extensions", post(derive::extend))
        .route("/videos/edits", post(derive::edit))
        .route(
            "/videos/characters",
            post(characters::create).get(characters::list),
        )
        .route(
            "/videos/characters/{id}",
            get(characters::retrieve).delete(characters::delete),
        )
        .route("/videos/{id}", get(videos::retrieve).delete(videos::delete))
        .route("/videos/{id}/content", get(content::download))
        .route("/videos/{id}/remix", post(derive::remix))
        .route("/videos/{id}/cancel", post(videos::cancel))
        .route("/models", get(models::list))
        .route("/models/{id}", get(models::retrieve))
}
