//! Pixel loops on packed RGB8 frames: sampling the backdrop through the camera, compositing
//! premultiplied RGBA layers, and brightening for lightning. Written for speed: rows are copied
//! whole when the camera sits on whole pixels, and zooms resample each source row once.

use crate::camera::View;

/// Copies the part of `src` (`sw`x`sh` RGB) that `view` sees into `dst` (`dw`x`dh` RGB).
pub fn sample_view(src: &[u8], sw: u32, sh: u32, view: View, dst: &mut [u8], dw: u32, dh: u32) {
    let (sw, sh, dw, dh) = (sw as usize, sh as usize, dw as usize, dh as usize);
    let whole = (view.scale - 1.0).abs() < 1e-6 && view.x0.fract() == 0.0 && view.y0.fract() == 0.0;
    if whole {
        let (x0, y0) = (view.x0 as usize, view.y0 as usize);
        for y in 0..dh {
            let sy = (y0 + y).min(sh - 1);
            let from = (sy * sw + x0.min(sw - dw.min(sw))) * 3;
            dst[y * dw * 3..(y + 1) * dw * 3].copy_from_slice(&src[from..from + dw * 3]);
        }
        return;
    }
    // Horizontal taps: source column and weight (0..256) of its right neighbour.
    let inv = 1.0 / view.scale;
    let taps: Vec<(usize, u32)> = (0..dw)
        .map(|x| {
            let fx = (view.x0 + (x as f32 + 0.5) * inv - 0.5).clamp(0.0, (sw - 1) as f32);
            let i = (fx as usize).min(sw.saturating_sub(2));
            (i, ((fx - i as f32) * 256.0) as u32)
        })
        .collect();
    let resample = |row: usize, out: &mut [u16]| {
        let line = &src[row * sw * 3..(row + 1) * sw * 3];
        for (o, &(i, w)) in out.chunks_exact_mut(3).zip(&taps) {
            let a = &line[i * 3..i * 3 + 6];
            for c in 0..3 {
                o[c] = ((u32::from(a[c]) * (256 - w) + u32::from(a[c + 3]) * w) >> 4) as u16;
            }
        }
    };
    let mut upper = vec![0u16; dw * 3];
    let mut lower = vec![0u16; dw * 3];
    let mut cached = (usize::MAX, usize::MAX);
    for y in 0..dh {
        let fy = (view.y0 + (y as f32 + 0.5) * inv - 0.5).clamp(0.0, (sh - 1) as f32);
        let r0 = (fy as usize).min(sh.saturating_sub(2));
        let wy = ((fy - r0 as f32) * 256.0) as u32;
        if cached.0 != r0 {
            if cached.1 == r0 {
                std::mem::swap(&mut upper, &mut lower);
            } else {
                resample(r0, &mut upper);
            }
            resample(r0 + 1, &mut lower);
            cached = (r0, r0 + 1);
        }
        let out = &mut dst[y * dw * 3..(y + 1) * dw * 3];
        for ((o, &a), &b) in out.iter_mut().zip(&upper).zip(&lower) {
            *o = ((u32::from(a) * (256 - wy) + u32::from(b) * wy + 2048) >> 12) as u8;
        }
    }
}

/// Composites a premultiplied RGBA layer (`lw`x`lh`) onto the RGB frame at (`x`, `y`),
/// scaled by `alpha` (0..=1).
pub fn composite(
    frame: &mut [u8],
    (fw, fh): (u32, u32),
    layer: &[u8],
    (lw, lh): (u32, u32),
    (x, y): (i32, i32),
    alpha: f32,
) {
    let a_mul = (alpha.clamp(0.0, 1.0) * 256.0) as u32;
    for ly in 0..lh as i32 {
        let fy = y + ly;
        if fy < 0 || fy >= fh as i32 {
            continue;
        }
        let lx0 = (-x).max(0);
        let lx1 = (fw as i32 - x).min(lw as i32);
        if lx0 >= lx1 {
            return;
        }
        let src = &layer[(ly * lw as i32 + lx0) as usize * 4..(ly * lw as i32 + lx1) as usize * 4];
        let start = (fy as usize * fw as usize + (x + lx0) as usize) * 3;
        let dst = &mut frame[start..start + (lx1 - lx0) as usize * 3];
        for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
            let a = (u32::from(s[3]) * a_mul) >> 8;
            if a == 0 {
                continue;
            }
            let keep = 255 - a;
            for c in 0..3 {
                let premul = (u32::from(s[c]) * a_mul) >> 8;
                d[c] = (premul + (u32::from(d[c]) * keep + 127) / 255).min(255) as u8;
            }
        }
    }
}

/// Adds `amount` (0..=1) of white light to every pixel.
pub fn flash(frame: &mut [u8], amount: f32) {
    let k = (amount.clamp(0.0, 1.0) * 256.0) as u32;
    for v in frame.iter_mut() {
        *v = (u32::from(*v) + (((255 - u32::from(*v)) * k) >> 8)) as u8;
    }
}

/// Blends one pixel towards `rgb` by `a` (0..=256).
#[inline]
pub fn blend_pixel(frame: &mut [u8], fw: u32, fh: u32, x: i32, y: i32, rgb: [u8; 3], a: u32) {
    if x < 0 || y < 0 || x >= fw as i32 || y >= fh as i32 {
        return;
    }
    let i = (y as usize * fw as usize + x as usize) * 3;
    for c in 0..3 {
        let d = u32::from(frame[i + c]);
        frame[i + c] = ((d * (256 - a) + u32::from(rgb[c]) * a) >> 8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_pixel_views_copy_exactly() {
        let src: Vec<u8> = (0..8 * 4 * 3).map(|i| i as u8).collect();
        let mut dst = vec![0u8; 4 * 2 * 3];
        sample_view(
            &src,
            8,
            4,
            View {
                x0: 2.0,
                y0: 1.0,
                scale: 1.0,
            },
            &mut dst,
            4,
            2,
        );
        assert_eq!(&dst[..12], &src[(8 + 2) * 3..(8 + 6) * 3]);
    }

    #[test]
    fn zoomed_views_interpolate_flat_colour_exactly() {
        let src = vec![100u8; 16 * 16 * 3];
        let mut dst = vec![0u8; 8 * 8 * 3];
        sample_view(
            &src,
            16,
            16,
            View {
                x0: 3.3,
                y0: 2.7,
                scale: 1.37,
            },
            &mut dst,
            8,
            8,
        );
        assert!(dst.iter().all(|&v| v == 100));
    }

    #[test]
    fn composite_respects_alpha() {
        let mut frame = vec![0u8; 6];
        let layer = [255, 0, 0, 255, 0, 0, 0, 0];
        composite(&mut frame, (2, 1), &layer, (2, 1), (0, 0), 1.0);
        assert_eq!(frame, vec![255, 0, 0, 0, 0, 0]);
    }
}
