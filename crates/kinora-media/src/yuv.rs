//! BT.601 limited-range RGB <-> I420 conversion in integer arithmetic.
//! Hand-written because it sits on the encode and decode hot paths (see `tests::speed`).

/// Planar 4:2:0 picture with tight strides (`width`, `width / 2`).
#[derive(Clone, Debug)]
pub(crate) struct I420 {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl I420 {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0; width * height * 3 / 2],
        }
    }

    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let luma = self.width * self.height;
        let (y, uv) = self.data.split_at_mut(luma);
        let (u, v) = uv.split_at_mut(luma / 4);
        (y, u, v)
    }

    /// Converts `rgb` (tight RGB8, same size) into this buffer; `width` and `height` must be even.
    pub fn fill_from_rgb(&mut self, rgb: &[u8]) {
        let width = self.width;
        let (y, u, v) = self.planes_mut();
        rgb_to_i420(rgb, width, y, u, v);
    }
}

impl openh264::formats::YUVSource for I420 {
    fn dimensions(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.width, self.width / 2, self.width / 2)
    }

    fn y(&self) -> &[u8] {
        &self.data[..self.width * self.height]
    }

    fn u(&self) -> &[u8] {
        let luma = self.width * self.height;
        &self.data[luma..luma + luma / 4]
    }

    fn v(&self) -> &[u8] {
        let luma = self.width * self.height;
        &self.data[luma + luma / 4..]
    }
}

#[inline(always)]
fn luma(r: i32, g: i32, b: i32) -> u8 {
    (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
}

/// Row pairs at a time: each 2x2 block shares one chroma sample (the block average).
pub(crate) fn rgb_to_i420(rgb: &[u8], width: usize, y: &mut [u8], u: &mut [u8], v: &mut [u8]) {
    let cw = width / 2;
    let rows = rgb
        .chunks_exact(width * 6)
        .zip(y.chunks_exact_mut(width * 2))
        .zip(u.chunks_exact_mut(cw).zip(v.chunks_exact_mut(cw)));
    for ((rgb2, y2), (ur, vr)) in rows {
        let (r0, r1) = rgb2.split_at(width * 3);
        let (y0, y1) = y2.split_at_mut(width);
        let pixels = r0
            .chunks_exact(6)
            .zip(r1.chunks_exact(6))
            .zip(y0.chunks_exact_mut(2).zip(y1.chunks_exact_mut(2)))
            .zip(ur.iter_mut().zip(vr.iter_mut()));
        for (((a, b), (ya, yb)), (uo, vo)) in pixels {
            let (ar0, ag0, ab0) = (i32::from(a[0]), i32::from(a[1]), i32::from(a[2]));
            let (ar1, ag1, ab1) = (i32::from(a[3]), i32::from(a[4]), i32::from(a[5]));
            let (br0, bg0, bb0) = (i32::from(b[0]), i32::from(b[1]), i32::from(b[2]));
            let (br1, bg1, bb1) = (i32::from(b[3]), i32::from(b[4]), i32::from(b[5]));
            ya[0] = luma(ar0, ag0, ab0);
            ya[1] = luma(ar1, ag1, ab1);
            yb[0] = luma(br0, bg0, bb0);
            yb[1] = luma(br1, bg1, bb1);
            let rs = ar0 + ar1 + br0 + br1;
            let gs = ag0 + ag1 + bg0 + bg1;
            let bs = ab0 + ab1 + bb0 + bb1;
            *uo = (((-38 * rs - 74 * gs + 112 * bs + 512) >> 10) + 128) as u8;
            *vo = (((112 * rs - 94 * gs - 18 * bs + 512) >> 10) + 128) as u8;
        }
    }
}

/// Borrowed planar 4:2:0 picture with arbitrary strides (decoder output).
pub(crate) struct YuvPlanes<'a> {
    pub width: usize,
    pub height: usize,
    pub y: &'a [u8],
    pub u: &'a [u8],
    pub v: &'a [u8],
    pub y_stride: usize,
    pub uv_stride: usize,
}

#[inline(always)]
fn clamp8(x: i32) -> u8 {
    x.clamp(0, 255) as u8
}

