//! Black-box tests of the HTTP API: each module starts real servers on port 0 with throwaway
//! state (`support::TestApp`) and drives them over HTTP like a client would.
//!
//! One test binary rather than one per file: every file linked the whole server, and on a
//! two-core CI machine those links were minutes of the suite's time.

mod support;

mod batch_events;
mod batches;
mod derived;
mod errors;
mod events;
mod faults;
mod files;
mod hostile;
mod interpretation;
mod jobs;
mod openapi;
mod postgres;
mod s3;
mod videos;
mod webhooks;
mod workers;
