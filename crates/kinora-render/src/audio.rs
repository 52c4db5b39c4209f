//! Audio made from the scene, one video frame's worth at a time (2000 stereo samples at 48 kHz
//! and 24 fps), so it streams beside the frames: an ambience bed per setting and weather, a
//! quiet pad per mood, and cues for what the subjects do (footsteps, engines, barks, chirps,
//! thunder), panned to where they are. Events are pure functions of time and the seed.

use std::f32::consts::TAU;

use kinora_media::{AUDIO_CHANNELS, AUDIO_SAMPLE_RATE};

use crate::FPS;
use crate::scene::Scene;
use crate::vocabulary::{Mood, Motion, Setting, SubjectKind, Weather};
use crate::weather::{mix64, thunder_at, unit};

/// Samples per channel in one frame's chunk.
pub const SAMPLES_PER_FRAME: usize = (AUDIO_SAMPLE_RATE / FPS) as usize;

/// Appends video frame `frame`'s share of an interleaved stereo `track` to `out`, padded with
/// silence where the track is shorter than the video (or absent), so every frame carries
/// exactly one frame's worth of samples.
pub fn track_chunk(track: Option<&[f32]>, frame: u32, out: &mut Vec<f32>) {
    let n = SAMPLES_PER_FRAME * 2;
    let start = frame as usize * n;
    let chunk = track
        .and_then(|a| a.get(start.min(a.len())..(start + n).min(a.len())))
        .unwrap_or(&[]);
    let base = out.len();
    out.extend_from_slice(chunk);
    out.resize(base + n, 0.0);
}

/// One-pole low-pass filter.
#[derive(Debug, Clone, Copy, Default)]
struct LowPass {
    y: f32,
}

impl LowPass {
    fn run(&mut self, x: f32, cutoff: f32) -> f32 {
        let a = 1.0 - (-TAU * cutoff / AUDIO_SAMPLE_RATE as f32).exp();
        self.y += a * (x - self.y);
        self.y
    }
}

/// A cue heard on this chunk: who makes it, where, how loud.
#[derive(Debug, Clone, Copy)]
struct Voice {
    id: u64,
    kind: SubjectKind,
    motion: Motion,
    pan: f32,
    gain: f32,
    phase: f32,
}

pub struct AudioSynth {
    scene: Scene,
    noise: u64,
    surf: LowPass,
    wind: [LowPass; 2],
    rain: LowPass,
    rumble: LowPass,
    thunder: LowPass,
}

fn white(state: &mut u64) -> f32 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// A decaying burst shaped by `env` seconds; zero outside `0..len`.
fn burst(t: f32, len: f32, decay: f32) -> f32 {
    if (0.0..len).contains(&t) {
        (-t / decay).exp() * (t * 400.0).min(1.0)
    } else {
        0.0
    }
}

/// Frequencies of the mood's pad chord.
fn pad_chord(mood: Mood) -> [f32; 3] {
    match mood {
        Mood::Calm => [130.8, 164.8, 196.0],
        Mood::Cheerful => [196.0, 246.9, 293.7],
        Mood::Tense => [110.0, 130.8, 155.6],
        Mood::Mysterious => [146.8, 196.0, 220.0],
        Mood::Romantic => [174.6, 220.0, 261.6],
        Mood::Epic => [65.4, 98.0, 130.8],
        Mood::Cold => [146.8, 174.6, 220.0],
    }
}

impl AudioSynth {
    pub fn new(scene: &Scene) -> Self {
        Self {
            scene: scene.clone(),
            noise: scene.seed | 1,
            surf: LowPass::default(),
            wind: [LowPass::default(); 2],
            rain: LowPass::default(),
            rumble: LowPass::default(),
            thunder: LowPass::default(),
        }
    }

    fn voices(&self, frame: u32) -> Vec<Voice> {
        self.scene
            .subjects
            .iter()
            .filter_map(|s| {
                let st = self.scene.subject_state(s, frame)?;
                Some(Voice {
                    id: u64::from(s.id),
                    kind: s.kind,
                    motion: st.motion,
                    pan: (st.x * 2.0 - 1.0).clamp(-1.0, 1.0),
                    gain: st.alpha * (1.0 - 0.6 * s.depth),
                    phase: s.phase,
                })
            })
            .collect()
    }

