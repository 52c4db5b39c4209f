//! The timeline: a clip is a run of segments (one per create or extend), each starting from where
//! the previous one ended. Positions are closed-form in time, so any frame can be drawn on its
//! own and a continuation starts exactly where its source stopped.

use serde::{Deserialize, Serialize};

use crate::FPS;
use crate::camera::{CameraPose, WORLD_WIDTH};
use crate::figure;
use crate::painter::figure_height;
use crate::scene::{BackdropSource, Scene, Subject, is_one, one};
use crate::vocabulary::{CameraMove, Motion, SubjectKind, Weather};

/// One subject's motion over a segment, from its state at the segment's first frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: u32,
    pub motion: Motion,
    pub x: f32,
    pub heading: f32,
    /// Frame this motion began on (an earlier segment's start when it carries on), so jumps
    /// and bobs start from rest when a motion changes and flow on when it does not.
    #[serde(default)]
    pub since_frame: u32,
    /// Factor on its speed and animation rate over this segment ("slower", "faster").
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub tempo: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_frame: u32,
    pub frames: u32,
    pub prompt: String,
    pub camera: CameraMove,
    pub camera_start: CameraPose,
    pub weather: Weather,
    pub tracks: Vec<Track>,
    /// The storyboard caption shown over this segment: the words of its prompt the engine could
    /// not draw. None when it drew them all, or when captions are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// Where a subject is and what it is doing on one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubjectState {
    pub x: f32,
    pub heading: f32,
    pub motion: Motion,
    /// Seconds since the clip began: drives gait and wing cycles.
    pub time: f32,
    /// Seconds since the current motion began: drives jumps, bobs and sways.
    pub motion_time: f32,
    /// 0..1 while it fades in after entering.
    pub alpha: f32,
}

/// Travel speed in world widths per second.
pub fn travel_speed(kind: SubjectKind, motion: Motion) -> f32 {
    if !kind.travels() {
        return 0.0;
    }
    match motion {
        Motion::Walk => 0.022,
        Motion::Run => 0.055,
        Motion::Drive => 0.06,
        Motion::Fly => 0.045,
        Motion::Swim => 0.03,
        Motion::Jump | Motion::Bounce => 0.015,
        Motion::Float => 0.008,
        Motion::Dance
        | Motion::Spin
        | Motion::Wave
        | Motion::Idle
        | Motion::Sit
        | Motion::Sleep
        | Motion::Laugh => 0.0,
    }
}

/// Folds an unbounded coordinate back into `lo..=hi`, as if bouncing off the ends; returns the
/// position and the direction of travel (+1 or -1).
pub fn reflect(v: f32, lo: f32, hi: f32) -> (f32, f32) {
    let span = hi - lo;
    let u = (v - lo).rem_euclid(2.0 * span);
    if u <= span {
        (lo + u, 1.0)
    } else {
        (hi - (u - span), -1.0)
    }
}

const FADE_FRAMES: f32 = 12.0;
const WORLD_MARGIN: f32 = 0.06;

impl Scene {
    /// Saturating: a scene read back from a `scene.json` (a remote worker's, say) may hold any
    /// numbers, and one that overflows simply matches no clip.
    pub fn total_frames(&self) -> u32 {
        self.timeline
            .last()
            .map_or(0, |s| s.start_frame.saturating_add(s.frames))
    }

    pub fn segment_at(&self, frame: u32) -> Option<&Segment> {
        self.timeline
            .iter()
            .rev()
            .find(|s| s.start_frame <= frame)
            .or(self.timeline.first())
    }

    fn track_state(
        &self,
        subject: &Subject,
        seg: &Segment,
        track: &Track,
        frame: u32,
    ) -> SubjectState {
        let dt = (frame as f32 - seg.start_frame as f32) / FPS as f32;
        let v = travel_speed(subject.kind, track.motion) * subject.pace * track.tempo;
        // The path is fitted to the shot: the subject travels across what the camera sees and
        // turns back at its edges, so it stays in frame however the camera moves.
        let (lo0, hi0) = self.travel_range(subject, seg, seg.start_frame);
        let (lo, hi) = self.travel_range(subject, seg, frame);
        let span0 = (hi0 - lo0).max(1e-3);
        let u0 = ((track.x - lo0) / span0).clamp(0.0, 1.0);
        let (u, dir) = reflect(u0 + track.heading * v * dt / span0, 0.0, 1.0);
        let x = lo + u * (hi - lo);
        let heading = if v > 0.0 {
            track.heading * dir
        } else {
            track.heading
        };
        let since_entry = frame as f32 - subject.enter_frame as f32;
        SubjectState {
            x,
            heading,
            motion: track.motion,
            time: frame as f32 / FPS as f32 + subject.phase + self.clock_lead(subject.id, frame),
            motion_time: frame.saturating_sub(track.since_frame) as f32 / FPS as f32,
            alpha: if subject.enter_frame == 0 && self.backdrop == BackdropSource::Procedural {
                1.0
            } else {
                (since_entry / FADE_FRAMES).clamp(0.0, 1.0)
            },
        }
    }

