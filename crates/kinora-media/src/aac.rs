//! AAC-LC audio (feature `aac`): FDK AAC encoding into ADTS frames (muxide strips the header
//! and writes `mp4a`/`esds` with the AudioSpecificConfig), and decoding raw access units back.
//!
//! Sync without an edit list: an AAC encoder's output lags its input by its delay `D` (FDK
//! reports it; 2048 samples at 48 kHz for AAC-LC), and muxide writes no `elst` to hide the
//! priming. So the track drops the first `D` input samples: decoded sample `n` is then input
//! sample `n` for every `n >= D` in any player, and the first `D` samples (43 ms) are the
//! encoder's near-silent start. Decoding and re-encoding (stitch) therefore never drifts.

use crate::audio::PacketSink;
use crate::{AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, MediaError};
use fdk_aac::dec::{Decoder, DecoderError, Transport as DecoderTransport};
use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};

/// Samples per channel in one AAC-LC access unit.
pub(crate) const AAC_FRAME: usize = 1024;
const AAC_BITRATE: u32 = 192_000;
const CH: usize = AUDIO_CHANNELS as usize;
/// Largest decoded access unit FDK may return (8 channels x 2048 samples), in values.
const DECODE_BUFFER: usize = 8 * 2048;

fn codec_err(what: &str, e: impl std::fmt::Display) -> MediaError {
    MediaError::Codec(format!("aac {what}: {e}"))
}

fn to_i16(s: f32) -> i16 {
    (s * 32767.0).round() as i16
}

/// Streaming AAC-LC encoder with the same contract as `OpusTrack`: PCM is encoded only once it
/// is known to lie within the final clip, and `finish` trims or pads to the clip's length.
pub(crate) struct AacTrack {
    encoder: Encoder,
    /// Encoder delay in samples per channel: that many leading input samples are dropped.
    delay: u64,
    /// Clamped input not yet encoded, starting at clip sample `consumed`.
    pending: Vec<i16>,
    consumed: u64,
    packets: u64,
    out: Vec<u8>,
}

impl AacTrack {
    pub fn new() -> Result<Self, MediaError> {
        let encoder = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(AAC_BITRATE),
            sample_rate: AUDIO_SAMPLE_RATE,
            transport: Transport::Adts,
            channels: ChannelMode::Stereo,
            audio_object_type: AudioObjectType::Mpeg4LowComplexity,
        })
        .map_err(|e| codec_err("encoder", e))?;
        let info = encoder.info().map_err(|e| codec_err("encoder info", e))?;
        if info.frameLength as usize != AAC_FRAME {
            return Err(codec_err(
                "encoder",
                format!("frame length {} instead of {AAC_FRAME}", info.frameLength),
            ));
        }
        let out = vec![0; (info.maxOutBufBytes as usize).max(6144 / 8 * CH + 64)];
        Ok(Self {
            encoder,
            delay: u64::from(info.nDelay),
            pending: Vec::new(),
            consumed: 0,
            packets: 0,
            out,
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
        self.pending.extend(interleaved.iter().map(|&s| {
            if s.is_nan() {
                0
            } else {
                to_i16(s.clamp(-1.0, 1.0))
            }
        }));
        self.drop_leading();
        Ok(())
    }

    /// Discards input that falls inside the encoder delay (see the module note).
    fn drop_leading(&mut self) {
        let drop = self
            .delay
            .saturating_sub(self.consumed)
            .min((self.pending.len() / CH) as u64);
        self.pending.drain(..drop as usize * CH);
        self.consumed += drop;
    }

    /// Encodes every whole frame whose input ends at or before clip sample `limit`; `sink` gets
    /// (first output sample of the access unit, ADTS frame).
    pub fn encode_ready(
        &mut self,
        limit: u64,
        sink: &mut PacketSink<'_>,
    ) -> Result<(), MediaError> {
        let mut offset = 0;
        while self.pending.len() - offset >= AAC_FRAME * CH
            && self.consumed >= self.delay
            && self.consumed + AAC_FRAME as u64 <= limit
        {
            let frame = &self.pending[offset..offset + AAC_FRAME * CH];
            encode_frame(&self.encoder, frame, &mut self.out, &mut self.packets, sink)?;
            self.consumed += AAC_FRAME as u64;
            offset += AAC_FRAME * CH;
        }
        self.pending.drain(..offset);
        Ok(())
    }

    /// Trims or pads the input to `total` samples per channel, then feeds silence until the
    /// track holds `ceil(total / 1024)` access units: the decoded track covers the clip and ends
    /// less than one access unit after it.
    pub fn finish(&mut self, total: u64, sink: &mut PacketSink<'_>) -> Result<(), MediaError> {
        self.drop_leading();
        let real = total.saturating_sub(self.consumed) as usize * CH;
        self.pending.resize(real, 0);
        let wanted = total.div_ceil(AAC_FRAME as u64).max(1);
        // Output lags input by the delay; anything beyond that (plus slack) means a broken encoder.
        let mut budget =
            self.pending.len() / (AAC_FRAME * CH) + self.delay as usize / AAC_FRAME + 8;
        let mut rest = std::mem::take(&mut self.pending);
        let mut frame = vec![0i16; AAC_FRAME * CH];
        let mut at = 0;
        while self.packets < wanted {
            if budget == 0 {
                return Err(codec_err(
                    "encoder",
                    "did not produce the expected number of frames",
                ));
            }
            budget -= 1;
            frame.fill(0);
            let take = (rest.len() - at).min(frame.len());
            frame[..take].copy_from_slice(&rest[at..at + take]);
            at += take;
            encode_frame(
                &self.encoder,
                &frame,
                &mut self.out,
                &mut self.packets,
                sink,
            )?;
        }
        rest.clear();
        self.pending = rest;
        Ok(())
    }
}

