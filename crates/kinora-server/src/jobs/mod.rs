//! The in-process job system: workers that lease jobs from the metadata store and render them
//! with the built-in engine, the sweeper that reclaims lost leases and expires old media and
//! files, and the batch driver that validates, enqueues and finalizes batches.

pub mod batch_output;
pub mod batches;
pub mod inputs;
pub mod media;
pub mod node_fault;
pub mod priority;
pub mod runner;
pub mod store_retry;
pub mod sweeper;