    /// Appends one frame's chunk of interleaved stereo samples to `out`.
    pub fn render_frame(&mut self, frame: u32, out: &mut Vec<f32>) {
        let voices = self.voices(frame);
        let setting = self.scene.setting;
        let weather = self
            .scene
            .segment_at(frame)
            .map_or(self.scene.weather, |s| s.weather);
        let chord = pad_chord(self.scene.mood);
        let seed = self.scene.seed;
        let rate = AUDIO_SAMPLE_RATE as f32;
        let start = frame as u64 * SAMPLES_PER_FRAME as u64;
        for n in 0..SAMPLES_PER_FRAME as u64 {
            let t = (start + n) as f32 / rate;
            let noise = white(&mut self.noise);
            let (mut l, mut r) = (0.0f32, 0.0f32);
            let mut both = |v: f32, pan: f32| {
                l += v * (1.0 - pan) * 0.5;
                r += v * (1.0 + pan) * 0.5;
            };
            // Ambience bed.
            match setting {
                Setting::Beach | Setting::Ocean | Setting::Lake => {
                    let swell = 0.5
                        + 0.5 * (TAU * t / if setting == Setting::Lake { 2.5 } else { 7.0 }).sin();
                    let level = if setting == Setting::Lake { 0.12 } else { 0.35 };
                    both(
                        self.surf.run(noise, 500.0 + 700.0 * swell) * level * swell * swell,
                        0.0,
                    );
                }
                Setting::City => {
                    let hum = 0.02 * (TAU * 60.0 * t).sin() + 0.01 * (TAU * 120.0 * t).sin();
                    both(hum + self.rumble.run(noise, 180.0) * 0.5, 0.0);
                }
                Setting::Space => {
                    let drone = (TAU * 55.0 * t).sin()
                        + (TAU * 55.4 * t).sin()
                        + 0.5 * (TAU * 82.5 * t).sin();
                    both(0.05 * drone, 0.0);
                }
                Setting::Underwater => {
                    both(self.rumble.run(noise, 120.0) * 0.8, 0.0);
                    let k = (t * 3.0).floor();
                    let dt = t - k / 3.0 - 0.3 * unit(seed, k as u64 + 7);
                    let f = 400.0 + 2000.0 * dt.max(0.0);
                    both(0.05 * burst(dt, 0.06, 0.02) * (TAU * f * dt).sin(), 0.0);
                }
                Setting::Kitchen | Setting::Office | Setting::Room | Setting::Stage => {
                    both(noise * 0.004, 0.0)
                }
                Setting::Lunar => {}
                Setting::Forest
                | Setting::Meadow
                | Setting::Farm
                | Setting::Desert
                | Setting::Mountains
                | Setting::Snowfield => {}
            }
            let windy = matches!(
                setting,
                Setting::Desert
                    | Setting::Mountains
                    | Setting::Snowfield
                    | Setting::Forest
                    | Setting::Meadow
                    | Setting::Farm
            ) || matches!(weather, Weather::Wind | Weather::Storm);
            if windy {
                let gust = 0.55 + 0.45 * (TAU * t / 5.3).sin() * (TAU * t / 3.1).cos();
                let level = if matches!(weather, Weather::Wind | Weather::Storm) {
                    0.5
                } else {
                    0.18
                };
                let lo = self.wind[0].run(noise, 250.0 + 500.0 * gust);
                let band = lo - self.wind[1].run(lo, 120.0);
                both(band * level * gust, 0.0);
            }
            if matches!(
                setting,
                Setting::Forest | Setting::Meadow | Setting::Farm | Setting::Lake
            ) && weather == Weather::Clear
            {
                both(0.12 * chirp(t, seed, 1, 1.7), -0.4);
            }
            // Weather.
            if matches!(weather, Weather::Rain | Weather::Storm) {
                let hiss = noise - self.rain.run(noise, 2500.0);
                both(
                    hiss * if weather == Weather::Storm {
                        0.28
                    } else {
                        0.16
                    },
                    0.0,
                );
            }
            if weather == Weather::Storm {
                let k = (t / 3.0).floor() as u64;
                let dt = t - thunder_at(k, seed);
                let env = burst(dt, 2.5, 0.7);
                both(self.thunder.run(noise, 90.0) * 6.0 * env, 0.0);
            }
            // Mood pad.
            let pad: f32 = chord.iter().map(|f| (TAU * f * t).sin()).sum();
            both(pad * 0.012 * (0.7 + 0.3 * (TAU * t / 8.0).sin()), 0.0);
            // Cues.
            for v in &voices {
                let c = cue(v, t, seed, noise);
                both(c * v.gain, v.pan);
            }
            out.push((l * 1.2).tanh());
            if AUDIO_CHANNELS == 2 {
                out.push((r * 1.2).tanh());
            }
        }
    }
}

/// Birdsong: a short rising chirp pair in random spots, about `per_second` a second.
fn chirp(t: f32, seed: u64, stream: u64, per_second: f32) -> f32 {
    let k = (t * per_second).floor();
    let at = (k + 0.7 * unit(seed, mix64(stream) ^ k as u64)) / per_second;
    let dt = t - at;
    if !(0.0..0.22).contains(&dt) {
        return 0.0;
    }
    let note = if dt < 0.1 { dt } else { dt - 0.12 };
    let f = 2800.0 + 9000.0 * note;
    (TAU * f * dt).sin() * burst(note, 0.09, 0.04)
}

