//! Still previews: the WebP thumbnail and the JPEG sprite sheet.

use crate::{MediaError, RgbFrame};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeOptions, Resizer};

/// Long side of the thumbnail in pixels.
pub const THUMBNAIL_LONG_SIDE: u32 = 640;
/// Long side of one sprite-sheet tile in pixels.
pub const SPRITE_TILE_LONG_SIDE: u32 = 256;
pub const SPRITESHEET_COLUMNS: u32 = 5;
pub const SPRITESHEET_ROWS: u32 = 5;
const WEBP_QUALITY: f32 = 80.0;
const JPEG_QUALITY: u8 = 80;

/// Size with the long side set to `long` and the aspect ratio kept (each side at least 1 px).
pub fn fit_long_side(width: u32, height: u32, long: u32) -> (u32, u32) {
    let (w, h) = (u64::from(width.max(1)), u64::from(height.max(1)));
    let long = u64::from(long);
    if w >= h {
        (long as u32, ((h * long + w / 2) / w).max(1) as u32)
    } else {
        (((w * long + h / 2) / h).max(1) as u32, long as u32)
    }
}

/// Resamples a frame to exactly `width` x `height` (Lanczos3).
pub fn resize(frame: &RgbFrame, width: u32, height: u32) -> Result<RgbFrame, MediaError> {
    frame.check()?;
    if frame.width == 0 || frame.height == 0 || width == 0 || height == 0 {
        return Err(MediaError::InvalidInput(
            "cannot resize an empty frame".into(),
        ));
    }
    if (frame.width, frame.height) == (width, height) {
        return Ok(frame.clone());
    }
    let src = ImageRef::new(frame.width, frame.height, &frame.data, PixelType::U8x3)
        .map_err(|e| MediaError::Image(format!("resize source: {e}")))?;
    let mut dst = Image::new(width, height, PixelType::U8x3);
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new())
        .map_err(|e| MediaError::Image(format!("resize: {e}")))?;
    RgbFrame::from_raw(width, height, dst.into_vec())
}

/// Lossy WebP, scaled so the long side is 640 px, aspect kept.
pub fn thumbnail_webp(frame: &RgbFrame) -> Result<Vec<u8>, MediaError> {
    let (w, h) = fit_long_side(frame.width, frame.height, THUMBNAIL_LONG_SIDE);
    let small = resize(frame, w, h)?;
    let webp = webp::Encoder::from_rgb(&small.data, w, h)
        .encode_simple(false, WEBP_QUALITY)
        .map_err(|e| MediaError::Image(format!("webp encode: {e:?}")))?;
    Ok(webp.to_vec())
}

/// Size of one sprite-sheet tile for frames of the given size.
pub fn sprite_tile_size(width: u32, height: u32) -> (u32, u32) {
    fit_long_side(width, height, SPRITE_TILE_LONG_SIDE)
}

/// Which frames to sample for the sprite sheet: `min(total, 25)` indices, tile `i` showing
/// frame `floor(i * total / n)`, i.e. the clip at time `i / n` of its length.
pub fn spritesheet_frame_indices(total_frames: u32) -> Vec<u32> {
    let cells = SPRITESHEET_COLUMNS * SPRITESHEET_ROWS;
    let n = total_frames.min(cells);
    (0..n)
        .map(|i| (u64::from(i) * u64::from(total_frames) / u64::from(n)) as u32)
        .collect()
}

/// JPEG sprite sheet: 5x5 tiles in row-major order, each the size given by `sprite_tile_size`
/// for the first frame (long side 256 px). More than 25 frames are subsampled with
/// `spritesheet_frame_indices`; fewer leave the remaining cells black.
pub fn spritesheet_jpeg(frames: &[RgbFrame]) -> Result<Vec<u8>, MediaError> {
    let first = frames
        .first()
        .ok_or_else(|| MediaError::InvalidInput("sprite sheet needs at least one frame".into()))?;
    let (tw, th) = sprite_tile_size(first.width, first.height);
    let mut sheet = RgbFrame::new(tw * SPRITESHEET_COLUMNS, th * SPRITESHEET_ROWS);
    let picks = spritesheet_frame_indices(frames.len() as u32);
    let row_bytes = tw as usize * 3;
    let sheet_row = sheet.width as usize * 3;
    for (cell, &index) in picks.iter().enumerate() {
        let tile = resize(&frames[index as usize], tw, th)?;
        let (cx, cy) = (
            cell as u32 % SPRITESHEET_COLUMNS,
            cell as u32 / SPRITESHEET_COLUMNS,
        );
        for (y, src) in tile.data.chunks_exact(row_bytes).enumerate() {
            let start = (cy as usize * th as usize + y) * sheet_row + cx as usize * row_bytes;
            sheet.data[start..start + row_bytes].copy_from_slice(src);
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode(
            &sheet.data,
            sheet.width,
            sheet.height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| MediaError::Image(format!("jpeg encode: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::gradient_frame;

    #[test]
    fn thumbnail_is_webp_with_long_side_640() {
        let webp = thumbnail_webp(&gradient_frame(1080, 1920, 3)).unwrap();
        assert_eq!(&webp[..4], b"RIFF");
        assert_eq!(&webp[8..12], b"WEBP");
        let img = image::load_from_memory_with_format(&webp, image::ImageFormat::WebP).unwrap();
        assert_eq!((img.width(), img.height()), (360, 640));
        assert!(webp.len() < 60_000, "{} bytes", webp.len());
    }

    #[test]
    fn spritesheet_has_documented_size_and_black_cells() {
        let frames: Vec<RgbFrame> = (0..7).map(|i| gradient_frame(1280, 720, i)).collect();
        let jpeg = spritesheet_jpeg(&frames).unwrap();
        let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8();
        assert_eq!(img.dimensions(), (256 * 5, 144 * 5));
        // Cell 24 (bottom right) is empty; cell 0 shows the gradient.
        assert!(
            img.get_pixel(256 * 4 + 128, 144 * 4 + 72)
                .0
                .iter()
                .all(|&c| c < 20)
        );
        assert!(img.get_pixel(200, 100).0.iter().any(|&c| c > 60));
        assert!(spritesheet_jpeg(&[]).is_err());
    }

    #[test]
    fn frame_indices_are_even_and_bounded() {
        assert_eq!(spritesheet_frame_indices(0), Vec::<u32>::new());
        assert_eq!(spritesheet_frame_indices(3), vec![0, 1, 2]);
        let idx = spritesheet_frame_indices(480);
        assert_eq!(idx.len(), 25);
        assert_eq!(idx[1], 19);
        assert_eq!(*idx.last().unwrap(), 460);
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(fit_long_side(1792, 1024, 640), (640, 366));
        assert_eq!(sprite_tile_size(720, 1280), (144, 256));
    }
}
