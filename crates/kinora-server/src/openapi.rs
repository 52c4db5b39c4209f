//! `GET /openapi.json`: the OpenAPI 3.1 document of this server, generated at compile time by
//! utoipa from the handlers' `#[utoipa::path]` attributes and the wire types' `ToSchema` derives.
//!
//! How a new handler joins the document (the tests in `tests/api/openapi/` fail until it has):
//! 1. Annotate the handler with the full path (under `/v1` for the API), as in `routes/videos.rs`:
//!    ```text
//!    #[utoipa::path(
//!        get,
//!        path = "/v1/files/{file_id}",
//!        operation_id = "retrieve_file",
//!        tag = "Files",
//!        params(("file_id" = String, Path, description = "The file's id.")),
//!        responses(
//!            (status = 200, description = "The file.", body = FileView),
//!            (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
//!            (status = 404, description = "No such file in this project.", body = ErrorResponse),
//!        ),
//!    )]
//!    pub async fn retrieve(...)
//!    ```
//!    Give every operation a unique `operation_id` (snake_case, e.g. `"retrieve_file"`): the
//!    default is the function's name, and `list`, `create`, ... repeat across modules.
//!    Bodies: `request_body(content((MyJson = "application/json"), (MyForm = "multipart/form-data")))`;
//!    list queries: `params(ListQuery)`; POSTs that honour `Idempotency-Key`: `params(IdempotencyKeyHeader)`;
//!    errors: `body = ErrorResponse` (from `crate::error`); unauthenticated routes: `security(())`.
//! 2. Derive `utoipa::ToSchema` next to `Serialize` on what the handler answers with, and answer
//!    with that type (`Json(view)`), not a `json!` literal, so the schema is what is served.
//!    Kinora-only fields say "Kinora extension" in their doc comment. A request body is the
//!    handler's typed request (in [`bodies`], read with `Form::fields` or `form::typed`), which
//!    derives both `Deserialize` and `ToSchema`; a multipart-only shape gets a `*Form` type
//!    there for the document, and `bodies`' test checks it folds into the typed request.
//!    Cursor pages: answer `list_view(..)` and document `body = ListPage<ItemView>`.
//! 3. List the handler in `paths(...)` of [`ApiDoc`] below (e.g. `routes::files::retrieve`).
//!    Schemas reachable from the listed paths are collected on their own, except those named
//!    only in an `IntoParams` `value_type`: add those to `components(schemas(...))`.

pub mod bodies;

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Deprecated, OpenApi as Document};
use utoipa::{IntoParams, Modify, OpenApi};

use crate::error::{ApiError, ErrorResponse};
use crate::{metrics, openapi, routes};

/// The name the document gives the `Authorization: Bearer <key>` scheme (also spelled out in
/// `security(...)` below, which takes only a literal).
pub const BEARER: &str = "bearer_auth";

