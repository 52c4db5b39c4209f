//! The in-process job system: workers that lease jobs from the metadata store and render them
//! with the built-in engine, and the sweeper that reclaims lost leases and expires old media.

pub mod inputs;
pub mod media;
pub mod runner;
pub mod sweeper;
