//! Opus audio: buffering arbitrary PCM chunks into 20 ms packets, and decoding packets back.

use crate::{AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, MediaError};
use opus_rs::{Application, OpusDecoder, OpusEncoder};

/// Samples per channel in one Opus packet (20 ms at 48 kHz).
pub(crate) const OPUS_FRAME: usize = 960;
/// Encoder lookahead (2.5 ms + 4 ms); muxide writes the same value into `dOps`, and the decoder
/// drops that many samples so decoded audio lines up with the input.
pub(crate) const OPUS_PRE_SKIP: u64 = 312;
const OPUS_BITRATE: i32 = 160_000;
const CH: usize = AUDIO_CHANNELS as usize;

/// Receives each packet with the index of its first input sample (per channel).
pub(crate) type PacketSink<'a> = dyn FnMut(u64, &[u8]) -> Result<(), MediaError> + 'a;

/// Streaming Opus encoder: PCM is encoded only once it is known to lie within the final clip,
/// so a caller may push more audio than video and have the excess trimmed at `finish`.
pub(crate) struct OpusTrack {
    encoder: OpusEncoder,
    pending: Vec<f32>,
    consumed: u64,
    packet: Vec<u8>,
}

impl OpusTrack {
    pub fn new() -> Result<Self, MediaError> {
        let mut encoder = OpusEncoder::new(AUDIO_SAMPLE_RATE as i32, CH, Application::Audio)
            .map_err(|e| MediaError::Codec(format!("opus encoder: {e}")))?;
        encoder.bitrate_bps = OPUS_BITRATE;
        Ok(Self {
            encoder,
            pending: Vec::new(),
            consumed: 0,
            packet: vec![0; 4000],
        })
    }

    /// Buffers interleaved stereo samples; NaN becomes silence and values are clamped to [-1, 1].
    pub fn push(&mut self, interleaved: &[f32]) -> Result<(), MediaError> {
        if !interleaved.len().is_multiple_of(CH) {
            return Err(MediaError::InvalidInput(format!(
                "audio chunk of {} values is not whole stereo frames",
                interleaved.len()
            )));
        }
        self.pending.extend(
            interleaved
                .iter()
                .map(|&s| if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) }),
        );
        Ok(())
    }

    /// Encodes every whole packet whose input ends at or before `limit` samples per channel.
    /// `sink` gets (first input sample of the packet, packet bytes).
    pub fn encode_ready(
        &mut self,
        limit: u64,
        sink: &mut PacketSink<'_>,
    ) -> Result<(), MediaError> {
        let mut offset = 0;
        while self.pending.len() - offset >= OPUS_FRAME * CH
            && self.consumed + OPUS_FRAME as u64 <= limit
        {
            let frame = &self.pending[offset..offset + OPUS_FRAME * CH];
            let n = self
                .encoder
                .encode(frame, OPUS_FRAME, &mut self.packet)
                .map_err(|e| MediaError::Codec(format!("opus encode: {e}")))?;
            sink(self.consumed, &self.packet[..n])?;
            self.consumed += OPUS_FRAME as u64;
            offset += OPUS_FRAME * CH;
        }
        self.pending.drain(..offset);
        Ok(())
    }

    /// Trims or pads the audio to exactly `total` samples per channel, then flushes the encoder
    /// lookahead with silence so the decoded stream (after pre-skip) covers `total` samples.
    pub fn finish(&mut self, total: u64, sink: &mut PacketSink<'_>) -> Result<(), MediaError> {
        let real = total.saturating_sub(self.consumed) as usize * CH;
        self.pending.resize(real, 0.0);
        let needed = (total + OPUS_PRE_SKIP).div_ceil(OPUS_FRAME as u64) * OPUS_FRAME as u64;
        let pad = needed.saturating_sub(self.consumed) as usize * CH;
        self.pending.resize(pad, 0.0);
        self.encode_ready(u64::MAX, sink)
    }
}

/// Decodes Opus packets to interleaved stereo, dropping `pre_skip` samples and keeping at most
/// `keep` samples per channel (when given).
pub(crate) fn decode_opus<I>(
    packets: I,
    pre_skip: u64,
    keep: Option<u64>,
) -> Result<Vec<f32>, MediaError>
where
    I: IntoIterator<Item = Result<Vec<u8>, MediaError>>,
{
    let mut decoder = OpusDecoder::new(AUDIO_SAMPLE_RATE as i32, CH)
        .map_err(|e| MediaError::Codec(format!("opus decoder: {e}")))?;
    let mut out = Vec::new();
    let mut buf = vec![0f32; 5760 * CH];
    let mut skip = pre_skip as usize * CH;
    for packet in packets {
        let packet = packet?;
        // opus-rs is young; a malformed packet must become an error, not take the caller down.
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            decoder.decode(&packet, 5760, &mut buf)
        }))
        .map_err(|_| MediaError::InvalidInput("opus decoder failed on a packet".into()))?
        .map_err(|e| MediaError::InvalidInput(format!("opus packet: {e}")))?;
        let samples = &buf[..decoded * CH];
        let drop = skip.min(samples.len());
        skip -= drop;
        out.extend_from_slice(&samples[drop..]);
        if keep.is_some_and(|keep| out.len() as u64 >= keep * CH as u64) {
            break;
        }
    }
    if let Some(keep) = keep {
        out.resize(keep as usize * CH, 0.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sine(samples: usize, hz: f32) -> Vec<f32> {
        (0..samples)
            .flat_map(|i| {
                let s =
                    (i as f32 * hz * std::f32::consts::TAU / AUDIO_SAMPLE_RATE as f32).sin() * 0.5;
                [s, s]
            })
            .collect()
    }

    #[test]
    fn encode_decode_round_trip_keeps_length_and_timing() {
        let total = 48_000u64;
        let input = sine(total as usize, 440.0);
        let mut track = OpusTrack::new().unwrap();
        let mut packets = Vec::new();
        let mut sink = |pts: u64, p: &[u8]| {
            assert_eq!(pts, packets.len() as u64 * OPUS_FRAME as u64);
            packets.push(p.to_vec());
            Ok(())
        };
        for chunk in input.chunks(777 * 2) {
            track.push(chunk).unwrap();
            track.encode_ready(total / 2, &mut sink).unwrap();
        }
        track.push(&[0.9; 4000]).unwrap(); // beyond the clip: must be trimmed away
        track.finish(total, &mut sink).unwrap();
        assert_eq!(packets.len() as u64, (total + OPUS_PRE_SKIP).div_ceil(960));
        let out = decode_opus(packets.into_iter().map(Ok), OPUS_PRE_SKIP, Some(total)).unwrap();
        assert_eq!(out.len(), input.len());
        // Aligned (pre-skip honoured): the error is small compared with the 0.5 amplitude signal.
        let err: f32 = out[2000..90_000]
            .iter()
            .zip(&input[2000..90_000])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            / 88_000.0;
        assert!(err < 0.005, "mean squared error {err}");
        assert!(out[95_000..].iter().all(|s| s.abs() < 0.6));
    }

    #[test]
    fn rejects_half_frames_and_bad_packets() {
        let mut track = OpusTrack::new().unwrap();
        assert!(track.push(&[0.0; 3]).is_err());
        // Garbage may decode as concealment or fail, but never panics or yields more than one packet's worth.
        if let Ok(v) = decode_opus([Ok(vec![0xff, 0xff, 0xff])], 0, None) {
            assert!(v.len() <= 5760 * 2);
        }
        assert_eq!(decode_opus(Vec::new(), 0, Some(10)).unwrap(), vec![0.0; 20]);
    }
}
