//! Kinora Studio: the web page at `/`, plain HTML, CSS and JavaScript modules compiled into the
//! binary (no build step, no CDN, works offline). It talks to the public `/v1` API only, with
//! the key the user typed (kept in the browser's session storage).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Every asset: (path under `/studio/`, content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "studio.css",
        "text/css",
        include_str!("../studio/studio.css"),
    ),
    ("js/api.js", JS, include_str!("../studio/js/api.js")),
    ("js/app.js", JS, include_str!("../studio/js/app.js")),
    ("js/batches.js", JS, include_str!("../studio/js/batches.js")),
    (
        "js/characters.js",
        JS,
        include_str!("../studio/js/characters.js"),
    ),
    ("js/create.js", JS, include_str!("../studio/js/create.js")),
    ("js/dom.js", JS, include_str!("../studio/js/dom.js")),
    ("js/gallery.js", JS, include_str!("../studio/js/gallery.js")),
    ("js/models.js", JS, include_str!("../studio/js/models.js")),
    (
        "js/operations.js",
        JS,
        include_str!("../studio/js/operations.js"),
    ),
    ("js/video.js", JS, include_str!("../studio/js/video.js")),
    ("js/videos.js", JS, include_str!("../studio/js/videos.js")),
    (
        "js/webhooks.js",
        JS,
        include_str!("../studio/js/webhooks.js"),
    ),
];

const JS: &str = "text/javascript";
const INDEX: &str = include_str!("../studio/index.html");

/// Scripts only from this server; the page needs nothing else (media are blob: URLs).
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
    style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // Assets change with the binary; `no-cache` revalidates instead of running a stale script.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Kinora Studio
#[utoipa::path(
    get,
    path = "/",
    operation_id = "studio",
    tag = "Studio",
    description = "Kinora extension. The studio: a web page for making and watching videos with \
        this server's API (the key is typed into the page, not sent for the page itself).",
    security(()),
    responses((status = 200, description = "The studio's HTML page.", content_type = "text/html")),
)]
pub async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

/// A studio asset
#[utoipa::path(
    get,
    path = "/studio/{path}",
    operation_id = "studio_asset",
    tag = "Studio",
    description = "Kinora extension. The studio's stylesheet and JavaScript modules.",
    security(()),
    params(("path" = String, Path, description = "e.g. `studio.css`, `js/app.js`.")),
    responses(
        (status = 200, description = "The asset (CSS or JavaScript).", content_type = "text/javascript"),
        (status = 404, description = "No such asset.", body = crate::error::ErrorResponse),
    ),
)]
pub async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, ct, body)) => page(ct, body),
        None => ApiError::NotFound {
            message: format!("No studio asset '{path}'."),
            param: None,
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module a script imports is served, so a new file cannot be forgotten here.
    #[test]
    fn every_imported_module_is_served() {
        let mut sources: Vec<&str> = ASSETS.iter().map(|(_, _, b)| *b).collect();
        sources.push(INDEX);
        for src in sources {
            for part in src.split("from './").skip(1) {
                let name = &part[..part.find('\'').unwrap()];
                let path = format!("js/{name}");
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == path),
                    "{path} is imported but not served"
                );
            }
        }
        assert!(INDEX.contains("/studio/js/app.js") && INDEX.contains("/studio/studio.css"));
    }
}
