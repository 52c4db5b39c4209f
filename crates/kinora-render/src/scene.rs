//! The scene: what a prompt was understood to ask for, plus the timeline of rendered segments.
//! It is written beside every clip as JSON so extend and edit can continue it.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::interpretation::{Fallback, Interpretation};
use crate::prompt::{Found, Reading, Term, prompt_hash, read};
use crate::timeline::Segment;
use crate::vocabulary::{
    CameraMove, Framing, Mood, Motion, NamedColour, Placement, Setting, Size, Style, SubjectKind,
    Support, Tempo, TimeOfDay, Weather,
};

/// Most subjects a scene holds; more would crowd a storyboard frame.
pub const MAX_SUBJECTS: usize = 8;

/// Where the picture behind the subjects comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackdropSource {
    /// Drawn from the setting, time of day and weather.
    Procedural,
    /// A still (an `input_reference` image, or the last frame of a foreign clip) that the
    /// camera moves over.
    Still,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub id: u32,
    pub kind: SubjectKind,
    pub colour: NamedColour,
    /// The motion it had when it entered; later segments may change it.
    pub motion: Motion,
    /// Horizontal position in the world at entry, 0 (left edge) to 1 (right edge).
    pub x: f32,
    /// 0 is nearest the camera, 1 is the horizon.
    pub depth: f32,
    /// For subjects in the air: 0 at the horizon, 1 at the top of the world.
    pub altitude: f32,
    /// Size multiplier on the kind's natural height.
    pub scale: f32,
    /// +1 facing and travelling right, -1 left.
    pub heading: f32,
    /// Speed multiplier on the motion's natural speed.
    pub pace: f32,
    /// Animation phase offset in cycles, so subjects do not move in lockstep.
    pub phase: f32,
    /// Name of the character drawn from its cutout instead of the kind's figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<String>,
    /// First frame it is on screen; it fades in over half a second from there.
    #[serde(default)]
    pub enter_frame: u32,
    /// The furniture the prompt put it on; it rests there whenever its motion keeps it in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<Support>,
    /// Factor on its speed and animation rate from the prompt's words ("slowly", "faster"),
    /// for its first track; later segments keep their own (`Track::tempo`).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub tempo: f32,
    /// Factor on its height from the prompt's words ("a big dog", "make the cat smaller").
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub grow: f32,
}

pub fn one() -> f32 {
    1.0
}

pub fn is_one(v: &f32) -> bool {
    *v == 1.0
}

/// The frame geometry a scene was rendered at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub engine: String,
    pub prompt: String,
    pub seed: u64,
    pub setting: Setting,
    pub time_of_day: TimeOfDay,
    pub weather: Weather,
    pub mood: Mood,
    pub style: Style,
    pub camera: CameraMove,
    pub framing: Framing,
    pub subjects: Vec<Subject>,
    pub backdrop: BackdropSource,
    /// Choices the engine made because the prompt did not say.
    pub fallbacks: Vec<String>,
    /// Prompt words that matched nothing in the vocabulary.
    pub ignored_words: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<FrameSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Segment>,
    /// Edit prompts applied since the clip was created, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<String>,
    /// Character cutouts as base64 PNG by name, so extend and edit can draw them again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub characters: BTreeMap<String, String>,
}

pub const ENGINE_NAME: &str = "kinora-animatic";

