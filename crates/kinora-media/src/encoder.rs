//! `Mp4Encoder`: RGB or I420 frames + PCM in, H.264 + Opus (or AAC) MP4 out, streaming.

use crate::h264::{Effort, encode_frame, new_encoder, rgb_to_yuv};
use crate::mux::ClipWriter;
use crate::{AudioCodec, ClipInfo, MediaError, RgbFrame, VideoParams, YuvFrame};
use openh264::formats::YUVBuffer;
use std::path::Path;
use std::time::Instant;

/// OpenH264 worker threads. Two threads with size-limited slices roughly match the two cores
/// this runs on; output stays byte-identical run to run (see `tests::deterministic`).
pub const ENCODER_THREADS: u16 = 2;

/// Streaming MP4 writer: H.264 (OpenH264) video plus optional audio (Opus by default, AAC-LC
/// with the `aac` feature, see [`Mp4Encoder::create_with_audio`]), muxed with muxide,
/// fast-start (`moov` before `mdat`). Only compressed data is kept until `finish`.
pub struct Mp4Encoder {
    writer: ClipWriter,
    encoder: openh264::encoder::Encoder,
    yuv: YUVBuffer,
    params: VideoParams,
}

impl Mp4Encoder {
    /// With Opus audio when `with_audio`.
    pub fn create(path: &Path, params: VideoParams, with_audio: bool) -> Result<Self, MediaError> {
        Self::create_with_threads(path, params, with_audio, ENCODER_THREADS)
    }

    /// With an audio track in `audio`'s codec, or none.
    pub fn create_with_audio(
        path: &Path,
        params: VideoParams,
        audio: Option<AudioCodec>,
    ) -> Result<Self, MediaError> {
        Self::open(path, params, audio, ENCODER_THREADS, Effort::Standard)
    }

    /// Like [`Mp4Encoder::create_with_audio`], with OpenH264's search set by `effort`
    /// ([`Effort::Footage`] for re-encoding decoded footage).
    pub fn create_with_effort(
        path: &Path,
        params: VideoParams,
        audio: Option<AudioCodec>,
        effort: Effort,
    ) -> Result<Self, MediaError> {
        Self::open(path, params, audio, ENCODER_THREADS, effort)
    }

    /// Like `create` with an explicit OpenH264 thread count (1 disables slice threading).
    pub fn create_with_threads(
        path: &Path,
        params: VideoParams,
        with_audio: bool,
        threads: u16,
    ) -> Result<Self, MediaError> {
        Self::open(
            path,
            params,
            with_audio.then_some(AudioCodec::Opus),
            threads,
            Effort::Standard,
        )
    }

    fn open(
        path: &Path,
        params: VideoParams,
        audio: Option<AudioCodec>,
        threads: u16,
        effort: Effort,
    ) -> Result<Self, MediaError> {
        params.validate()?;
        let encoder = new_encoder(params, threads.max(1), effort)?;
        let writer = ClipWriter::create(path, params, audio)?;
        Ok(Self {
            writer,
            encoder,
            yuv: YUVBuffer::new(params.width as usize, params.height as usize),
            params,
        })
    }

    pub fn params(&self) -> VideoParams {
        self.params
    }

    pub fn frames_written(&self) -> u32 {
        self.writer.frames()
    }

    pub fn push_frame(&mut self, frame: &RgbFrame) -> Result<(), MediaError> {
        self.check_size(frame.width, frame.height)?;
        frame.check()?;
        rgb_to_yuv(frame, &mut self.yuv);
        let index = u64::from(self.writer.frames());
        let encoded = encode_frame(&mut self.encoder, &self.yuv, index, self.params.fps)?;
        self.writer.write_video(&encoded.annexb, encoded.keyframe)
    }

    fn check_size(&self, width: u32, height: u32) -> Result<(), MediaError> {
        if (width, height) != (self.params.width, self.params.height) {
            return Err(MediaError::InvalidInput(format!(
                "frame is {width}x{height}, the encoder was created for {}x{}",
                self.params.width, self.params.height
            )));
        }
        Ok(())
    }

    /// Encodes one I420 frame as it is (decoded footage: no trip through RGB).
    pub fn push_yuv(&mut self, frame: &YuvFrame) -> Result<(), MediaError> {
        self.check_size(frame.width, frame.height)?;
        frame.check()?;
        let index = u64::from(self.writer.frames());
        let encoded = encode_frame(&mut self.encoder, &frame.slices(), index, self.params.fps)?;
        self.writer.write_video(&encoded.annexb, encoded.keyframe)
    }

    /// Interleaved stereo 48 kHz samples in [-1, 1], any chunk size (whole stereo frames).
    pub fn push_audio(&mut self, interleaved: &[f32]) -> Result<(), MediaError> {
        self.writer.push_audio(interleaved)
    }

    /// Writes the file. Audio is padded with silence or trimmed to exactly the video duration.
    pub fn finish(self) -> Result<ClipInfo, MediaError> {
        self.writer.finish()
    }
}

/// Encoder-only throughput in frames per second: RGB->YUV conversion plus H.264 encoding of
/// each frame once, with the same settings as `Mp4Encoder` (no muxing, no file I/O).
pub fn bench_encoder(params: VideoParams, frames: &[RgbFrame]) -> Result<f64, MediaError> {
    bench_encoder_with_threads(params, frames, ENCODER_THREADS)
}

/// `bench_encoder` with an explicit OpenH264 thread count.
pub fn bench_encoder_with_threads(
    params: VideoParams,
    frames: &[RgbFrame],
    threads: u16,
) -> Result<f64, MediaError> {
    params.validate()?;
    if frames.is_empty() {
        return Err(MediaError::InvalidInput(
            "benchmark needs at least one frame".into(),
        ));
    }
    let mut encoder = new_encoder(params, threads.max(1), Effort::Standard)?;
    let mut yuv = YUVBuffer::new(params.width as usize, params.height as usize);
    let start = Instant::now();
    for (i, frame) in frames.iter().enumerate() {
        if frame.width != params.width || frame.height != params.height {
            return Err(MediaError::InvalidInput(
                "benchmark frame size differs from params".into(),
            ));
        }
        frame.check()?;
        rgb_to_yuv(frame, &mut yuv);
        encode_frame(&mut encoder, &yuv, i as u64, params.fps)?;
    }
    Ok(frames.len() as f64 / start.elapsed().as_secs_f64().max(1e-9))
}
