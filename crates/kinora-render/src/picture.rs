//! A frame on its way to the encoder. Painted frames are RGB, the painter's canvas; footage
//! that is re-encoded unchanged stays I420 as its decoder gave it, which is the encoder's own
//! form, so a foreign 1080p source crosses no colour conversion on its way through.

use kinora_media::{RgbFrame, YuvFrame};

use crate::error::RenderError;

pub enum Picture {
    Rgb(RgbFrame),
    Yuv(YuvFrame),
}

impl Picture {
    /// A black RGB canvas.
    pub fn canvas(width: u32, height: u32) -> Picture {
        Picture::Rgb(RgbFrame::new(width, height))
    }

    pub fn size(&self) -> (u32, u32) {
        match self {
            Picture::Rgb(f) => (f.width, f.height),
            Picture::Yuv(f) => (f.width, f.height),
        }
    }

    /// The RGB canvas to draw on; a recycled I420 buffer is swapped for one of the same size.
    pub fn rgb_mut(&mut self) -> &mut RgbFrame {
        if let Picture::Yuv(f) = self {
            *self = Picture::canvas(f.width, f.height);
        }
        match self {
            Picture::Rgb(f) => f,
            Picture::Yuv(_) => unreachable!("made RGB above"),
        }
    }

    /// The I420 buffer to decode into; a recycled RGB one is swapped for one of the same size.
    pub fn yuv_mut(&mut self) -> &mut YuvFrame {
        if let Picture::Rgb(f) = self {
            *self = Picture::Yuv(YuvFrame::new(f.width, f.height));
        }
        match self {
            Picture::Yuv(f) => f,
            Picture::Rgb(_) => unreachable!("made I420 above"),
        }
    }

    /// As RGB, converting an I420 frame (for the few frames a preview or a still needs).
    pub fn into_rgb(self) -> Result<RgbFrame, RenderError> {
        match self {
            Picture::Rgb(f) => Ok(f),
            Picture::Yuv(f) => Ok(f.to_rgb()?),
        }
    }
}
