//! `Invalid`: one rejected request field, carrying what the OpenAI error envelope needs.

use std::fmt;

use crate::ErrorCode;

/// A request the contract does not allow. `param` names the wire field (`size`, `seconds`,
/// `characters`, …) so SDK users get `BadRequestError.param`; `code` is a stable machine string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub param: String,
    pub code: ErrorCode,
    pub message: String,
}

impl Invalid {
    pub fn new(param: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (param {})", self.message, self.param)
    }
}

impl std::error::Error for Invalid {}
