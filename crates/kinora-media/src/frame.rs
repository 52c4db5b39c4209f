use crate::MediaError;
use image::RgbImage;

/// Size and frame rate of a video stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoParams {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl VideoParams {
    pub const fn new(width: u32, height: u32, fps: u32) -> Self {
        Self { width, height, fps }
    }

    /// H.264 4:2:0 needs even sizes; OpenH264 caps the long side at 3840 and the short at 2160.
    pub fn validate(&self) -> Result<(), MediaError> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 {
            return Err(MediaError::InvalidInput(format!(
                "video size {w}x{h}: width and height must be even and non-zero"
            )));
        }
        if w.max(h) > 3840 || w.min(h) > 2160 || w.min(h) < 16 {
            return Err(MediaError::InvalidInput(format!(
                "video size {w}x{h}: must fit within 3840x2160 (either orientation) and be at least 16 px"
            )));
        }
        if self.fps == 0 || self.fps > 240 {
            return Err(MediaError::InvalidInput(format!(
                "frame rate {}: must be between 1 and 240",
                self.fps
            )));
        }
        Ok(())
    }

    /// Number of 48 kHz audio samples (per channel) covering `frames` video frames.
    pub fn audio_samples_for(&self, frames: u32) -> u64 {
        let num = u64::from(frames) * u64::from(crate::AUDIO_SAMPLE_RATE);
        let fps = u64::from(self.fps.max(1));
        (num + fps / 2) / fps
    }
}

/// One RGB8 frame, row-major, no padding: `data.len() == width * height * 3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbFrame {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl RgbFrame {
    /// A black frame.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            data: vec![0; width as usize * height as usize * 3],
        }
    }

    /// Wraps raw RGB8 bytes, checking the length.
    pub fn from_raw(width: u32, height: u32, data: Vec<u8>) -> Result<Self, MediaError> {
        let frame = Self {
            width,
            height,
            data,
        };
        frame.check()?;
        Ok(frame)
    }

    pub fn from_image(image: RgbImage) -> Self {
        let (width, height) = image.dimensions();
        Self {
            width,
            height,
            data: image.into_raw(),
        }
    }

    pub fn to_image(&self) -> Result<RgbImage, MediaError> {
        RgbImage::from_raw(self.width, self.height, self.data.clone())
            .ok_or_else(|| self.size_error())
    }

    pub fn into_image(self) -> Result<RgbImage, MediaError> {
        let err = self.size_error();
        RgbImage::from_raw(self.width, self.height, self.data).ok_or(err)
    }

    /// Fills every pixel with one colour.
    pub fn fill(&mut self, rgb: [u8; 3]) {
        for px in self.data.chunks_exact_mut(3) {
            px.copy_from_slice(&rgb);
        }
    }

    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.data.get(i..i + 3).map(|p| [p[0], p[1], p[2]])
    }

    pub fn set_pixel(&mut self, x: u32, y: u32, rgb: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            if let Some(p) = self.data.get_mut(i..i + 3) {
                p.copy_from_slice(&rgb);
            }
        }
    }

    /// Errors unless `data` holds exactly `width * height * 3` bytes.
    pub fn check(&self) -> Result<(), MediaError> {
        if self.data.len() == self.width as usize * self.height as usize * 3 {
            Ok(())
        } else {
            Err(self.size_error())
        }
    }

    fn size_error(&self) -> MediaError {
        MediaError::InvalidInput(format!(
            "RGB frame {}x{} needs {} bytes, has {}",
            self.width,
            self.height,
            self.width as usize * self.height as usize * 3,
            self.data.len()
        ))
    }
}

/// Peak signal-to-noise ratio in dB over all RGB samples; `f64::INFINITY` for identical frames,
/// 0.0 when the sizes differ (so a size mismatch can never pass a quality threshold).
pub fn psnr(a: &RgbFrame, b: &RgbFrame) -> f64 {
    if a.width != b.width
        || a.height != b.height
        || a.data.len() != b.data.len()
        || a.data.is_empty()
    {
        return 0.0;
    }
    let sse: u64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| {
            let d = i64::from(x) - i64::from(y);
            (d * d) as u64
        })
        .sum();
    if sse == 0 {
        return f64::INFINITY;
    }
    let mse = sse as f64 / a.data.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_behaves() {
        let a = RgbFrame::new(4, 2);
        assert_eq!(psnr(&a, &a), f64::INFINITY);
        let mut b = a.clone();
        b.data[0] = 255;
        let p = psnr(&a, &b);
        assert!(p > 10.0 && p < 20.0, "{p}");
        assert_eq!(psnr(&a, &RgbFrame::new(2, 4)), 0.0);
    }

    #[test]
    fn image_round_trip_and_validation() {
        let mut f = RgbFrame::new(6, 4);
        f.set_pixel(5, 3, [1, 2, 3]);
        assert_eq!(f.pixel(5, 3), Some([1, 2, 3]));
        assert_eq!(f.pixel(6, 0), None);
        let back = RgbFrame::from_image(f.to_image().unwrap());
        assert_eq!(back, f);
        assert!(RgbFrame::from_raw(2, 2, vec![0; 5]).is_err());
        assert!(VideoParams::new(1281, 720, 24).validate().is_err());
        assert!(VideoParams::new(1920, 1080, 24).validate().is_ok());
        assert!(VideoParams::new(1920, 1080, 0).validate().is_err());
        assert_eq!(VideoParams::new(2, 2, 24).audio_samples_for(24), 48_000);
    }
}
