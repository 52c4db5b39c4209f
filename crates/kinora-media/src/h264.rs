//! OpenH264 encoder settings and H.264 bitstream framing (Annex-B <-> AVCC).

use crate::{MediaError, VideoParams};
use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};

/// Target bitrate: ~4 Mbit/s at 720p24 and ~8 Mbit/s at 1080p24 (both ≈36 dB on natural
/// content), scaled sub-linearly with pixel count and with the square root of the frame rate.
pub fn target_bitrate(params: VideoParams) -> u32 {
    let pixels = f64::from(params.width) * f64::from(params.height);
    let by_size = 4_000_000.0 * (pixels / (1280.0 * 720.0)).powf(0.85);
    let by_rate = (f64::from(params.fps.max(1)) / 24.0).sqrt();
    (by_size * by_rate).clamp(300_000.0, 40_000_000.0) as u32
}

/// Keyframe (IDR) interval in frames: at most two seconds, so the last frame of a clip needs one
/// GOP decoded and clips can be cut and joined at keyframes.
pub fn keyframe_interval(fps: u32) -> u32 {
    (fps.max(1) * 2).max(1)
}

/// Slices bound the bytes per NAL; two threads only help when a frame has several slices.
const MAX_SLICE_BYTES: u32 = 32 * 1024;

/// How hard OpenH264 searches for each frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Effort {
    /// Medium complexity: what the engine's painted frames get.
    #[default]
    Standard,
    /// Low complexity, for footage re-encoded as it was decoded (a foreign clip being
    /// extended), where the encode is most of the work. On a 20 s 1080p phone clip it took a
    /// foreign extension from 9.4 s to 8.8 s at the same bitrate, for 0.17 dB less PSNR
    /// against the source (44.30 -> 44.13 dB; see docs/benchmarks.md).
    Footage,
}

pub(crate) fn new_encoder(
    params: VideoParams,
    threads: u16,
    effort: Effort,
) -> Result<Encoder, MediaError> {
    let complexity = match effort {
        Effort::Standard => Complexity::Medium,
        Effort::Footage => Complexity::Low,
    };
    let mut config = EncoderConfig::new()
        .usage_type(UsageType::CameraVideoRealTime)
        .rate_control_mode(RateControlMode::Bitrate)
        .bitrate(BitRate::from_bps(target_bitrate(params)))
        .max_frame_rate(FrameRate::from_hz(params.fps as f32))
        .skip_frames(false)
        .intra_frame_period(IntraFramePeriod::from_num_frames(keyframe_interval(
            params.fps,
        )))
        .complexity(complexity)
        .vui(VuiConfig::bt601())
        .num_threads(threads);
    if threads > 1 {
        config = config.max_slice_len(MAX_SLICE_BYTES);
    }
    Ok(Encoder::with_api_config(
        OpenH264API::from_source(),
        config,
    )?)
}

/// RGB8 -> I420, BT.601 limited range. OpenH264's converter (AVX2 when available) was measured
/// at 0.95 ms per 1080p frame against 4.7 ms for a hand-written scalar integer version, so the
/// hot path uses it; the decode side likewise uses `DecodedYUV::write_rgb8`.
pub(crate) fn rgb_to_yuv(frame: &crate::RgbFrame, yuv: &mut YUVBuffer) {
    yuv.read_rgb8(RgbSliceU8::new(
        &frame.data,
        (frame.width as usize, frame.height as usize),
    ));
}

/// One encoded access unit in Annex-B framing.
pub(crate) struct EncodedFrame {
    pub annexb: Vec<u8>,
    pub keyframe: bool,
}

pub(crate) fn encode_frame(
    encoder: &mut Encoder,
    yuv: &impl YUVSource,
    index: u64,
    fps: u32,
) -> Result<EncodedFrame, MediaError> {
    let millis = index * 1000 / u64::from(fps.max(1));
    let stream = encoder.encode_at(yuv, openh264::Timestamp::from_millis(millis))?;
    let frame_type = stream.frame_type();
    let annexb = stream.to_vec();
    if annexb.is_empty() || matches!(frame_type, FrameType::Skip | FrameType::Invalid) {
        return Err(MediaError::Codec(format!(
            "openh264 produced no data for frame {index} ({frame_type:?})"
        )));
    }
    let keyframe = nal_units_annexb(&annexb).any(|nal| nal_type(nal) == NAL_IDR);
    Ok(EncodedFrame { annexb, keyframe })
}

pub const NAL_IDR: u8 = 5;
pub const NAL_SPS: u8 = 7;

pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

/// Iterates the NAL units of an Annex-B buffer (3- or 4-byte start codes).
pub fn nal_units_annexb(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut bounds = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
        // Trailing zeros belong to the next 4-byte start code, not to this NAL.
        while end > s && data[end - 1] == 0 && k + 1 < starts.len() {
            end -= 1;
        }
        bounds.push((s, end));
    }
    bounds
        .into_iter()
        .map(move |(s, e)| &data[s..e])
        .filter(|n| !n.is_empty())
}

/// Splits one AVCC (length-prefixed) sample into NAL units.
pub fn nal_units_avcc(sample: &[u8], length_size: usize) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < sample.len() {
        if pos + length_size > sample.len() {
            return Err(format!("truncated NAL length at byte {pos}"));
        }
        let len = sample[pos..pos + length_size]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        pos += length_size;
        if len == 0 || pos + len > sample.len() {
            return Err(format!(
                "NAL of {len} bytes overruns the sample at byte {pos}"
            ));
        }
        out.push(&sample[pos..pos + len]);
        pos += len;
    }
    Ok(out)
}

pub fn push_annexb(out: &mut Vec<u8>, nal: &[u8]) {
    out.extend_from_slice(&[0, 0, 0, 1]);
    out.extend_from_slice(nal);
}

/// AVCC sample -> Annex-B access unit (what OpenH264 and muxide take).
pub fn avcc_to_annexb(sample: &[u8], length_size: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(sample.len() + 16);
    for nal in nal_units_avcc(sample, length_size)? {
        push_annexb(&mut out, nal);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trip() {
        let annexb = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9, 9,
        ];
        let nals: Vec<&[u8]> = nal_units_annexb(&annexb).collect();
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 9, 9]]);
        assert_eq!(nal_type(nals[2]), NAL_IDR);
        let avcc: Vec<u8> = nals
            .iter()
            .flat_map(|n| {
                (n.len() as u32)
                    .to_be_bytes()
                    .into_iter()
                    .chain(n.iter().copied())
            })
            .collect();
        let back = avcc_to_annexb(&avcc, 4).unwrap();
        let again: Vec<&[u8]> = nal_units_annexb(&back).collect();
        assert_eq!(again, nals);
        assert!(avcc_to_annexb(&[0, 0, 0, 9, 1], 4).is_err());
        assert!(avcc_to_annexb(&[0, 0], 4).is_err());
    }

    #[test]
    fn bitrate_scales() {
        let b720 = target_bitrate(VideoParams::new(1280, 720, 24));
        let b1080 = target_bitrate(VideoParams::new(1920, 1080, 24));
        assert!((3_900_000..=4_100_000).contains(&b720), "{b720}");
        assert!((7_500_000..=8_500_000).contains(&b1080), "{b1080}");
        assert_eq!(keyframe_interval(24), 48);
    }
}
