//! kinora-media: everything Kinora does with video files. The render engine pushes RGB frames
//! and PCM into [`Mp4Encoder`]; the API server probes, decodes, joins and previews the results.
//! Audio is always 48 kHz stereo, interleaved `f32` in [-1, 1].
//!
//! Layout:
//! - `error`   — [`MediaError`], the single error type (bad input never panics).
//! - `frame`   — [`VideoParams`], [`RgbFrame`] (with `image` conversions), [`psnr`].
//! - `yuv`     — [`YuvFrame`]: I420 as decoded footage travels to the encoder, and to RGB.
//! - `h264`    — OpenH264 settings (bitrate, IDR period, threads), RGB -> I420 and
//!   Annex-B/AVCC framing.
//! - `audio`   — Opus encoding in 20 ms packets with exact-length trimming, and decoding.
//! - `audio_codec` — [`AudioCodec`] (`opus`, and `aac` with the feature) and the track that
//!   encodes for either.
//! - `aac`     — (feature `aac`) AAC-LC encoding via FDK AAC, delay-compensated, and decoding.
//! - `mux`     — MP4 writing via muxide (fast-start, constant frame rate, no timestamps).
//! - `demux`   — defensive MP4 box parser (sample tables, avcC, dOps).
//! - `encoder` — [`Mp4Encoder`] and the [`bench_encoder`] throughput probe.
//! - `decoder` — [`Mp4Decoder`]: OpenH264 decoding of Kinora's own (Baseline) MP4s.
//! - `clip`    — the seam every reader uses: [`probe`], [`ClipReader`], [`last_frame`],
//!   [`decode_audio`] pick the in-process decoder or the sandboxed ffmpeg ([`origin`]).
//! - `foreign` — [`probe_foreign`] and [`ForeignDecoder`]: any other clip through ffprobe and
//!   ffmpeg child processes (H.264 of every profile, HEVC, VP9, AV1, ProRes; MP4, MOV, WebM,
//!   MKV; rotation applied, re-timed by time; AAC, Opus, MP3, PCM audio).
//! - `sandbox` — how those children run: cleared environment, file/pipe protocols only, a
//!   whitelist of container demuxers, address-space and CPU limits, a wall-clock watchdog.
//! - `stitch`  — [`stitch`] / [`stitch_with`]: join two clips, copying the video samples.
//! - `preview` — [`thumbnail_webp`] and [`spritesheet_jpeg`].
//!
//! Sprite sheet layout: a JPEG grid of [`SPRITESHEET_COLUMNS`] x [`SPRITESHEET_ROWS`] (5 x 5)
//! equal tiles, filled in row-major order (left to right, then top to bottom). Each tile is the
//! frame scaled so its long side is 256 px with the aspect kept (1280x720 -> 256x144 tiles,
//! 1280x720 sheet; 720x1280 -> 144x256 tiles, 720x1280 sheet). Tile `i` of `n = min(25, frames)`
//! shows frame `floor(i * frames / n)` ([`spritesheet_frame_indices`]); unused cells are black.
//!
//! Clips are constant frame rate with at least 2 frames (MP4 stores a frame's duration as the
//! gap to the next one); the file's duration is exactly `frames / fps`. Sizes must be even
//! (4:2:0), from 16 px up to 3840x2160 in either orientation. Audio is padded with silence or
//! trimmed to the video duration; decoded audio lines up sample-exactly (Opus pre-skip honoured).
//!
//! Codecs: H.264 Constrained Baseline from OpenH264 (IDR at least every 2 s, bitrate ≈4 Mbit/s
//! at 720p and ≈8 Mbit/s at 1080p, BT.601 limited range signalled in the VUI), Opus audio from
//! opus-rs (pure Rust) in MP4 (`Opus`/`dOps`) by default. With the opt-in `aac` cargo feature,
//! [`AudioCodec::Aac`] writes AAC-LC (192 kbit/s, `mp4a`/`esds`) from the bundled FDK AAC
//! library instead; its encoder delay is compensated so sync is exact after the first 43 ms
//! (see `aac`). Output is deterministic: the same frames and audio give a byte-identical file,
//! with either codec; a build without the feature writes exactly what it wrote before.
//!
//! Licences: OpenH264 is BSD-2 and is built from source here, which carries no H.264 patent
//! licence (Cisco's covers only its prebuilt binary). Opus is royalty-free (BSD-3). libwebp is
//! BSD-3. Nothing here links GPL code. The `aac` feature links Fraunhofer's FDK AAC, whose
//! licence is not OSI-approved (not free software, GPL-incompatible, no AAC patent licence):
//! that is why it is off by default.

#[cfg(feature = "aac")]
mod aac;
mod audio;
mod audio_codec;
mod clip;
mod decoder;
mod demux;
mod encoder;
mod error;
mod foreign;
mod format;
mod frame;
mod h264;
mod mux;
mod preview;
mod sandbox;
mod stitch;
mod yuv;

#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "aac"))]
mod tests_aac;
#[cfg(test)]
mod testutil;

pub use audio_codec::AudioCodec;
pub use clip::{ClipReader, Origin, decode_audio, last_frame, origin, probe};
pub use decoder::Mp4Decoder;
pub use encoder::{ENCODER_THREADS, Mp4Encoder, bench_encoder, bench_encoder_with_threads};
pub use error::MediaError;
pub use foreign::{ForeignDecoder, MAX_FOREIGN_SECONDS, Pixels, probe_foreign};
pub use format::{AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, ClipInfo};
pub use frame::{RgbFrame, VideoParams, psnr};
pub use h264::{Effort, keyframe_interval, target_bitrate};
pub use preview::{
    SPRITE_TILE_LONG_SIDE, SPRITESHEET_COLUMNS, SPRITESHEET_ROWS, THUMBNAIL_LONG_SIDE,
    fit_long_side, resize, sprite_tile_size, spritesheet_frame_indices, spritesheet_jpeg,
    thumbnail_webp,
};
pub use stitch::{stitch, stitch_with};
pub use yuv::YuvFrame;