#[inline(always)]
fn put_rgb(out: &mut [u8], yv: u8, ru: i32, gu: i32, bu: i32) {
    let c = 298 * (i32::from(yv) - 16) + 128;
    out[0] = clamp8((c + ru) >> 8);
    out[1] = clamp8((c + gu) >> 8);
    out[2] = clamp8((c + bu) >> 8);
}

/// Writes tight RGB8 into `out` (`width * height * 3` bytes). Returns false when the planes are
/// too small for the stated geometry, which a conforming decoder never produces.
pub(crate) fn i420_to_rgb(p: &YuvPlanes<'_>, out: &mut [u8]) -> bool {
    let (w, h) = (p.width, p.height);
    if w == 0
        || h == 0
        || w % 2 != 0
        || out.len() != w * h * 3
        || p.y_stride < w
        || p.uv_stride < w / 2
        || p.y.len() < p.y_stride * (h - 1) + w
        || p.u.len() < p.uv_stride * (h.div_ceil(2) - 1) + w / 2
        || p.v.len() < p.uv_stride * (h.div_ceil(2) - 1) + w / 2
    {
        return false;
    }
    for (row, out_row) in out.chunks_exact_mut(w * 3).enumerate() {
        let yr = &p.y[row * p.y_stride..row * p.y_stride + w];
        let c = (row / 2) * p.uv_stride;
        let ur = &p.u[c..c + w / 2];
        let vr = &p.v[c..c + w / 2];
        let px = out_row
            .chunks_exact_mut(6)
            .zip(yr.chunks_exact(2))
            .zip(ur.iter().zip(vr.iter()));
        for ((o, ys), (&uu, &vv)) in px {
            let d = i32::from(uu) - 128;
            let e = i32::from(vv) - 128;
            let (ru, gu, bu) = (409 * e, -100 * d - 208 * e, 516 * d);
            let (o0, o1) = o.split_at_mut(3);
            put_rgb(o0, ys[0], ru, gu, bu);
            put_rgb(o1, ys[1], ru, gu, bu);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Vec<u8> {
        let mut rgb = vec![0u8; w * h * 3];
        for yy in 0..h {
            for xx in 0..w {
                let i = (yy * w + xx) * 3;
                rgb[i] = (xx * 255 / w) as u8;
                rgb[i + 1] = (yy * 255 / h) as u8;
                rgb[i + 2] = ((xx + yy) % 256) as u8;
            }
        }
        rgb
    }

    #[test]
    fn round_trip_is_close() {
        let (w, h) = (64, 36);
        let rgb = gradient(w, h);
        let mut yuv = I420::new(w, h);
        yuv.fill_from_rgb(&rgb);
        let (y, u, v) = {
            let l = w * h;
            (&yuv.data[..l], &yuv.data[l..l + l / 4], &yuv.data[l + l / 4..])
        };
        let planes = YuvPlanes {
            width: w,
            height: h,
            y,
            u,
            v,
            y_stride: w,
            uv_stride: w / 2,
        };
        let mut out = vec![0u8; w * h * 3];
        assert!(i420_to_rgb(&planes, &mut out));
        let a = crate::RgbFrame::from_raw(w as u32, h as u32, rgb).unwrap();
        let b = crate::RgbFrame::from_raw(w as u32, h as u32, out).unwrap();
        let p = crate::psnr(&a, &b);
        assert!(p > 33.0, "round trip psnr {p}");
    }

    #[test]
    fn known_colours() {
        let mut yuv = I420::new(2, 2);
        yuv.fill_from_rgb(&[255; 12]);
        assert_eq!(&yuv.data, &[235, 235, 235, 235, 128, 128]);
        yuv.fill_from_rgb(&[0; 12]);
        assert_eq!(&yuv.data, &[16, 16, 16, 16, 128, 128]);
    }

    #[test]
    fn rejects_short_planes() {
        let planes = YuvPlanes {
            width: 4,
            height: 4,
            y: &[0; 8],
            u: &[0; 4],
            v: &[0; 4],
            y_stride: 4,
            uv_stride: 2,
        };
        assert!(!i420_to_rgb(&planes, &mut [0; 48]));
    }
}