/// The `Idempotency-Key` header of the POSTs that create videos (a Kinora extension).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Kinora extension: the same key with the same body answers the first request's object
    /// again (`idempotent-replayed: true`); with a different body, a 409. 1-255 printable
    /// characters, without surrounding spaces (the server trims them, so they cannot count).
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = r"^[!-~]([ -~]*[!-~])?$"
    )]
    pub key: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kinora",
        version = env!("CARGO_PKG_VERSION"),
        description = "A self-hosted implementation of OpenAI's Videos API (Sora 2). Point the \
            openai SDK's `base_url` at `<server>/v1`. Fields and endpoints marked \
            \"Kinora extension\" are beyond OpenAI's contract; the SDK keeps the fields as extras.",
        license(name = "Apache-2.0"),
    ),
    paths(
        routes::create::create,
        routes::videos::list,
        routes::videos::retrieve,
        routes::videos::delete,
        routes::videos::cancel,
        routes::events::stream,
        crate::studio::index,
        crate::studio::asset,
        routes::content::download,
        routes::derive::extend,
        routes::derive::edit,
        routes::derive::remix,
        routes::characters::create,
        routes::characters::list,
        routes::characters::retrieve,
        routes::characters::delete,
        routes::characters::content,
        routes::models::list,
        routes::models::retrieve,
        routes::workers::list,
        routes::files::create,
        routes::files::list,
        routes::files::retrieve,
        routes::files::delete,
        routes::files::content,
        routes::batches::create,
        routes::batches::list,
        routes::batches::retrieve,
        routes::batches::cancel,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::retrieve,
        routes::webhooks::update,
        routes::webhooks::patch,
        routes::webhooks::delete,
        routes::webhooks::rotate_secret,
        routes::webhooks::test,
        routes::webhooks::deliveries,
        routes::webhooks::event_types,
        routes::ops::healthz,
        routes::ops::readyz,
        metrics::render,
        openapi::document,
    ),
    // Schemas only named by `IntoParams` value types are not collected on their own.
    components(schemas(ErrorResponse, bodies::ContentVariant, bodies::ListOrder)),
    modifiers(&Conventions),
    security(("bearer_auth" = [])),
    tags(
        (name = "Videos", description = "Generation jobs and their media."),
        (name = "Characters", description = "Reusable characters cut out of uploaded clips."),
        (name = "Models", description = "The model catalogue."),
        (name = "Workers", description = "Remote workers serving the queue (Kinora extension)."),
        (name = "Files", description = "Uploads for batch input and reference images; batch output files."),
        (name = "Batches", description = "Batches of `POST /v1/videos` requests from a JSONL file."),
        (name = "Webhooks", description = "Signed event deliveries: endpoints, secrets, tests and the delivery log."),
        (name = "Operations", description = "Health, metrics and this document; no API key needed."),
    )
)]
pub struct ApiDoc;

/// What the derive cannot say: the bearer scheme itself, remix's deprecation (marking the
/// handler `#[deprecated]` would warn at its use in the router), distinct operation ids for
/// the `HEAD` twin of a `method(get, head)` operation (OpenAPI wants every id unique), and the
/// bodies that may be left out.
struct Conventions;

/// Operations whose JSON body is optional: the handler reads an empty one as `{}` (an update
/// that changes nothing; a rotation that keeps no old secret, as the SDK sends it bare).
const OPTIONAL_BODIES: [(&str, &str); 3] = [
    ("/v1/webhook_endpoints/{webhook_endpoint_id}", "post"),
    ("/v1/webhook_endpoints/{webhook_endpoint_id}", "patch"),
    (
        "/v1/webhook_endpoints/{webhook_endpoint_id}/rotate_secret",
        "post",
    ),
];

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        list_error_codes(components);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from the server's settings (`--api-key`, `KINORA_API_KEYS`). \
                         A server started without keys (loopback only) accepts any request.",
                    ))
                    .build(),
            ),
        );
        if let Some(op) = doc
            .paths
            .paths
            .get_mut("/v1/videos/{video_id}/remix")
            .and_then(|item| item.post.as_mut())
        {
            deprecate(op);
        }
        for (path, method) in OPTIONAL_BODIES {
            let item = doc.paths.paths.get_mut(path);
            let op = item.and_then(|item| match method {
                "patch" => item.patch.as_mut(),
                _ => item.post.as_mut(),
            });
            if let Some(utoipa::openapi::RefOr::T(body)) =
                op.and_then(|op| op.request_body.as_mut())
            {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            if path.starts_with("/v1/") {
                document_edge_answers(item);
            }
            if let (Some(get), Some(head)) = (&item.get, &mut item.head)
                && head.operation_id.is_some()
                && head.operation_id == get.operation_id
            {
                head.operation_id = head.operation_id.take().map(|id| format!("{id}_head"));
            }
        }
    }
}

