//! MP4 writing on top of muxide: constant frame rate video, optional Opus (or, with the `aac`
//! feature, AAC-LC) audio, fast-start.

use crate::audio_codec::{AudioCodec, AudioTrack};
use crate::{AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, ClipInfo, MediaError, VideoParams};
use muxide::api::{Muxer, MuxerBuilder, VideoCodec};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Takes encoded H.264 access units (Annex-B) and raw PCM. muxide keeps only the compressed
/// samples in memory until `finish` writes `ftyp`, `moov`, then `mdat` (fast-start). No
/// metadata is attached, so no wall-clock time lands in the file and output is reproducible.
pub(crate) struct ClipWriter {
    muxer: Muxer<BufWriter<File>>,
    params: VideoParams,
    frames: u32,
    audio: Option<AudioTrack>,
}

impl ClipWriter {
    pub fn create(
        path: &Path,
        params: VideoParams,
        audio: Option<AudioCodec>,
    ) -> Result<Self, MediaError> {
        params.validate()?;
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let mut builder = MuxerBuilder::new(file)
            .video(
                VideoCodec::H264,
                params.width,
                params.height,
                f64::from(params.fps),
            )
            .with_fast_start(true);
        if let Some(codec) = audio {
            builder = builder.audio(codec.muxer_codec(), AUDIO_SAMPLE_RATE, AUDIO_CHANNELS);
        }
        Ok(Self {
            muxer: builder.build()?,
            params,
            frames: 0,
            audio: audio.map(AudioTrack::new).transpose()?,
        })
    }

    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Appends one access unit; the first must be a keyframe carrying SPS and PPS.
    pub fn write_video(&mut self, annexb: &[u8], keyframe: bool) -> Result<(), MediaError> {
        let pts = f64::from(self.frames) / f64::from(self.params.fps);
        self.muxer.write_video(pts, annexb, keyframe)?;
        self.frames += 1;
        self.flush_audio()
    }

    pub fn push_audio(&mut self, interleaved: &[f32]) -> Result<(), MediaError> {
        let Some(audio) = self.audio.as_mut() else {
            return Err(MediaError::InvalidInput(
                "audio pushed to an encoder created without audio".into(),
            ));
        };
        audio.push(interleaved)?;
        self.flush_audio()
    }

    /// Audio may only be written once video exists (muxide orders tracks by the first frame).
    fn flush_audio(&mut self) -> Result<(), MediaError> {
        let Self {
            muxer,
            params,
            frames,
            audio,
        } = self;
        if let (Some(audio), true) = (audio.as_mut(), *frames > 0) {
            audio.encode_ready(params.audio_samples_for(*frames), &mut |pts, packet| {
                write_audio_packet(muxer, pts, packet)
            })?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<ClipInfo, MediaError> {
        let Self {
            mut muxer,
            params,
            frames,
            mut audio,
        } = self;
        if frames < 2 {
            // MP4 stores each frame's duration as the gap to the next one; a lone frame has none.
            return Err(MediaError::InvalidInput(format!(
                "a clip needs at least 2 video frames, got {frames}"
            )));
        }
        let has_audio = audio.is_some();
        if let Some(audio) = audio.as_mut() {
            audio.finish(params.audio_samples_for(frames), &mut |pts, packet| {
                write_audio_packet(&mut muxer, pts, packet)
            })?;
        }
        muxer.finish_in_place()?;
        muxer.into_writer().flush()?;
        Ok(ClipInfo {
            width: params.width,
            height: params.height,
            fps: f64::from(params.fps),
            frames,
            duration_s: f64::from(frames) / f64::from(params.fps),
            has_audio,
        })
    }
}

fn write_audio_packet(
    muxer: &mut Muxer<BufWriter<File>>,
    first_sample: u64,
    packet: &[u8],
) -> Result<(), MediaError> {
    let pts = first_sample as f64 / f64::from(AUDIO_SAMPLE_RATE);
    muxer.write_audio(pts, packet)?;
    Ok(())
}
