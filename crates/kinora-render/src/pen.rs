//! A small drawing vocabulary over tiny-skia for the figures: shapes in figure units (the
//! figure is one unit tall, feet at the origin, facing +x, y pointing down), shaded by the
//! scene's look as they are drawn.

use tiny_skia::{
    Color, FillRule, LineCap, Paint, PathBuilder, PixmapMut, Rect, Shader, Stroke, Transform,
};

use crate::look::Look;

pub struct Pen<'a> {
    pixmap: PixmapMut<'a>,
    transform: Transform,
    look: &'a Look,
    distance: f32,
}

/// A colour ready to draw with.
#[derive(Debug, Clone, Copy)]
pub struct Ink(Color);

impl<'a> Pen<'a> {
    pub fn new(pixmap: PixmapMut<'a>, transform: Transform, look: &'a Look, distance: f32) -> Self {
        Self {
            pixmap,
            transform,
            look,
            distance,
        }
    }

    /// Sets how far from the camera the next shapes are (0 near, 1 at the horizon).
    pub fn set_distance(&mut self, distance: f32) {
        self.distance = distance;
    }

    /// A lit surface colour.
    pub fn ink(&self, rgb: [u8; 3]) -> Ink {
        let [r, g, b] = self.look.surface(rgb, self.distance);
        Ink(Color::from_rgba8(r, g, b, 255))
    }

    /// A colour that gives off light (lamps, windows at night, the sun).
    pub fn glow(&self, rgb: [u8; 3]) -> Ink {
        let [r, g, b] = self.look.glow(rgb);
        Ink(Color::from_rgba8(r, g, b, 255))
    }

    /// `ink` made partly transparent.
    pub fn faded(ink: Ink, alpha: f32) -> Ink {
        let mut c = ink.0;
        c.set_alpha(alpha.clamp(0.0, 1.0));
        Ink(c)
    }

    fn paint(ink: Ink) -> Paint<'static> {
        Paint {
            shader: Shader::SolidColor(ink.0),
            anti_alias: true,
            ..Paint::default()
        }
    }

    fn fill(&mut self, pb: PathBuilder, ink: Ink) {
        if let Some(path) = pb.finish() {
            self.pixmap.fill_path(
                &path,
                &Self::paint(ink),
                FillRule::Winding,
                self.transform,
                None,
            );
        }
    }

    pub fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, ink: Ink) {
        if let Some(rect) = Rect::from_xywh(cx - rx, cy - ry, 2.0 * rx, 2.0 * ry) {
            let mut pb = PathBuilder::new();
            pb.push_oval(rect);
            self.fill(pb, ink);
        }
    }

    pub fn circle(&mut self, cx: f32, cy: f32, r: f32, ink: Ink) {
        self.ellipse(cx, cy, r, r, ink);
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, ink: Ink) {
        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            let mut pb = PathBuilder::new();
            pb.push_rect(rect);
            self.fill(pb, ink);
        }
    }

    pub fn round_rect(&mut self, x: f32, y: f32, w: f32, h: f32, r: f32, ink: Ink) {
        let r = r.min(w / 2.0).min(h / 2.0);
        let mut pb = PathBuilder::new();
        pb.move_to(x + r, y);
        pb.line_to(x + w - r, y);
        pb.quad_to(x + w, y, x + w, y + r);
        pb.line_to(x + w, y + h - r);
        pb.quad_to(x + w, y + h, x + w - r, y + h);
        pb.line_to(x + r, y + h);
        pb.quad_to(x, y + h, x, y + h - r);
        pb.line_to(x, y + r);
        pb.quad_to(x, y, x + r, y);
        pb.close();
        self.fill(pb, ink);
    }

    pub fn poly(&mut self, points: &[(f32, f32)], ink: Ink) {
        let mut pb = PathBuilder::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            if i == 0 {
                pb.move_to(x, y)
            } else {
                pb.line_to(x, y)
            }
        }
        pb.close();
        self.fill(pb, ink);
    }

    /// A round-capped stroke through `points`.
    pub fn line(&mut self, points: &[(f32, f32)], width: f32, ink: Ink) {
        let mut pb = PathBuilder::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            if i == 0 {
                pb.move_to(x, y)
            } else {
                pb.line_to(x, y)
            }
        }
        if let Some(path) = pb.finish() {
            let stroke = Stroke {
                width,
                line_cap: LineCap::Round,
                ..Stroke::default()
            };
            self.pixmap
                .stroke_path(&path, &Self::paint(ink), &stroke, self.transform, None);
        }
    }

    /// A limb from `from`, `len` long, swung `angle` radians from straight down (positive
    /// swings forward); returns its far end.
    pub fn limb(
        &mut self,
        from: (f32, f32),
        angle: f32,
        len: f32,
        width: f32,
        ink: Ink,
    ) -> (f32, f32) {
        let to = (from.0 + len * angle.sin(), from.1 + len * angle.cos());
        self.line(&[from, to], width, ink);
        to
    }

    /// Draws `f` rotated by `angle` radians about `pivot`.
    pub fn rotated(&mut self, pivot: (f32, f32), angle: f32, f: impl FnOnce(&mut Self)) {
        let saved = self.transform;
        self.transform = saved.pre_concat(Transform::from_rotate_at(
            angle.to_degrees(),
            pivot.0,
            pivot.1,
        ));
        f(self);
        self.transform = saved;
    }

    /// Draws `f` scaled about `pivot`.
    pub fn scaled(&mut self, pivot: (f32, f32), sx: f32, sy: f32, f: impl FnOnce(&mut Self)) {
        let saved = self.transform;
        self.transform = saved
            .pre_translate(pivot.0, pivot.1)
            .pre_scale(sx, sy)
            .pre_translate(-pivot.0, -pivot.1);
        f(self);
        self.transform = saved;
    }
}
