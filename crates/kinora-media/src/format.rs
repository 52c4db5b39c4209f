//! The fixed formats every clip shares: the audio Kinora writes and reads (48 kHz stereo), and
//! what a finished or probed clip contains. A leaf, so every reader and writer imports it
//! without going through the others.

/// Audio is always 48 kHz stereo, interleaved `f32` in [-1, 1].
pub const AUDIO_SAMPLE_RATE: u32 = 48_000;
pub const AUDIO_CHANNELS: u16 = 2;

/// What a finished or probed clip contains.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipInfo {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub frames: u32,
    pub duration_s: f64,
    pub has_audio: bool,
}
