//! The audio codec choice ([`AudioCodec`]) and the streaming track that encodes for it.
//! Opus is the default and always built; AAC-LC exists only with the `aac` cargo feature, so a
//! default build cannot even name it and its output stays byte-identical.

use crate::MediaError;
use crate::audio::{OpusTrack, PacketSink};
use std::fmt;
use std::str::FromStr;

/// Why `aac` is refused by a build without the feature; names the fix.
#[cfg(not(feature = "aac"))]
const AAC_NOT_BUILT: &str = "AAC audio is not in this build: rebuild with `--features aac` \
     (e.g. `cargo build --release --features aac`); Opus is the default audio codec";

/// The codec of a clip's audio track. Parsed from and printed as `opus` / `aac`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// Opus in MP4 (`Opus`/`dOps`), pure Rust, 160 kbit/s stereo.
    #[default]
    Opus,
    /// AAC-LC in MP4 (`mp4a`/`esds`), FDK AAC, 192 kbit/s stereo (feature `aac`).
    #[cfg(feature = "aac")]
    Aac,
}

impl AudioCodec {
    /// Every codec this build can write, default first.
    pub const AVAILABLE: &'static [AudioCodec] = &[
        AudioCodec::Opus,
        #[cfg(feature = "aac")]
        AudioCodec::Aac,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            AudioCodec::Opus => "opus",
            #[cfg(feature = "aac")]
            AudioCodec::Aac => "aac",
        }
    }

    pub(crate) fn muxer_codec(self) -> muxide::api::AudioCodec {
        match self {
            AudioCodec::Opus => muxide::api::AudioCodec::Opus,
            #[cfg(feature = "aac")]
            AudioCodec::Aac => muxide::api::AudioCodec::Aac(muxide::api::AacProfile::Lc),
        }
    }
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AudioCodec {
    type Err = MediaError;

    /// `opus` or `aac` (any case). `aac` in a build without the feature is `Unsupported`.
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "opus" => Ok(AudioCodec::Opus),
            #[cfg(feature = "aac")]
            "aac" => Ok(AudioCodec::Aac),
            #[cfg(not(feature = "aac"))]
            "aac" => Err(MediaError::Unsupported(AAC_NOT_BUILT.into())),
            other => Err(MediaError::InvalidInput(format!(
                "unknown audio codec {other:?}: expected opus or aac"
            ))),
        }
    }
}

impl serde::Serialize for AudioCodec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Goes through `FromStr` so a settings file asking for `aac` in a build without it gets the
/// message that says how to rebuild, not serde's bare "unknown variant".
impl<'de> serde::Deserialize<'de> for AudioCodec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A streaming encoder for one audio track, whichever the codec. Every variant takes arbitrary
/// interleaved stereo chunks, encodes only what is known to lie inside the clip, and at
/// `finish` pads or trims to the video's length.
pub(crate) enum AudioTrack {
    // Boxed: the Opus encoder state is ~3 KB, the AAC track a handle and buffers.
    Opus(Box<OpusTrack>),
    #[cfg(feature = "aac")]
    Aac(crate::aac::AacTrack),
}

impl AudioTrack {
    pub fn new(codec: AudioCodec) -> Result<Self, MediaError> {
        Ok(match codec {
            AudioCodec::Opus => AudioTrack::Opus(Box::new(OpusTrack::new()?)),
            #[cfg(feature = "aac")]
            AudioCodec::Aac => AudioTrack::Aac(crate::aac::AacTrack::new()?),
        })
    }

    pub fn push(&mut self, interleaved: &[f32]) -> Result<(), MediaError> {
        match self {
            AudioTrack::Opus(t) => t.push(interleaved),
            #[cfg(feature = "aac")]
            AudioTrack::Aac(t) => t.push(interleaved),
        }
    }

    pub fn encode_ready(
        &mut self,
        limit: u64,
        sink: &mut PacketSink<'_>,
    ) -> Result<(), MediaError> {
        match self {
            AudioTrack::Opus(t) => t.encode_ready(limit, sink),
            #[cfg(feature = "aac")]
            AudioTrack::Aac(t) => t.encode_ready(limit, sink),
        }
    }

    pub fn finish(&mut self, total: u64, sink: &mut PacketSink<'_>) -> Result<(), MediaError> {
        match self {
            AudioTrack::Opus(t) => t.finish(total, sink),
            #[cfg(feature = "aac")]
            AudioTrack::Aac(t) => t.finish(total, sink),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_names() {
        assert_eq!("opus".parse::<AudioCodec>().unwrap(), AudioCodec::Opus);
        assert_eq!(" OPUS ".parse::<AudioCodec>().unwrap(), AudioCodec::Opus);
        assert_eq!(AudioCodec::default(), AudioCodec::Opus);
        assert!(matches!(
            "mp3".parse::<AudioCodec>(),
            Err(MediaError::InvalidInput(_))
        ));
        for codec in AudioCodec::AVAILABLE {
            assert_eq!(codec.to_string().parse::<AudioCodec>().unwrap(), *codec);
            let json = serde_json::to_string(codec).unwrap();
            assert_eq!(json, format!("\"{codec}\""));
            assert_eq!(serde_json::from_str::<AudioCodec>(&json).unwrap(), *codec);
        }
    }

    #[cfg(not(feature = "aac"))]
    #[test]
    fn aac_without_the_feature_says_how_to_get_it() {
        let err = "aac".parse::<AudioCodec>().unwrap_err();
        assert!(matches!(err, MediaError::Unsupported(_)));
        assert!(err.to_string().contains("--features aac"), "{err}");
        let serde_err = serde_json::from_str::<AudioCodec>("\"aac\"").unwrap_err();
        assert!(
            serde_err.to_string().contains("--features aac"),
            "{serde_err}"
        );
        assert_eq!(AudioCodec::AVAILABLE, &[AudioCodec::Opus]);
    }

    #[cfg(feature = "aac")]
    #[test]
    fn aac_parses_with_the_feature() {
        assert_eq!("aac".parse::<AudioCodec>().unwrap(), AudioCodec::Aac);
        assert_eq!(AudioCodec::AVAILABLE, &[AudioCodec::Opus, AudioCodec::Aac]);
    }
}