/// The seeded generator behind every random choice for this scene and `stream`.
pub fn rng(seed: u64, prompt: &str, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&prompt_hash(prompt).to_le_bytes());
    key[16..24].copy_from_slice(&stream.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// A uniform float in `lo..hi`.
pub fn uniform(rng: &mut ChaCha8Rng, lo: f32, hi: f32) -> f32 {
    let unit = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
    lo + (hi - lo) * unit
}

fn first<T>(terms: &[Found], pick: impl Fn(Term) -> Option<T>) -> Option<T> {
    terms.iter().find_map(|f| pick(f.term))
}

impl Scene {
    /// Reads `prompt` into a scene. Never fails: whatever the prompt leaves out takes a fixed
    /// neutral value (see docs/engine.md), listed in `fallbacks`.
    pub fn from_prompt(prompt: &str, seed: u64, characters: &[String]) -> Scene {
        Self::read(prompt, seed, characters).0
    }

    /// Reads `prompt` into a scene and says what it understood, what it ignored and what it
    /// chose because the prompt did not say. Nothing is ever chosen by hash of the words: a
    /// setting the prompt does not name is a plain stage, a subject it does not name is none.
    pub fn read(prompt: &str, seed: u64, characters: &[String]) -> (Scene, Interpretation) {
        let reading = read(prompt, characters);
        let terms = &reading.terms;
        let mut fallbacks = Vec::new();
        let setting = first(terms, |t| match t {
            Term::Setting(s) => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| {
            fallbacks.push(Fallback::new(
                "setting",
                Setting::Stage.name(),
                "no place was understood; a plain studio stage in the time of day and weather \
                 that were",
            ));
            Setting::Stage
        });
        let time_of_day = first(terms, |t| match t {
            Term::Time(v) => Some(v),
            _ => None,
        })
        .unwrap_or(TimeOfDay::Day);
        let weather = first(terms, |t| match t {
            Term::Weather(v) => Some(v),
            _ => None,
        })
        .unwrap_or(Weather::Clear);
        let mood = first(terms, |t| match t {
            Term::Mood(v) => Some(v),
            _ => None,
        })
        .unwrap_or(Mood::Calm);
        let style = first(terms, |t| match t {
            Term::Style(v) => Some(v),
            _ => None,
        })
        .unwrap_or(Style::Natural);
        let camera = first(terms, |t| match t {
            Term::Camera(v) => Some(v),
            _ => None,
        })
        .unwrap_or(CameraMove::Static);
        let framing = first(terms, |t| match t {
            Term::Framing(v) => Some(v),
            _ => None,
        })
        .unwrap_or(Framing::Medium);
        let mut scene = Scene {
            engine: ENGINE_NAME.to_owned(),
            prompt: prompt.to_owned(),
            seed,
            setting,
            time_of_day,
            weather,
            mood,
            style,
            camera,
            framing,
            subjects: Vec::new(),
            backdrop: BackdropSource::Procedural,
            fallbacks: Vec::new(),
            ignored_words: reading.ignored.clone(),
            frame: None,
            timeline: Vec::new(),
            edits: Vec::new(),
            characters: BTreeMap::new(),
        };
        for wish in subject_wishes(&reading, characters) {
            scene.add_subject(wish, 0);
        }
        if scene.subjects.is_empty() {
            fallbacks.push(Fallback::new(
                "subject",
                "none",
                "no subject was understood; nothing is drawn in its place",
            ));
        }
        scene.fallbacks = fallbacks.iter().map(Fallback::line).collect();
        let interpretation = Interpretation::with_characters(&reading, fallbacks, characters);
        (scene, interpretation)
    }

    /// Adds a subject laid out from its own random stream, so adding one never moves the others.
    pub fn add_subject(&mut self, wish: SubjectWish, enter_frame: u32) {
        if self.subjects.len() >= MAX_SUBJECTS {
            return;
        }
        let id = self.subjects.iter().map(|s| s.id + 1).max().unwrap_or(0);
        let mut r = rng(self.seed, &self.prompt, 1000 + u64::from(id));
        let spread = (uniform(&mut rng(self.seed, &self.prompt, 1), 0.0, 1.0)
            + id as f32 * 0.618_034)
            .fract();
        let kind = wish.kind;
        let (depth, altitude) = match kind.placement() {
            Placement::Ground => (uniform(&mut r, 0.1, 0.55), 0.0),
            Placement::Air => (uniform(&mut r, 0.2, 0.6), uniform(&mut r, 0.3, 0.75)),
            Placement::Sky => (1.0, uniform(&mut r, 0.55, 0.8)),
        };
        self.subjects.push(Subject {
            id,
            kind,
            colour: wish.colour.unwrap_or(kind.default_colour()),
            motion: wish.motion.unwrap_or_else(|| {
                // A close-up of a creature is a portrait: with no action named it holds still
                // for it rather than walking out of the shot.
                if self.framing == Framing::CloseUp
                    && crate::figure::portrait(kind, Motion::Idle).is_some()
                {
                    Motion::Idle
                } else {
                    kind.default_motion()
                }
            }),
            x: 0.3 + 0.4 * spread,
            depth,
            altitude,
            scale: uniform(&mut r, 0.9, 1.1),
            heading: if r.next_u32() & 1 == 0 { 1.0 } else { -1.0 },
            pace: uniform(&mut r, 0.85, 1.15),
            phase: uniform(&mut r, 0.0, 1.0),
            character: wish.character,
            enter_frame,
            support: wish.support,
            tempo: wish.tempo.map_or(1.0, Tempo::factor),
            grow: wish.size.map_or(1.0, Size::factor),
        });
    }
}

/// A subject as the prompt asked for it, before layout.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectWish {
    pub kind: SubjectKind,
    pub colour: Option<NamedColour>,
    pub motion: Option<Motion>,
    pub character: Option<String>,
    pub support: Option<Support>,
    pub tempo: Option<Tempo>,
    pub size: Option<Size>,
}

impl SubjectWish {
    pub fn of(kind: SubjectKind) -> Self {
        Self {
            kind,
            colour: None,
            motion: None,
            character: None,
            support: None,
            tempo: None,
            size: None,
        }
    }
}

/// A subject noun of the prompt with its count and what attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectGroup {
    /// Index of the noun in `Reading::terms` (`usize::MAX` for characters the prompt omits).
    pub term: usize,
    pub count: usize,
    pub wish: SubjectWish,
}

