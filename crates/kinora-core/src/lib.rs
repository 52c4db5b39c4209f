//! Kinora's domain: the vocabulary every other crate speaks, with no HTTP, SQL or files in it.
//!
//! Raw input is parsed into these types once, at the edge (the API or the CLI); everything behind
//! the edge can then trust a `VideoSize` to be a size the model serves and `Seconds` to be in range.
//!
//! Layout:
//! - [`ids`]: prefixed random identifiers (`video_…`, `char_…`, `file-…`, …)
//! - [`size`]: `VideoSize`, the `"WIDTHxHEIGHT"` wire string
//! - [`seconds`]: `Seconds`, the clip length that travels as a string on the wire
//! - [`status`]: the public job state machine (`queued → in_progress → completed | failed`, then `expired`)
//! - [`catalogue`]: the model catalogue: which model serves which sizes, lengths and prices
//! - [`job`]: `JobSpec`, what a render job asks for, as stored with the job
//! - [`error_code`]: `ErrorCode`, every error `code` Kinora writes, with its status and meaning
//! - [`validation`]: `Invalid`, a rejected field with the OpenAI `param` and `code` it maps to
//! - [`clock`]: Unix-seconds time, the only time unit on the wire

pub mod catalogue;
pub mod clock;
pub mod error_code;
pub mod ids;
pub mod job;
pub mod seconds;
pub mod size;
pub mod status;
pub mod validation;

pub use catalogue::{Catalogue, ModelSpec, PriceTier};
pub use error_code::ErrorCode;
pub use job::{JobSpec, SourceVideo};
pub use seconds::Seconds;
pub use size::VideoSize;
pub use status::VideoStatus;
pub use validation::Invalid;