/// Feeds one frame of interleaved samples, passing on whatever access units come out.
fn encode_frame(
    encoder: &Encoder,
    mut input: &[i16],
    out: &mut [u8],
    packets: &mut u64,
    sink: &mut PacketSink<'_>,
) -> Result<(), MediaError> {
    while !input.is_empty() {
        let info = encoder
            .encode(input, out)
            .map_err(|e| codec_err("encode", e))?;
        if info.output_size > 0 {
            let unit = out
                .get(..info.output_size)
                .ok_or_else(|| codec_err("encode", "output larger than its buffer"))?;
            sink(*packets * AAC_FRAME as u64, unit)?;
            *packets += 1;
        } else if info.input_consumed == 0 {
            return Err(codec_err("encode", "the encoder took no input"));
        }
        input = &input[info.input_consumed.min(input.len())..];
    }
    Ok(())
}

/// Decodes raw AAC access units (as stored in MP4) configured by `asc`, the AudioSpecificConfig
/// from `esds`, to interleaved stereo `f32`, exactly `keep` samples per channel (padded with
/// silence). `Ok(None)` when the stream is not 48 kHz mono or stereo (this crate does not
/// resample).
///
/// FDK's decoder delays its output by `outputDelay` samples (one frame of error concealment plus
/// its 15 ms limiter: 1744 samples at 48 kHz); those are dropped so the result lines up with
/// what FFmpeg plays, and the held-back tail is pushed out by feeding silent access units.
pub(crate) fn decode_aac<I>(
    packets: I,
    asc: &[u8],
    keep: u64,
) -> Result<Option<Vec<f32>>, MediaError>
where
    I: IntoIterator<Item = Result<Vec<u8>, MediaError>>,
{
    let bad =
        |what: &str, e: DecoderError| MediaError::InvalidInput(format!("aac {what}: {e} ({e:?})"));
    let mut decoder = Decoder::new(DecoderTransport::Raw);
    decoder
        .config_raw(asc)
        .map_err(|e| bad("AudioSpecificConfig", e))?;
    let wanted = keep as usize * CH;
    let flush = match plain_lc(asc) {
        Some(channels) => silent_units(channels)?,
        None => Vec::new(),
    };
    let mut pcm = vec![0i16; DECODE_BUFFER];
    let mut out = Vec::new();
    let mut skip: Option<usize> = None;
    let real = packets.into_iter();
    for packet in real.chain(flush.into_iter().map(Ok)) {
        if out.len() >= wanted {
            break;
        }
        let packet = packet?;
        let mut rest = packet.as_slice();
        // Raw transport holds one access unit per fill; the cap only guards against a decoder
        // that neither consumes input nor fails.
        for _ in 0..64 {
            if rest.is_empty() {
                break;
            }
            let used = decoder.fill(rest).map_err(|e| bad("packet", e))?;
            rest = &rest[used.min(rest.len())..];
            match decoder.decode_frame(&mut pcm) {
                Ok(()) => {}
                Err(DecoderError::NOT_ENOUGH_BITS) => continue,
                Err(e) => return Err(bad("packet", e)),
            }
            let info = decoder.stream_info();
            let channels = usize::try_from(info.numChannels).unwrap_or(0);
            if info.sampleRate != AUDIO_SAMPLE_RATE as i32 || !(1..=2).contains(&channels) {
                return Ok(None);
            }
            let skip = skip.get_or_insert(info.outputDelay as usize);
            let values = decoder.decoded_frame_size().min(pcm.len());
            for frame in pcm[..values].chunks_exact(channels) {
                if *skip > 0 {
                    *skip -= 1;
                    continue;
                }
                let left = f32::from(frame[0]) / 32768.0;
                let right = f32::from(frame[channels - 1]) / 32768.0;
                out.extend_from_slice(&[left, right]);
            }
        }
    }
    out.resize(wanted, 0.0);
    Ok(Some(out))
}