/// The sound a subject makes doing what it does at time `t`.
fn cue(v: &Voice, t: f32, seed: u64, noise: f32) -> f32 {
    use SubjectKind::*;
    let legged = matches!(
        v.kind,
        Person | Child | Robot | Dog | Cat | Fox | Horse | Cow | Elephant
    );
    let mut s = 0.0;
    if legged && matches!(v.motion, Motion::Walk | Motion::Run | Motion::Dance) {
        let steps = if v.motion == Motion::Run { 6.0 } else { 3.4 };
        let dt = ((t + v.phase) * steps).fract() / steps;
        let weight = if matches!(v.kind, Horse | Cow | Elephant) {
            0.5
        } else {
            0.25
        };
        s += weight * burst(dt, 0.08, 0.02) * (noise * 0.6 + (TAU * 90.0 * dt).sin());
    }
    if matches!(v.motion, Motion::Jump | Motion::Bounce) {
        let dt = ((t + v.phase) * 1.2).fract() / 1.2;
        s += 0.2 * burst(dt, 0.2, 0.06) * (TAU * (300.0 + 900.0 * dt) * dt).sin();
    }
    let event = |period: f32, stream: u64| {
        let k = ((t + v.phase) / period).floor();
        t + v.phase - (k * period + 0.5 * period * unit(seed, v.id * 1000 + stream + k as u64))
    };
    match v.kind {
        Car | Bus | Truck | Train | Boat if v.motion != Motion::Idle => {
            let f = if v.kind == Car { 70.0 } else { 48.0 };
            let saw = 2.0 * (f * t).fract() - 1.0;
            s += 0.08 * saw + 0.04 * noise;
        }
        Plane | Rocket => s += 0.12 * noise * (0.6 + 0.4 * (TAU * 0.3 * t).sin()),
        Dog => {
            let dt = event(2.6, 1);
            let f = 420.0 - 600.0 * dt;
            s += 0.35 * burst(dt, 0.16, 0.06) * ((TAU * f * dt).sin() + 0.3 * noise);
        }
        Cat => {
            let dt = event(4.0, 2);
            let f = 620.0 + 500.0 * (dt * 6.0).sin();
            s += 0.2 * burst(dt, 0.5, 0.25) * (TAU * f * dt).sin();
        }
        Bird => s += 0.2 * chirp(t, seed, v.id + 10, 2.2),
        Dragon => {
            let dt = event(4.5, 3);
            s += 0.5 * burst(dt, 1.0, 0.4) * (noise * 0.7 + (TAU * 70.0 * dt).sin());
        }
        Robot => {
            let dt = event(1.8, 4);
            let square = if (880.0 * dt).fract() < 0.5 {
                1.0
            } else {
                -1.0
            };
            s += 0.06 * square * burst(dt, 0.08, 0.05);
        }
        Teapot if v.motion != Motion::Idle => s += 0.05 * (TAU * 1760.0 * t).sin(),
        Horse => {
            let dt = event(5.0, 5);
            s +=
                0.2 * burst(dt, 0.6, 0.25) * (TAU * (500.0 + 200.0 * (dt * 30.0).sin()) * dt).sin();
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_chunks_are_one_frame_long_and_silent_past_the_end() {
        let n = SAMPLES_PER_FRAME * 2;
        let track: Vec<f32> = (0..n + n / 2).map(|i| i as f32).collect();
        let mut out = Vec::new();
        track_chunk(Some(&track), 0, &mut out);
        assert_eq!(out, track[..n]);
        out.clear();
        track_chunk(Some(&track), 1, &mut out);
        assert_eq!(out.len(), n);
        assert_eq!(out[..n / 2], track[n..]);
        assert!(out[n / 2..].iter().all(|&s| s == 0.0));
        out.clear();
        track_chunk(Some(&track), 9, &mut out);
        track_chunk(None, 0, &mut out);
        assert_eq!(out, vec![0.0; 2 * n]);
    }

    fn render(scene: &Scene, frames: u32) -> Vec<f32> {
        let mut synth = AudioSynth::new(scene);
        let mut out = Vec::new();
        for f in 0..frames {
            synth.render_frame(f, &mut out);
        }
        out
    }

    fn scene(prompt: &str) -> Scene {
        let mut s = Scene::from_prompt(prompt, 4, &[]);
        s.push_segment(48, prompt, s.camera, s.weather, &[]);
        s
    }

    #[test]
    fn chunks_are_one_frame_long_and_bounded() {
        let out = render(&scene("a dog runs on a beach in a storm"), 24);
        assert_eq!(out.len(), 24 * SAMPLES_PER_FRAME * 2);
        assert!(out.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
        let rms = (out.iter().map(|v| v * v).sum::<f32>() / out.len() as f32).sqrt();
        assert!(rms > 0.01, "rms {rms}");
    }

    #[test]
    fn scenes_sound_different_and_repeat_exactly() {
        let city = render(&scene("a car in the city"), 12);
        let forest = render(&scene("a bird in the forest"), 12);
        assert_ne!(city, forest);
        assert_eq!(city, render(&scene("a car in the city"), 12));
    }
}
