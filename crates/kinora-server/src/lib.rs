//! The Kinora API server: OpenAI's Videos API on axum, with the job system that renders behind it.
//!
//! The server takes an already-bound listener and a shutdown future, so `kinora serve`, tests and
//! embedders share one path (tests bind port 0 and read the address back).
//!
//! Layout:
//! - [`settings`]: typed, layered settings (defaults → TOML → env → flags)
//! - [`app`]: opening the stores, wiring the router, running and shutting down
//! - [`serve`]: HTTP connections with a header-read deadline and a connection cap
//! - [`routes`]: one module per resource (`videos`, `create`, `derive`, `content`, `characters`,
//!   `models`, `files`, `batches`, `webhooks`, `ops`)
//! - [`form`]: JSON and multipart bodies, read once into the operation's typed request
//! - [`reference`]: `input_reference` images (upload, data: URL, fetched URL)
//! - [`jobs`]: in-process workers (`tick() -> Outcome`), job inputs, blob layout, the sweeper,
//!   the batch driver and batch output files
//! - [`webhooks`]: signed, durable, retried webhook delivery (signing, sender, delivery loop)
//! - [`worker`]: the worker protocol for remote workers (`/internal/v1`) and `kinora worker`
//! - [`progress`]: live progress feeds behind `GET /v1/videos/{id}/events` (one store read per
//!   change, fanned out to every watcher)
//! - [`queue_ranks`]: `queue_position` from a shared, briefly cached snapshot of the queue
//! - [`studio`]: Kinora Studio, the web page at `/` (assets in `studio/`, compiled in)
//! - [`openapi`]: the `/openapi.json` document, generated from the handlers' annotations
//! - [`health`]: node-level faults (a full or read-only disk) for `/readyz` and the workers
//! - [`envelope`]: every error answer in OpenAI's envelope; oversized bodies refused at once
//! - [`auth`], [`egress`], [`error`], [`metrics`], [`view`], [`state`]: the edges

pub mod app;
pub mod auth;
pub mod egress;
pub mod engine_settings;
pub mod envelope;
pub mod error;
pub mod form;
pub mod health;
pub mod interpretation;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod progress;
pub mod queue_ranks;
pub mod reference;
pub mod retry;
pub mod routes;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod state;
pub mod studio;
pub mod view;
pub mod webhooks;
pub mod worker;

pub use app::App;
pub use settings::{Overrides, S3Settings, Settings};
