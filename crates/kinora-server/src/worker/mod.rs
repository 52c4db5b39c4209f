//! Remote workers: the worker protocol every node serves under `/internal/v1`
//! (docs/worker-protocol.md), and its client, `kinora worker`, which runs the built-in engine on
//! another machine.
//!
//! Layout:
//! - [`protocol`]: the messages; [`schema`]: their JSON Schema, generated and committed
//! - [`config`]: worker tokens and `[[remote_models]]`, routing each model to a pool
//! - [`routes`]: register, long-poll lease, heartbeat, inputs, artifact uploads; [`job`]: the job
//!   message and its inputs
//! - [`finish`]: `complete` (validate, normalise, stitch, previews, store) and `fail`
//! - [`guard`]: what every worker call checks (token, lease fence, JSON body), and upload keys
//! - [`client`]: the remote built-in worker loop; [`http`]: its calls to the node

pub mod client;
pub mod config;
pub mod finish;
pub mod guard;
pub mod http;
pub mod job;
pub mod protocol;
pub mod routes;
pub mod schema;