    /// How far subject `id`'s animation clock has run ahead of the clip's (behind, when
    /// negative) by `frame`, from the tempos of its tracks: a slowed subject's legs and wings
    /// slow with its travel. Exactly 0 while every tempo is 1, so such clips draw as before.
    fn clock_lead(&self, id: u32, frame: u32) -> f32 {
        let mut lead = 0.0;
        for seg in self.timeline.iter().filter(|s| s.start_frame < frame) {
            let Some(t) = seg.tracks.iter().find(|t| t.id == id) else {
                continue;
            };
            if t.tempo != 1.0 {
                let span = seg.start_frame.saturating_add(seg.frames).min(frame) - seg.start_frame;
                lead += (t.tempo - 1.0) * span as f32 / FPS as f32;
            }
        }
        lead
    }

    /// The world-x range (fractions) `subject` can stand in on `frame` and be wholly in the
    /// shot. A tracking camera follows its lead, so there the range is the whole world.
    fn travel_range(&self, subject: &Subject, seg: &Segment, frame: u32) -> (f32, f32) {
        if seg.camera == CameraMove::Tracking {
            return (WORLD_MARGIN, 1.0 - WORLD_MARGIN);
        }
        let still = self.backdrop == BackdropSource::Still;
        let world = if still { 1.0 } else { WORLD_WIDTH };
        let pose = self.camera_pose(frame);
        let half_view = 0.5 / (world * pose.zoom.max(1.0));
        let cx = pose.cx.clamp(half_view, 1.0 - half_view);
        let (width, height) = self
            .frame
            .map_or((16.0, 9.0), |f| (f.width as f32, f.height.max(1) as f32));
        let half = figure::extent(subject.kind)
            * figure_height(self.framing, subject, height as u32)
            / (width * world);
        let (lo, hi) = (cx - half_view + half, cx + half_view - half);
        if hi - lo < 0.02 {
            // Wider than the shot: it stays centred.
            return (cx - 0.01, cx + 0.01);
        }
        (lo, hi)
    }

    /// The subject's state on `frame`, or `None` when it is not in the clip then.
    pub fn subject_state(&self, subject: &Subject, frame: u32) -> Option<SubjectState> {
        if frame < subject.enter_frame {
            return None;
        }
        let seg = self.segment_at(frame)?;
        let track = seg.tracks.iter().find(|t| t.id == subject.id)?;
        Some(self.track_state(subject, seg, track, frame))
    }

    /// Appends a segment of `frames` that continues from the end of the timeline. `motions`
    /// overrides subjects' motions from here on; new subjects must already be in `subjects`
    /// with `enter_frame` set to the segment start.
    pub fn push_segment(
        &mut self,
        frames: u32,
        prompt: &str,
        camera: CameraMove,
        weather: Weather,
        motions: &[(u32, Motion)],
    ) {
        let start = self.total_frames();
        let camera_start = match self.timeline.last() {
            Some(_) => self.camera_pose(start),
            None => CameraPose::opening(camera, self.backdrop == BackdropSource::Still),
        };
        let tracks = self
            .subjects
            .iter()
            .map(|s| {
                let previous = self
                    .segment_at(start)
                    .filter(|seg| seg.start_frame + seg.frames <= start)
                    .and_then(|seg| seg.tracks.iter().find(|t| t.id == s.id).map(|t| (seg, t)));
                let (x, heading, motion, since, tempo) = match previous {
                    Some((seg, t)) => {
                        let st = self.track_state(s, seg, t, start);
                        (st.x, st.heading, t.motion, t.since_frame, t.tempo)
                    }
                    None => (s.x, s.heading, s.motion, start, s.tempo),
                };
                let changed = motions.iter().find(|(id, m)| *id == s.id && *m != motion);
                Track {
                    id: s.id,
                    motion: changed.map_or(motion, |(_, m)| *m),
                    x,
                    heading,
                    since_frame: if changed.is_some() { start } else { since },
                    tempo,
                }
            })
            .collect();
        self.timeline.push(Segment {
            start_frame: start,
            frames,
            prompt: prompt.to_owned(),
            camera,
            camera_start,
            weather,
            tracks,
            caption: None,
        });
    }
}

