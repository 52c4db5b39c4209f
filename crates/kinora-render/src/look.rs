//! The look of a scene: the light of the time of day and weather, the mood's grade and the
//! style, applied to each colour as it is drawn (never as a pass over whole frames, which would
//! cost a full-frame read and write per frame).

use crate::vocabulary::{Mood, Style, TimeOfDay, Weather};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    light: [f32; 3],
    /// Share of a colour replaced by the haze colour at the horizon (fog, rain).
    haze: f32,
    haze_rgb: [f32; 3],
    saturation: f32,
    contrast: f32,
    tint: [f32; 3],
    style: Style,
}

fn luma(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn to_f(c: [u8; 3]) -> [f32; 3] {
    [c[0] as f32, c[1] as f32, c[2] as f32]
}

fn to_u8(c: [f32; 3]) -> [u8; 3] {
    [
        c[0].round().clamp(0.0, 255.0) as u8,
        c[1].round().clamp(0.0, 255.0) as u8,
        c[2].round().clamp(0.0, 255.0) as u8,
    ]
}

/// Top and horizon colours of the open sky.
pub fn sky_colours(time: TimeOfDay) -> ([u8; 3], [u8; 3]) {
    match time {
        TimeOfDay::Dawn => ([86, 104, 170], [250, 178, 150]),
        TimeOfDay::Day => ([62, 132, 226], [182, 214, 246]),
        TimeOfDay::Dusk => ([46, 40, 104], [252, 134, 64]),
        TimeOfDay::Night => ([6, 8, 26], [28, 38, 78]),
    }
}

/// A mood's grade: saturation, contrast and a per-channel tint.
pub fn mood_grade(mood: Mood) -> (f32, f32, [f32; 3]) {
    match mood {
        Mood::Calm => (0.95, 0.95, [1.0, 1.0, 1.0]),
        Mood::Cheerful => (1.18, 1.05, [1.03, 1.02, 0.97]),
        Mood::Tense => (0.78, 1.18, [0.95, 0.98, 1.04]),
        Mood::Mysterious => (0.85, 1.05, [0.96, 0.92, 1.08]),
        Mood::Romantic => (1.05, 0.95, [1.06, 0.97, 0.95]),
        Mood::Epic => (1.1, 1.15, [1.03, 1.0, 0.96]),
        // The counterpart of romantic's warmth: bluer and a little washed out.
        Mood::Cold => (0.82, 1.02, [0.88, 0.97, 1.12]),
    }
}

impl Look {
    pub fn new(time: TimeOfDay, weather: Weather, mood: Mood, style: Style) -> Look {
        let mut light = match time {
            TimeOfDay::Dawn => [0.95, 0.84, 0.80],
            TimeOfDay::Day => [1.0, 1.0, 1.0],
            TimeOfDay::Dusk => [0.95, 0.72, 0.56],
            TimeOfDay::Night => [0.30, 0.36, 0.56],
        };
        let (dim, haze) = match weather {
            Weather::Clear | Weather::Wind => (1.0, 0.0),
            Weather::Cloudy => (0.86, 0.1),
            Weather::Rain => (0.74, 0.22),
            Weather::Snow => (0.95, 0.2),
            Weather::Fog => (0.92, 0.55),
            Weather::Storm => (0.56, 0.25),
        };
        light.iter_mut().for_each(|l| *l *= dim);
        let haze_rgb = match (weather, time) {
            (_, TimeOfDay::Night) => [40.0, 46.0, 66.0],
            (Weather::Snow | Weather::Fog, _) => [212.0, 216.0, 222.0],
            _ => [150.0, 156.0, 166.0],
        };
        let (saturation, contrast, tint) = mood_grade(mood);
        Look {
            light,
            haze,
            haze_rgb,
            saturation,
            contrast,
            tint,
            style,
        }
    }

    /// A lit surface `distance` from the camera (0 near, 1 at the horizon).
    pub fn surface(&self, rgb: [u8; 3], distance: f32) -> [u8; 3] {
        let c = to_f(rgb);
        let lit = [
            c[0] * self.light[0],
            c[1] * self.light[1],
            c[2] * self.light[2],
        ];
        let hazed = mix(lit, self.haze_rgb, self.haze * distance.clamp(0.0, 1.0));
        to_u8(self.grade(hazed))
    }

    /// A light source or the sky itself: weather and grade, but no time-of-day multiply.
    pub fn glow(&self, rgb: [u8; 3]) -> [u8; 3] {
        let hazed = mix(to_f(rgb), self.haze_rgb, self.haze * 0.8);
        to_u8(self.grade(hazed))
    }

    fn grade(&self, c: [f32; 3]) -> [f32; 3] {
        let y = luma(c);
        let mut c = mix([y, y, y], c, self.saturation);
        for (i, v) in c.iter_mut().enumerate() {
            *v = ((*v - 128.0) * self.contrast + 128.0) * self.tint[i];
        }
        apply_style(self.style, c)
    }
}

/// The style's colour mapping, shared with the frame-by-frame grade of foreign clips.
pub fn apply_style(style: Style, c: [f32; 3]) -> [f32; 3] {
    let y = luma(c);
    match style {
        Style::Natural => c,
        Style::Noir => {
            let v = ((y - 128.0) * 1.3 + 128.0).clamp(0.0, 255.0);
            [v, v, v]
        }
        Style::Sepia => {
            let v = y.clamp(0.0, 255.0) / 255.0;
            [40.0 + 215.0 * v, 26.0 + 190.0 * v, 12.0 + 140.0 * v]
        }
        Style::Pastel => mix(mix([y, y, y], c, 0.7), [250.0, 244.0, 248.0], 0.42),
        Style::Watercolor => {
            let soft = mix([y, y, y], c, 0.85);
            let stepped = soft.map(|v| (v / 32.0).round() * 32.0);
            mix(mix(soft, stepped, 0.5), [246.0, 240.0, 226.0], 0.2)
        }
        Style::Neon => {
            let boosted = mix([y, y, y], c, 1.6);
            boosted.map(|v| (v - 128.0) * 1.2 + 118.0)
        }
    }
}

/// Mixes two colours; `t = 0` keeps `a`.
pub fn blend(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    to_u8(mix(to_f(a), to_f(b), t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn night_is_darker_than_day() {
        let day = Look::new(TimeOfDay::Day, Weather::Clear, Mood::Calm, Style::Natural);
        let night = Look::new(TimeOfDay::Night, Weather::Clear, Mood::Calm, Style::Natural);
        let c = [200, 180, 160];
        let sum = |v: [u8; 3]| v.iter().map(|&x| u32::from(x)).sum::<u32>();
        assert!(sum(night.surface(c, 0.0)) * 2 < sum(day.surface(c, 0.0)));
    }

    #[test]
    fn noir_is_grey() {
        let look = Look::new(TimeOfDay::Day, Weather::Clear, Mood::Calm, Style::Noir);
        let [r, g, b] = look.surface([200, 30, 30], 0.0);
        assert!(r == g && g == b);
    }
}
