//! I420 frames: what a decoder gives and the encoder takes. Decoded footage stays in this form
//! from the decoder's pipe to OpenH264, so a 1080p source frame crosses no colour conversion and
//! half the bytes of RGB; only the few frames a preview or a still needs are turned into RGB.

use openh264::formats::YUVSlices;

use crate::{MediaError, RgbFrame};

/// One 4:2:0 frame, planes Y then U then V with no padding, BT.601 limited range (what the
/// encoder signals in its VUI). Sizes are even, as every H.264 4:2:0 frame's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YuvFrame {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl YuvFrame {
    /// A black frame (Y 16, chroma 128).
    pub fn new(width: u32, height: u32) -> Self {
        let luma = width as usize * height as usize;
        let mut data = vec![128; Self::len_for(width, height)];
        data[..luma].fill(16);
        Self {
            width,
            height,
            data,
        }
    }

    /// Bytes of a `width`x`height` frame.
    pub fn len_for(width: u32, height: u32) -> usize {
        let (w, h) = (width as usize, height as usize);
        w * h + 2 * (w / 2) * (h / 2)
    }

    pub(crate) fn check(&self) -> Result<(), MediaError> {
        if !self.width.is_multiple_of(2) || !self.height.is_multiple_of(2) {
            return Err(MediaError::InvalidInput(format!(
                "an I420 frame of {}x{}: sizes must be even",
                self.width, self.height
            )));
        }
        if self.data.len() != Self::len_for(self.width, self.height) {
            return Err(MediaError::InvalidInput(format!(
                "an I420 frame of {}x{} holds {} bytes, not {}",
                self.width,
                self.height,
                self.data.len(),
                Self::len_for(self.width, self.height)
            )));
        }
        Ok(())
    }

    fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let luma = self.width as usize * self.height as usize;
        let chroma = luma / 4;
        let (y, rest) = self.data.split_at(luma);
        let (u, v) = rest.split_at(chroma);
        (y, u, v)
    }

    /// The planes as OpenH264 reads them.
    pub(crate) fn slices(&self) -> YUVSlices<'_> {
        let (w, h) = (self.width as usize, self.height as usize);
        YUVSlices::new(self.planes(), (w, h), (w, w / 2, w / 2))
    }

    /// BT.601 limited range to RGB8, in 8.8 fixed point: the inverse of the encoder's
    /// conversion. Only previews and stills call this, a few frames per clip.
    pub fn to_rgb(&self) -> Result<RgbFrame, MediaError> {
        self.check()?;
        let w = self.width as usize;
        let (y_plane, u_plane, v_plane) = self.planes();
        let mut rgb = RgbFrame::new(self.width, self.height);
        for (row, line) in rgb.data.chunks_exact_mut(w * 3).enumerate() {
            let chroma_row = (row / 2) * (w / 2);
            for (col, px) in line.chunks_exact_mut(3).enumerate() {
                let c = i32::from(y_plane[row * w + col]) - 16;
                let d = i32::from(u_plane[chroma_row + col / 2]) - 128;
                let e = i32::from(v_plane[chroma_row + col / 2]) - 128;
                let luma = 298 * c + 128;
                px[0] = clamp((luma + 409 * e) >> 8);
                px[1] = clamp((luma - 100 * d - 208 * e) >> 8);
                px[2] = clamp((luma + 516 * d) >> 8);
            }
        }
        Ok(rgb)
    }
}

fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};

    /// Round trip through OpenH264's own RGB -> I420 (the encoder's): colours come back within
    /// the rounding of 4:2:0 limited range, so previews of decoded footage look as painted.
    #[test]
    fn to_rgb_inverts_the_encoders_conversion() {
        let (w, h) = (64usize, 32usize);
        let colours = [
            [255u8, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
            [255, 255, 255],
            [0, 0, 0],
            [200, 120, 40],
            [30, 90, 160],
            [128, 128, 128],
        ];
        // 8x8 blocks of flat colour, so chroma subsampling loses nothing inside a block.
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let c = colours[(y / 8 * (w / 8) + x / 8) % colours.len()];
                rgb[(y * w + x) * 3..][..3].copy_from_slice(&c);
            }
        }
        let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(&rgb, (w, h)));
        let mut data = yuv.y().to_vec();
        data.extend_from_slice(yuv.u());
        data.extend_from_slice(yuv.v());
        let frame = YuvFrame {
            width: w as u32,
            height: h as u32,
            data,
        };
        let back = frame.to_rgb().unwrap();
        let worst = rgb
            .iter()
            .zip(&back.data)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 3, "a channel came back {worst} levels off");
    }

    #[test]
    fn a_new_frame_is_black_and_sizes_are_checked() {
        let black = YuvFrame::new(4, 2).to_rgb().unwrap();
        assert!(black.data.iter().all(|&v| v == 0));
        let odd = YuvFrame {
            width: 3,
            height: 2,
            data: vec![0; 9],
        };
        assert!(odd.to_rgb().is_err());
        let short = YuvFrame {
            width: 4,
            height: 2,
            data: vec![0; 5],
        };
        assert!(short.to_rgb().is_err());
    }
}