impl Scene {
    /// Gives subject `id` (already in `subjects`) a track in every segment, continuing its
    /// motion across segment starts; used when an edit adds a subject to a finished timeline.
    pub fn add_tracks(&mut self, id: u32) {
        let Some(subject) = self.subjects.iter().find(|s| s.id == id).cloned() else {
            return;
        };
        let mut state = (subject.x, subject.heading, subject.motion);
        for i in 0..self.timeline.len() {
            let track = Track {
                id,
                motion: state.2,
                x: state.0,
                heading: state.1,
                since_frame: 0,
                tempo: subject.tempo,
            };
            self.timeline[i].tracks.retain(|t| t.id != id);
            self.timeline[i].tracks.push(track);
            let seg = &self.timeline[i];
            let st = self.track_state(&subject, seg, &track, seg.start_frame + seg.frames);
            state = (st.x, st.heading, track.motion);
        }
    }
}

impl Scene {
    /// Multiplies subject `id`'s tempo by `factor` over the whole clip, then moves each of its
    /// later tracks' starts to where the one before now ends, so the path stays unbroken.
    pub fn retime(&mut self, id: u32, factor: f32) {
        let Some(i) = self.subjects.iter().position(|s| s.id == id) else {
            return;
        };
        let s = &mut self.subjects[i];
        s.tempo = (s.tempo * factor).clamp(0.1, 5.0);
        for seg in &mut self.timeline {
            for t in seg.tracks.iter_mut().filter(|t| t.id == id) {
                t.tempo = (t.tempo * factor).clamp(0.1, 5.0);
            }
        }
        let subject = self.subjects[i].clone();
        for k in 1..self.timeline.len() {
            let prev = &self.timeline[k - 1];
            let end = prev.start_frame + prev.frames;
            let Some(track) = prev.tracks.iter().find(|t| t.id == id).copied() else {
                continue;
            };
            let st = self.track_state(&subject, prev, &track, end);
            if let Some(t) = self.timeline[k].tracks.iter_mut().find(|t| t.id == id) {
                (t.x, t.heading) = (st.x, st.heading);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_bounces() {
        assert_eq!(reflect(0.5, 0.0, 1.0), (0.5, 1.0));
        let (x, d) = reflect(1.25, 0.0, 1.0);
        assert!((x - 0.75).abs() < 1e-6 && d < 0.0);
        let (x, d) = reflect(-0.25, 0.0, 1.0);
        assert!((x - 0.25).abs() < 1e-6 && d < 0.0);
    }

    #[test]
    fn a_hostile_timeline_does_not_overflow() {
        let mut s = Scene::from_prompt("a dog", 1, &[]);
        s.push_segment(24, "a", CameraMove::Static, Weather::Clear, &[]);
        let last = s.timeline.last_mut().unwrap();
        last.start_frame = u32::MAX - 5;
        assert_eq!(s.total_frames(), u32::MAX);
    }

    #[test]
    fn a_new_segment_starts_where_the_last_ended() {
        let mut s = Scene::from_prompt("a dog runs on the beach, pan right", 5, &[]);
        s.push_segment(48, "a", CameraMove::PanRight, Weather::Clear, &[]);
        let dog = s.subjects[0].clone();
        let before = s.subject_state(&dog, 48).map(|st| st.x);
        let cam_before = s.camera_pose(48);
        s.push_segment(
            48,
            "b",
            CameraMove::Static,
            Weather::Clear,
            &[(dog.id, Motion::Walk)],
        );
        let after = s.subject_state(&dog, 48).map(|st| st.x);
        assert_eq!(before, after);
        assert_eq!(cam_before, s.camera_pose(48));
        assert_eq!(
            s.subject_state(&dog, 60).map(|st| st.motion),
            Some(Motion::Walk)
        );
    }
}
