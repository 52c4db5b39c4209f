use kinora_media::MediaError;

/// Why a render failed. `InvalidInput` names the API field at fault so the server can map it
/// to a 400 with `param` set; everything else is an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("invalid {param}: {message}")]
    InvalidInput {
        param: &'static str,
        message: String,
    },
    /// The engine understood nothing it could do with the prompt; nothing was made and
    /// nothing should be charged. `code` is the API's error code (`edit_not_understood`).
    #[error("{message}")]
    NotUnderstood {
        code: kinora_core::ErrorCode,
        message: String,
    },
    /// A character clip whose subject could not be separated from its background.
    #[error("{}", crate::character::NOT_FOUND)]
    SubjectNotFound,
    #[error("the render was cancelled")]
    Cancelled,
    #[error("media: {0}")]
    Media(#[from] MediaError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl RenderError {
    pub fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            param,
            message: message.into(),
        }
    }
}