/// Channel count of a 48 kHz AAC-LC AudioSpecificConfig with one or two channels: the streams
/// whose decoder delay can be flushed with this encoder's own silent access units.
fn plain_lc(asc: &[u8]) -> Option<usize> {
    let [a, b, ..] = *asc else { return None };
    let aot = a >> 3;
    let rate_index = ((a & 7) << 1) | (b >> 7);
    let channels = usize::from((b >> 3) & 0x0f);
    (aot == 2 && rate_index == 3 && (1..=2).contains(&channels)).then_some(channels)
}

/// Raw access units of silence, enough to push FDK's delayed output (under 2 frames) out.
fn silent_units(channels: usize) -> Result<Vec<Vec<u8>>, MediaError> {
    let encoder = Encoder::new(EncoderParams {
        bit_rate: BitRate::Cbr(AAC_BITRATE),
        sample_rate: AUDIO_SAMPLE_RATE,
        transport: Transport::Raw,
        channels: if channels == 1 {
            ChannelMode::Mono
        } else {
            ChannelMode::Stereo
        },
        audio_object_type: AudioObjectType::Mpeg4LowComplexity,
    })
    .map_err(|e| codec_err("encoder", e))?;
    let zeros = vec![0i16; AAC_FRAME * channels];
    let mut out = vec![0u8; 8192];
    let mut units = Vec::new();
    let mut packets = 0;
    for _ in 0..16 {
        if units.len() >= 3 {
            break;
        }
        encode_frame(&encoder, &zeros, &mut out, &mut packets, &mut |_, unit| {
            units.push(unit.to_vec());
            Ok(())
        })?;
    }
    Ok(units)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::tone;

    fn encode(input: &[f32], total: u64) -> Vec<Vec<u8>> {
        let mut track = AacTrack::new().unwrap();
        let mut packets = Vec::new();
        let mut sink = |pts: u64, p: &[u8]| {
            assert_eq!(pts, packets.len() as u64 * AAC_FRAME as u64);
            assert_eq!(&p[..2], &[0xff, 0xf1], "an MPEG-4 ADTS header without CRC");
            packets.push(p.to_vec());
            Ok(())
        };
        for chunk in input.chunks(777 * 2) {
            track.push(chunk).unwrap();
            track.encode_ready(total / 2, &mut sink).unwrap();
        }
        track.finish(total, &mut sink).unwrap();
        packets
    }

    /// ADTS frames as MP4 stores them: the 7-byte header (no CRC) removed.
    fn raw(packets: Vec<Vec<u8>>) -> impl Iterator<Item = Result<Vec<u8>, MediaError>> {
        packets.into_iter().map(|p| Ok(p[7..].to_vec()))
    }

    /// 48 kHz AAC-LC stereo, as muxide writes it into `esds`.
    const ASC: [u8; 2] = [0x11, 0x90];

    #[test]
    fn round_trip_keeps_length_and_timing() {
        let total = 48_000u64;
        let mut input = tone(total as usize);
        input.extend_from_slice(&[0.9; 4000]); // beyond the clip: must be trimmed away
        let packets = encode(&input, total);
        assert_eq!(packets.len() as u64, total.div_ceil(AAC_FRAME as u64));
        let out = decode_aac(raw(packets), &ASC, total).unwrap().unwrap();
        assert_eq!(out.len(), total as usize * 2);
        // Aligned after the encoder delay: small error against the 0.5 amplitude tones.
        let span = 4096 * 2..90_000;
        let err: f32 = out[span.clone()]
            .iter()
            .zip(&input[span.clone()])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            / span.len() as f32;
        assert!(err < 0.001, "mean squared error {err}");
        assert!(out[95_000..].iter().all(|s| s.abs() < 0.6));
    }

    #[test]
    fn encoder_delay_is_what_fdk_reports() {
        let track = AacTrack::new().unwrap();
        assert_eq!(track.delay, 2048);
    }

    #[test]
    fn rejects_half_frames_and_bad_streams() {
        let mut track = AacTrack::new().unwrap();
        assert!(track.push(&[0.0; 3]).is_err());
        // Garbage either fails or decodes to exactly what was kept; it never panics.
        let garbage = (0..50).map(|i| Ok(vec![i as u8; 300]));
        if let Ok(Some(v)) = decode_aac(garbage, &ASC, 10) {
            assert_eq!(v.len(), 20);
        }
        // No packets: the flush alone, all silence.
        assert_eq!(
            decode_aac(Vec::new(), &ASC, 10).unwrap().unwrap(),
            vec![0.0; 20]
        );
        // Only 48 kHz LC mono/stereo streams get the silent flush.
        assert_eq!(plain_lc(&ASC), Some(2));
        assert_eq!(plain_lc(&[0x11, 0x88]), Some(1));
        assert_eq!(plain_lc(&[0x12, 0x10]), None); // 44.1 kHz
        assert_eq!(plain_lc(&[0x2b, 0x92]), None); // HE-AAC
        assert_eq!(plain_lc(&[0x11]), None);
    }
}
