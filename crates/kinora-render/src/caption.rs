//! Storyboard captions: the words of a shot the engine could not draw, set in the lower third as
//! an animatic would, so a viewer sees what is missing instead of something else in its place.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use crate::scene::Scene;

/// The caption of a shot whose prompt had words the engine could not draw, or `None`.
pub fn text(ignored: &[String]) -> Option<String> {
    (!ignored.is_empty()).then(|| format!("Not drawn: {}", ignored.join(", ")))
}

/// A caption rasterised once for a frame size: text coverage over a dark band.
#[derive(Debug, Clone)]
pub struct Caption {
    /// Rows of the band, top inclusive, bottom exclusive.
    band: (u32, u32),
    /// Text coverage (0..=255) over the whole band, `width` a row.
    ink: Vec<u8>,
    width: u32,
}

fn font() -> Option<FontRef<'static>> {
    FontRef::try_from_slice(dejavu::sans::bold()).ok()
}

/// Splits `text` into lines no wider than `max` pixels at `scale`.
fn wrap(font: &FontRef<'_>, scale: PxScale, text: &str, max: f32) -> Vec<String> {
    let scaled = font.as_scaled(scale);
    let width = |s: &str| -> f32 { s.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum() };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate) > max && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

impl Caption {
    /// Lays `text` out for a `width`x`height` frame: centred lines inside the lower third, at
    /// most three (the rest is cut with an ellipsis).
    pub fn new(text: &str, width: u32, height: u32) -> Option<Caption> {
        let font = font()?;
        let px = (height.min(width) as f32 / 18.0).clamp(8.0, 48.0);
        let scale = PxScale::from(px);
        let line_h = px * 1.2;
        let pad = px * 0.4;
        let bottom = height - (height as f32 * 0.06) as u32;
        let third = (height * 2).div_ceil(3);
        let room = ((bottom.saturating_sub(third) as f32 - 2.0 * pad) / line_h).floor();
        let most = (room as usize).clamp(1, 3);
        let mut lines = wrap(&font, scale, text, width as f32 * 0.9);
        if lines.len() > most {
            lines.truncate(most);
            lines[most - 1].push('…');
        }
        let band_h = (lines.len() as f32 * line_h + 2.0 * pad).ceil() as u32;
        let top = bottom.saturating_sub(band_h).max(third.min(bottom));
        let mut ink = vec![0u8; (width * (bottom - top)) as usize];
        let scaled = font.as_scaled(scale);
        for (i, line) in lines.iter().enumerate() {
            let advance: f32 = line
                .chars()
                .map(|c| scaled.h_advance(font.glyph_id(c)))
                .sum();
            let mut x = ((width as f32 - advance) / 2.0).max(0.0);
            let baseline = pad + i as f32 * line_h + scaled.ascent();
            for c in line.chars() {
                let id = font.glyph_id(c);
                let glyph = id.with_scale_and_position(scale, point(x, baseline));
                x += scaled.h_advance(id);
                let Some(outlined) = font.outline_glyph(glyph) else {
                    continue;
                };
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, cov| {
                    let (px, py) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                    if px >= 0 && py >= 0 && (px as u32) < width && (py as u32) < bottom - top {
                        let at = (py as u32 * width + px as u32) as usize;
                        ink[at] = ink[at].max((cov * 255.0).round() as u8);
                    }
                });
            }
        }
        Some(Caption {
            band: (top, bottom),
            ink,
            width,
        })
    }

    /// Draws the caption into an RGB frame of the size it was laid out for.
    pub fn draw(&self, rgb: &mut [u8]) {
        let (top, bottom) = self.band;
        let row = self.width as usize * 3;
        for y in top..bottom {
            let Some(line) = rgb.get_mut(y as usize * row..(y as usize + 1) * row) else {
                return;
            };
            let ink = &self.ink[((y - top) * self.width) as usize..][..self.width as usize];
            for (px, &a) in line.chunks_exact_mut(3).zip(ink) {
                let a = u16::from(a);
                for c in px.iter_mut() {
                    // The band darkens the picture to 45 %; the text is near-white over it.
                    let dark = u16::from(*c) * 45 / 100;
                    *c = ((dark * (255 - a) + 245 * a) / 255) as u8;
                }
            }
        }
    }
}

/// Captions the newest segment with `ignored`, the words of its prompt that were not drawn.
pub fn caption_last_segment(scene: &mut Scene, ignored: &[String]) {
    if let Some(seg) = scene.timeline.last_mut() {
        seg.caption = text(ignored);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_sit_in_the_lower_third_and_wrap() {
        let c = Caption::new("Not drawn: abstract, ink, water", 320, 180).unwrap();
        assert!(c.band.0 >= 120 && c.band.1 <= 180);
        assert!(c.ink.iter().any(|&a| a > 200));
        let long = text(&vec!["word".to_owned(); 30]).unwrap();
        for (w, h) in [(128, 128), (64, 64), (1280, 720), (720, 1280)] {
            let c = Caption::new(&long, w, h).unwrap();
            assert!(c.band.0 >= (h * 2).div_ceil(3) && c.band.1 <= h, "{w}x{h}");
        }
        let mut frame = vec![200u8; 320 * 180 * 3];
        Caption::new("Not drawn: ink", 320, 180)
            .unwrap()
            .draw(&mut frame);
        assert!(frame[..120 * 320 * 3].iter().all(|&v| v == 200));
        assert!(frame[120 * 320 * 3..].iter().any(|&v| v != 200));
        assert_eq!(text(&[]), None);
    }
}
