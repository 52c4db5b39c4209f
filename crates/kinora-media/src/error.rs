use std::path::Path;

/// Everything that can go wrong in this crate. Bad input never panics: it lands here.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The input is corrupt, not an MP4, empty, has no video track, or cannot be decoded.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Valid input this crate deliberately does not handle (the caller may fall back, e.g. re-encode).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An encoder or decoder library reported a failure.
    #[error("codec error: {0}")]
    Codec(String),
    /// Thumbnail / sprite sheet encoding failed.
    #[error("image error: {0}")]
    Image(String),
}

impl MediaError {
    pub(crate) fn invalid(path: &Path, what: impl std::fmt::Display) -> Self {
        MediaError::InvalidInput(format!("{}: {what}", path.display()))
    }
}

impl From<muxide::api::MuxerError> for MediaError {
    fn from(e: muxide::api::MuxerError) -> Self {
        match e {
            muxide::api::MuxerError::Io(io) => MediaError::Io(io),
            other => MediaError::Codec(format!("mp4 muxer: {other}")),
        }
    }
}

impl From<openh264::Error> for MediaError {
    fn from(e: openh264::Error) -> Self {
        MediaError::Codec(format!("openh264: {e}"))
    }
}