/// Groups subject nouns with their counts, and attaches colours, sizes, motions, tempos and
/// supports: each goes to the nearest noun in its clause (before it for motions, tempos and
/// supports, after it for colours and sizes, as adjectives come first), else the other way,
/// else — not for colours — the previous noun in the prompt.
pub fn subject_groups(reading: &Reading, characters: &[String]) -> Vec<SubjectGroup> {
    let terms = &reading.terms;
    let mut groups: Vec<(usize, SubjectGroup)> = Vec::new();
    for (at, f) in terms.iter().enumerate() {
        let count = match at.checked_sub(1).map(|p| terms[p].term) {
            Some(Term::Count(n)) => Some(n),
            Some(Term::Colour(_)) => match at.checked_sub(2).map(|p| terms[p].term) {
                Some(Term::Count(n)) => Some(n),
                _ => None,
            },
            _ => None,
        };
        let (wish, plural) = match f.term {
            Term::Subject { kind, plural } => (SubjectWish::of(kind), plural),
            Term::Character(i) => {
                let mut w = SubjectWish::of(SubjectKind::Person);
                w.character = characters.get(i).cloned();
                (w, false)
            }
            _ => continue,
        };
        let count = count.unwrap_or(if plural { 2 } else { 1 });
        groups.push((
            f.clause,
            SubjectGroup {
                term: at,
                count,
                wish,
            },
        ));
    }
    for (at, f) in terms.iter().enumerate() {
        let before = groups
            .iter()
            .rposition(|(c, g)| g.term < at && *c == f.clause);
        let after = groups
            .iter()
            .position(|(c, g)| g.term > at && *c == f.clause);
        match f.term {
            Term::Colour(colour) => {
                if let Some(g) = after.or(before) {
                    groups[g].1.wish.colour.get_or_insert(colour);
                }
            }
            Term::Motion(m) => {
                let prev = groups.iter().rposition(|(_, g)| g.term < at);
                if let Some(g) = before.or(after).or(prev) {
                    groups[g].1.wish.motion.get_or_insert(m);
                }
            }
            Term::Tempo(t) => {
                let prev = groups.iter().rposition(|(_, g)| g.term < at);
                if let Some(g) = before.or(after).or(prev) {
                    groups[g].1.wish.tempo.get_or_insert(t);
                }
            }
            Term::Size(z) => {
                let prev = groups.iter().rposition(|(_, g)| g.term < at);
                if let Some(g) = after.or(before).or(prev) {
                    groups[g].1.wish.size.get_or_insert(z);
                }
            }
            Term::Setting(_) => {
                let support = reading.words.get(at).and_then(|w| Support::from_phrase(w));
                let prev = groups.iter().rposition(|(_, g)| g.term < at);
                if let (Some(support), Some(g)) = (support, before.or(after).or(prev)) {
                    groups[g].1.wish.support.get_or_insert(support);
                }
            }
            _ => {}
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The subjects a prompt asks for, in order. Characters from the request that the prompt does
/// not name still appear: they were attached for a reason.
pub fn subject_wishes(reading: &Reading, characters: &[String]) -> Vec<SubjectWish> {
    let mut groups = subject_groups(reading, characters);
    for name in characters {
        if !groups
            .iter()
            .any(|g| g.wish.character.as_ref() == Some(name))
        {
            let mut wish = SubjectWish::of(SubjectKind::Person);
            wish.character = Some(name.clone());
            groups.push(SubjectGroup {
                term: usize::MAX,
                count: 1,
                wish,
            });
        }
    }
    groups
        .into_iter()
        .flat_map(|g| std::iter::repeat_n(g.wish, g.count))
        .take(MAX_SUBJECTS)
        .collect()
}

/// Reads `prompt` into the scene the engine would draw, without drawing it.
pub fn explain(prompt: &str, seed: u64) -> Scene {
    Scene::from_prompt(prompt, seed, &[])
}

/// What the engine understands of a create or extension prompt; `characters` are the names of
/// the request's characters. The same for every seed.
pub fn interpret(prompt: &str, characters: &[String]) -> Interpretation {
    Scene::read(prompt, 0, characters).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_motions_attach_to_their_nouns() {
        let s = Scene::from_prompt(
            "A red car drives past a dog running on a beach at night",
            7,
            &[],
        );
        assert_eq!(s.setting, Setting::Beach);
        assert_eq!(s.time_of_day, TimeOfDay::Night);
        let car = &s.subjects[0];
        assert_eq!(
            (car.kind, car.colour, car.motion),
            (SubjectKind::Car, NamedColour::Red, Motion::Drive)
        );
        let dog = &s.subjects[1];
        assert_eq!((dog.kind, dog.motion), (SubjectKind::Dog, Motion::Run));
    }

    #[test]
    fn counts_make_several_subjects() {
        let s = Scene::from_prompt("three white birds fly over the ocean", 1, &[]);
        assert_eq!(s.subjects.len(), 3);
        assert!(
            s.subjects
                .iter()
                .all(|b| b.kind == SubjectKind::Bird && b.colour == NamedColour::White)
        );
    }

    #[test]
    fn unknown_prompts_get_a_bare_stage() {
        let a = Scene::from_prompt("glorp fnord", 3, &[]);
        let b = Scene::from_prompt("glorp fnord", 3, &[]);
        assert_eq!(a, b);
        assert_eq!(a.setting, Setting::Stage);
        assert!(a.subjects.is_empty());
        assert_eq!(a.fallbacks.len(), 2);
        assert_eq!(a.ignored_words, vec!["glorp", "fnord"]);
    }

    #[test]
    fn seeds_change_layout_not_meaning() {
        let a = Scene::from_prompt("a dog in a forest", 1, &[]);
        let b = Scene::from_prompt("a dog in a forest", 2, &[]);
        assert_eq!(a.subjects[0].kind, b.subjects[0].kind);
        assert_ne!(a.subjects[0].x, b.subjects[0].x);
    }

    #[test]
    fn characters_join_even_when_unnamed() {
        let s = Scene::from_prompt("a cat on a beach", 1, &["mossy".to_owned()]);
        assert_eq!(s.subjects.len(), 2);
        assert_eq!(s.subjects[1].character.as_deref(), Some("mossy"));
    }
}
