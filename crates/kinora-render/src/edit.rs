//! Edit: one change to a clip, keeping its size and length. A clip this engine made is drawn
//! again from its scene with the change applied (recolour, add, remove or replace a subject;
//! time of day, weather, setting, mood or style). Any other clip is graded frame by frame:
//! time-of-day light, weather (with its particles), the mood's tint, a colour tint and the style.

use std::path::Path;

use kinora_core::ErrorCode;

use crate::FPS;
use crate::audio::AudioSynth;
use crate::error::RenderError;
use crate::extend::{own_scene, probe_source};
use crate::footage::Filter;
use crate::look::{apply_style, mood_grade};
use crate::pipeline::render_scene;
use crate::pipeline::{self, Previews};
use crate::platform::{is_platform, platform_clip};
use crate::prompt::{EditVerb, Reading, Term, read};
use crate::request::{CancelToken, OutFiles, Progress, RenderOutputs, RenderRequest};
use crate::scene::{BackdropSource, FrameSpec, Scene, SubjectGroup, SubjectWish, subject_groups};
use crate::vocabulary::{NamedColour, Style, SubjectKind, TimeOfDay, Weather};
use crate::weather::{self, Canvas};

/// Applies the change `prompt` asks for to `scene`; returns what it changed, for the record.
pub fn apply_edit(scene: &mut Scene, prompt: &str) -> Vec<String> {
    let names: Vec<String> = scene.characters.keys().cloned().collect();
    let reading = read(prompt, &names);
    let groups = subject_groups(&reading, &names);
    let mut changes = degrees(scene, &reading, &groups);
    let mut verb: Option<EditVerb> = None;
    let mut replacing: Option<SubjectKind> = None;
    for (at, f) in reading.terms.iter().enumerate() {
        match f.term {
            Term::Time(t) => {
                scene.time_of_day = t;
                changes.push(format!("time of day: {}", t.name()));
            }
            Term::Weather(w) => {
                scene.weather = w;
                scene.timeline.iter_mut().for_each(|s| s.weather = w);
                changes.push(format!("weather: {}", w.name()));
            }
            Term::Style(s) => {
                scene.style = s;
                changes.push(format!("style: {}", s.name()));
            }
            Term::Mood(m) => {
                scene.mood = m;
                changes.push(format!("mood: {}", m.name()));
            }
            Term::Setting(s) => {
                scene.setting = s;
                changes.push(format!("setting: {}", s.name()));
            }
            Term::Edit(v @ (EditVerb::Add | EditVerb::Remove | EditVerb::Replace)) => {
                verb = Some(v)
            }
            Term::Subject { kind, .. } => {
                let Some(group) = groups.iter().find(|g| g.term == at) else {
                    continue;
                };
                match (verb, replacing) {
                    (Some(EditVerb::Remove), _) => {
                        scene
                            .subjects
                            .retain(|s| s.kind != kind || s.character.is_some());
                        changes.push(format!("removed: {}", kind.name()));
                        verb = None;
                    }
                    (Some(EditVerb::Replace), None) => replacing = Some(kind),
                    (Some(EditVerb::Replace), Some(from)) => {
                        replace(scene, from, &group.wish);
                        changes.push(format!("replaced: {} with {}", from.name(), kind.name()));
                        verb = None;
                        replacing = None;
                    }
                    // A subject named with words the engine could not read ("make the puppy
                    // wear a hat") asks for something about it, not for another one.
                    _ if verb == Some(EditVerb::Add)
                        || (!scene.subjects.iter().any(|s| s.kind == kind)
                            && !reading.ignored_clauses.contains(&f.clause)) =>
                    {
                        for _ in 0..group.count {
                            add(scene, group.wish.clone());
                        }
                        changes.push(format!("added: {}", kind.name()));
                        verb = None;
                    }
                    _ => {
                        if let Some(colour) = group.wish.colour {
                            scene
                                .subjects
                                .iter_mut()
                                .filter(|s| s.kind == kind)
                                .for_each(|s| s.colour = colour);
                            changes.push(format!("recoloured: {} {}", kind.name(), colour.name()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    scene.edits.push(prompt.to_owned());
    changes
}

/// Speed and size words ("make it slower", "make the dog bigger"): each changes the subjects
/// its clause names, or every subject when it names none, by the word's factor. Done before
/// the other changes so that a subject this edit adds ("add a big dog") takes its size once,
/// from its wish.
fn degrees(scene: &mut Scene, reading: &Reading, groups: &[SubjectGroup]) -> Vec<String> {
    let mut changes = Vec::new();
    for f in &reading.terms {
        let (factor, what) = match f.term {
            Term::Tempo(t) => (t.factor(), format!("speed: {}", t.name())),
            Term::Size(z) => (z.factor(), format!("size: {}", z.name())),
            _ => continue,
        };
        // A clause that adds, removes or replaces is about the subjects it names, not these.
        let steering = reading.terms.iter().any(|g| {
            g.clause == f.clause
                && matches!(
                    g.term,
                    Term::Edit(EditVerb::Add | EditVerb::Remove | EditVerb::Replace)
                )
        });
        if steering {
            continue;
        }
        let named: Vec<SubjectKind> = groups
            .iter()
            .filter(|g| reading.terms[g.term].clause == f.clause)
            .map(|g| g.wish.kind)
            .collect();
        let ids: Vec<u32> = scene
            .subjects
            .iter()
            .filter(|s| named.is_empty() || named.contains(&s.kind))
            .map(|s| s.id)
            .collect();
        for &id in &ids {
            if matches!(f.term, Term::Tempo(_)) {
                scene.retime(id, factor);
            } else if let Some(s) = scene.subjects.iter_mut().find(|s| s.id == id) {
                s.grow = (s.grow * factor).clamp(0.2, 4.0);
            }
        }
        if !ids.is_empty() {
            changes.push(what);
        }
    }
    changes
}

fn add(scene: &mut Scene, wish: SubjectWish) {
    scene.add_subject(wish, 0);
    if let Some(id) = scene.subjects.last().map(|s| s.id) {
        scene.add_tracks(id);
    }
}

fn replace(scene: &mut Scene, from: SubjectKind, to: &SubjectWish) {
    let ids: Vec<u32> = scene
        .subjects
        .iter()
        .filter(|s| s.kind == from && s.character.is_none())
        .map(|s| s.id)
        .collect();
    for s in scene.subjects.iter_mut().filter(|s| ids.contains(&s.id)) {
        s.kind = to.kind;
        s.colour = to.colour.unwrap_or(to.kind.default_colour());
        s.motion = to.motion.unwrap_or(to.kind.default_motion());
    }
    let motion = to.motion.unwrap_or(to.kind.default_motion());
    for seg in &mut scene.timeline {
        seg.tracks
            .iter_mut()
            .filter(|t| ids.contains(&t.id))
            .for_each(|t| t.motion = motion);
    }
}

/// What an edit can do, for the message of one that would change nothing.
const EDITS_IT_CAN_DO: &str = "The built-in engine can change the time of day (\"make it \
    night\"), the weather (\"make it rain\"), the style (\"in watercolor style\"), the mood, the \
    setting, a subject's colour (\"make the car red\"), and add, remove or replace a subject \
    (\"add a dog\", \"remove the bird\", \"replace the cat with a fox\"), and make subjects \
    slower, faster, bigger or smaller in clips it made; a clip it did not make can only be \
    regraded (time of day, weather, mood, a colour tint, a style). Comparatives of those words \
    work too (\"make it warmer\", \"colder\", \"darker\", \"less foggy\").";

/// The refusal of an edit that would leave the clip as it was.
pub fn not_understood(prompt: &str) -> RenderError {
    let ignored = read(prompt, &[]).ignored;
    let what = if ignored.is_empty() {
        String::new()
    } else {
        format!(" (not understood: {})", ignored.join(", "))
    };
    RenderError::NotUnderstood {
        code: ErrorCode::EditNotUnderstood,
        message: format!(
            "The edit \"{prompt}\" would change nothing in this clip{what}. {EDITS_IT_CAN_DO}"
        ),
    }
}

/// A frame-by-frame change for clips the engine cannot draw again.
#[derive(Debug, Clone)]
pub struct Grade {
    /// Whether the prompt named anything a grade changes.
    pub changes: bool,
    lut: [[u8; 256]; 3],
    tint: Option<[f32; 3]>,
    fog: bool,
    style: Style,
    weather: Option<Weather>,
    seed: u64,
}

impl Grade {
    pub fn from_prompt(prompt: &str, seed: u64) -> Grade {
        let reading = read(prompt, &[]);
        let mut gain = [1.0f32; 3];
        let (mut tint, mut style, mut weather) = (None, Style::Natural, None);
        let changes = reading.terms.iter().any(|f| {
            matches!(
                f.term,
                Term::Time(_) | Term::Weather(_) | Term::Colour(_) | Term::Style(_) | Term::Mood(_)
            )
        });
        for f in &reading.terms {
            match f.term {
                Term::Time(t) => {
                    let g = match t {
                        TimeOfDay::Dawn => [0.98, 0.85, 0.8],
                        TimeOfDay::Day => [1.1, 1.1, 1.08],
                        TimeOfDay::Dusk => [1.0, 0.74, 0.55],
                        TimeOfDay::Night => [0.3, 0.36, 0.56],
                    };
                    gain.iter_mut().zip(g).for_each(|(a, b)| *a *= b);
                }
                Term::Weather(w) => {
                    let dim = match w {
                        Weather::Clear => 1.06,
                        Weather::Cloudy => 0.86,
                        Weather::Rain => 0.75,
                        Weather::Storm => 0.6,
                        Weather::Snow => 1.05,
                        Weather::Fog | Weather::Wind => 1.0,
                    };
                    gain.iter_mut().for_each(|a| *a *= dim);
                    weather = Some(w);
                }
                // Only the mood's tint: its saturation and contrast would flatten or clip a
                // picture already graded by whoever made it.
                Term::Mood(m) => {
                    let (_, _, t) = mood_grade(m);
                    gain.iter_mut().zip(t).for_each(|(a, b)| *a *= b);
                }
                Term::Colour(c) => tint = tint.or(Some(NamedColour::rgb(c).map(f32::from))),
                Term::Style(s) => style = s,
                _ => {}
            }
        }
        let mut lut = [[0u8; 256]; 3];
        for (c, table) in lut.iter_mut().enumerate() {
            for (v, out) in table.iter_mut().enumerate() {
                *out = (v as f32 * gain[c]).round().clamp(0.0, 255.0) as u8;
            }
        }
        Grade {
            changes,
            lut,
            tint,
            fog: weather == Some(Weather::Fog),
            style,
            weather,
            seed,
        }
    }
}

impl Filter for Grade {
    fn apply(&mut self, frame: u32, rgb: &mut [u8], width: u32, height: u32) {
        let slow = self.tint.is_some() || self.fog || self.style != Style::Natural;
        let row = width as usize * 3;
        for (y, line) in rgb.chunks_exact_mut(row).enumerate() {
            let haze = 0.55 * (1.0 - y as f32 / height as f32).powf(0.7);
            for px in line.chunks_exact_mut(3) {
                let mut c = [
                    self.lut[0][px[0] as usize],
                    self.lut[1][px[1] as usize],
                    self.lut[2][px[2] as usize],
                ];
                if slow {
                    let mut f = c.map(f32::from);
                    if let Some(t) = self.tint {
                        f = [0, 1, 2].map(|i| f[i] * 0.7 + t[i] * 0.3 * (0.4 + f[i] / 255.0));
                    }
                    if self.fog {
                        f = f.map(|v| v + (210.0 - v) * haze);
                    }
                    f = apply_style(self.style, f);
                    c = f.map(|v| v.round().clamp(0.0, 255.0) as u8);
                }
                px.copy_from_slice(&c);
            }
        }
        if let Some(w) = self.weather {
            let mut canvas = Canvas {
                rgb,
                width,
                height,
                clip: [0, 0, width as i32, height as i32],
            };
            weather::overlay(
                &mut canvas,
                w,
                false,
                frame as f32 / FPS as f32,
                1.0,
                self.seed,
            );
        }
    }
}

pub fn run(
    req: &RenderRequest,
    source: &Path,
    source_scene: Option<&Path>,
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    let info = probe_source(source)?;
    if is_platform(source, &info)
        && let Some(mut scene) = own_scene(source_scene, &info)
    {
        if apply_edit(&mut scene, &req.prompt).is_empty() {
            return Err(not_understood(&req.prompt));
        }
        if !req.captions {
            scene.timeline.iter_mut().for_each(|s| s.caption = None);
        }
        return render_scene(&scene, None, req.audio_codec, files, progress, cancel);
    }
    let grade = Grade::from_prompt(&req.prompt, req.seed);
    if !grade.changes {
        return Err(not_understood(&req.prompt));
    }
    // A clip in another format is re-timed as it is decoded, straight into the graded result.
    let (clip, frames) = platform_clip(source, &info, Some(grade))?;
    let mut scene = Scene::from_prompt(&req.prompt, req.seed, &[]);
    scene.backdrop = BackdropSource::Still;
    scene.frame = Some(FrameSpec {
        width: info.width,
        height: info.height,
        fps: FPS,
    });
    let (camera, weather) = (scene.camera, scene.weather);
    scene.push_segment(frames, &req.prompt, camera, weather, &[]);
    let clip = clip.or_audio(AudioSynth::new(&scene));
    let mut encoder =
        pipeline::new_encoder(&files.video(), info.width, info.height, req.audio_codec)?;
    let mut previews = Previews::for_clip(frames);
    pipeline::encode(
        &mut encoder,
        clip,
        0..frames,
        0,
        &mut previews,
        progress,
        (0, 98),
        cancel,
    )?;
    let joined = pipeline::finish(encoder)?;
    let out = files.complete(previews, &scene, joined)?;
    progress.report(100);
    Ok(out)
}
