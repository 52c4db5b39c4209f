//! End-to-end tests of each mode, checked with ffprobe/ffmpeg.

mod character;
mod create;
mod edit;
mod extend;
mod kit;
