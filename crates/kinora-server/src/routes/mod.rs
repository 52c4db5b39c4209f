//! The HTTP surface: one function per endpoint, grouped by resource.

pub mod batches;
pub mod characters;
pub mod content;
pub mod create;
pub mod derive;
pub mod enqueue;
pub mod events;
pub mod files;
pub mod models;
pub mod ops;
pub mod paging;
pub mod videos;
pub mod webhooks;
pub mod workers;

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
        .route("/videos/characters/{id}/content", get(characters::content))
        .route("/videos/{id}", get(videos::retrieve).delete(videos::delete))
        .route("/videos/{id}/content", get(content::download))
        .route("/videos/{id}/events", get(events::stream))
        .route("/videos/{id}/remix", post(derive::remix))
        .route("/videos/{id}/cancel", post(videos::cancel))
        .route("/models", get(models::list))
        .route("/workers", get(workers::list))
        .route("/files", post(files::create).get(files::list))
        .route("/files/{id}", get(files::retrieve).delete(files::delete))
        .route("/files/{id}/content", get(files::content))
        .route("/batches", post(batches::create).get(batches::list))
        .route("/batches/{id}", get(batches::retrieve))
        .route("/batches/{id}/cancel", post(batches::cancel))
        .route("/models/{id}", get(models::retrieve))
        .route(
            "/webhook_endpoints",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/webhook_endpoints/{id}",
            get(webhooks::retrieve)
                .post(webhooks::update)
                .patch(webhooks::patch)
                .delete(webhooks::delete),
        )
        .route(
            "/webhook_endpoints/{id}/rotate_secret",
            post(webhooks::rotate_secret),
        )
        .route("/webhook_endpoints/{id}/test", post(webhooks::test))
        .route(
            "/webhook_endpoints/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route("/webhook_event_types", get(webhooks::event_types))
}
