//! End-to-end tests of each mode, checked with ffprobe/ffmpeg.

#[cfg(feature = "aac")]
mod aac;
mod adopt;
mod character;
mod create;
mod degree;
mod edit;
mod extend;
mod foreign;
mod framing;
mod kit;
mod placement;
mod reading;
mod shot;
mod subject;
