//! The `kinora` binary as users run it: each module spawns the built executable
//! (`CARGO_BIN_EXE_kinora`) with throwaway state and checks what it prints, serves and writes.
//!
//! One test binary rather than one per file, so CI links it once.

mod cli;
mod durability;
mod events;
mod foreign_cli;
mod remote_workers;