/// The `code` of `Error` (an error answer) and of `VideoError` (a failed video) lists every code
/// Kinora writes, from the one table in `kinora_core::ErrorCode`, so clients see what they may
/// branch on.
fn list_error_codes(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::{RefOr, Schema};
    let table = kinora_core::ErrorCode::markdown_table();
    for (schema, lead) in [
        ("Error", "Machine-readable reason."),
        ("VideoError", "Why the video failed."),
    ] {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema)
            && let Some(RefOr::T(Schema::Object(code))) = object.properties.get_mut("code")
        {
            code.description = Some(format!(
                "{lead} Every code Kinora writes (codes sent by a remote worker pass through \
                 as it wrote them):\n\n{table}"
            ));
        }
    }
}

/// Answers any API operation can give whatever its handler does, added where the operation does
/// not already say more: 400 (a malformed query or path), 405 (another method on the URL), 408
/// (the request outlived `request_timeout_seconds`), 413 (a body over the limit, where there is
/// a body), 503 (storage out of reach or its disk full: `service_unavailable`,
/// `storage_unavailable`, with `Retry-After`).
fn document_edge_answers(item: &mut utoipa::openapi::PathItem) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorResponse")))
                    .build(),
            )
            .build()
    };
    let ops = [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ];
    for op in ops.into_iter().flatten() {
        let has_body = op.request_body.is_some();
        let answers = &mut op.responses.responses;
        let mut add = |status: &str, description: &str| {
            answers
                .entry(status.to_string())
                .or_insert_with(|| error(description).into());
        };
        add("400", "A malformed query, path or body.");
        add("405", "The URL does not take this method.");
        add(
            "408",
            "The request took longer than the server allows (`request_timeout`).",
        );
        if has_body {
            add("413", "The body is larger than the server accepts.");
        }
        add(
            "503",
            "Storage is out of reach or its disk refuses writes (`service_unavailable`, \
             `storage_unavailable`); retry after `Retry-After`.",
        );
    }
}

fn deprecate(op: &mut Operation) {
    op.deprecated = Some(Deprecated::True);
}

/// Rendered once: the document is fixed at compile time.
static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string()));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_document",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json")),
)]
pub async fn document() -> Response {
    match &*DOCUMENT {
        Ok(json) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json.clone(),
        )
            .into_response(),
        Err(e) => {
            ApiError::internal(format!("serializing the OpenAPI document: {e}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::media::Variant;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(DOCUMENT.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn every_error_code_is_listed_where_clients_read_codes() {
        let d = doc();
        for schema in ["Error", "VideoError"] {
            let listed = d["components"]["schemas"][schema]["properties"]["code"]["description"]
                .as_str()
                .unwrap_or_default();
            for code in kinora_core::ErrorCode::ALL {
                assert!(
                    listed.contains(&format!("| `{code}` |")),
                    "{schema} lacks {code}"
                );
            }
        }
    }

    #[test]
    fn documented_variants_are_the_served_ones() {
        let d = doc();
        let params = d["paths"]["/v1/videos/{video_id}/content"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let variant = params.iter().find(|p| p["name"] == "variant").unwrap();
        let schema = &variant["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => &d["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => schema,
        };
        let documented: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(documented, ["video", "thumbnail", "spritesheet"]);
        for wire in documented {
            let served = Variant::parse(wire).unwrap_or_else(|| panic!("{wire} is not served"));
            assert!(served.file_name().starts_with(wire));
        }
    }

    #[test]
    fn bearer_scheme_and_deprecated_remix() {
        let d = doc();
        assert_eq!(
            d["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        assert_eq!(d["security"][0][BEARER], serde_json::json!([]));
        assert_eq!(
            d["paths"]["/v1/videos/{video_id}/remix"]["post"]["deprecated"],
            true
        );
        assert_eq!(d["info"]["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn open_endpoints_need_no_key() {
        let d = doc();
        for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
            assert_eq!(
                d["paths"][path]["get"]["security"],
                serde_json::json!([{}]),
                "{path}"
            );
        }
    }
}
