//! The camera: a pose (centre and zoom over the world) per frame, and the view rectangle it
//! sees. Procedural worlds are 1.6 frames wide and 1.3 frames tall so the camera has room to
//! pan and tilt; a still backdrop is exactly one frame, which the camera pushes into.

use serde::{Deserialize, Serialize};

use crate::FPS;
use crate::scene::{BackdropSource, Scene};
use crate::timeline::{reflect, travel_speed};
use crate::vocabulary::CameraMove;

pub const WORLD_WIDTH: f32 = 1.6;
pub const WORLD_HEIGHT: f32 = 1.3;
const MAX_ZOOM: f32 = 1.8;

/// Centre (fractions of the world) and zoom (1 shows one frame's worth of world).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CameraPose {
    pub cx: f32,
    pub cy: f32,
    pub zoom: f32,
}

impl CameraPose {
    /// Where a first segment's camera starts for `camera`.
    pub fn opening(camera: CameraMove, still: bool) -> Self {
        let mut pose = Self {
            cx: 0.5,
            cy: 0.5,
            zoom: 1.0,
        };
        if still {
            return pose;
        }
        match camera {
            CameraMove::ZoomOut | CameraMove::DollyOut => pose.zoom = 1.5,
            CameraMove::TiltUp => pose.cy = 0.66,
            CameraMove::TiltDown => pose.cy = 0.34,
            CameraMove::PanLeft => pose.cx = 0.62,
            CameraMove::PanRight => pose.cx = 0.38,
            CameraMove::Handheld => pose.zoom = 1.06,
            _ => {}
        }
        pose
    }
}

/// Smooth pseudo-random sway for handheld shots, continuous in time.
fn shake(t: f32) -> (f32, f32) {
    (
        0.005 * (2.1 * t).sin() + 0.003 * (5.3 * t + 1.0).sin(),
        0.004 * (1.7 * t + 2.0).sin() + 0.002 * (6.1 * t).sin(),
    )
}

fn zoom_at(start: f32, rate: f32, dt: f32) -> f32 {
    reflect(start.ln() + rate * dt, 0.0, MAX_ZOOM.ln()).0.exp()
}

impl Scene {
    pub fn camera_pose(&self, frame: u32) -> CameraPose {
        let still = self.backdrop == BackdropSource::Still;
        let Some(seg) = self.segment_at(frame) else {
            return CameraPose::opening(self.camera, still);
        };
        let dt = (frame as f32 - seg.start_frame as f32) / FPS as f32;
        let mut p = seg.camera_start;
        match seg.camera {
            CameraMove::Static => {}
            CameraMove::PanLeft => p.cx = reflect(p.cx - 0.04 * dt, 0.2, 0.8).0,
            CameraMove::PanRight => p.cx = reflect(p.cx + 0.04 * dt, 0.2, 0.8).0,
            CameraMove::TiltUp => p.cy = reflect(p.cy - 0.03 * dt, 0.3, 0.7).0,
            CameraMove::TiltDown => p.cy = reflect(p.cy + 0.03 * dt, 0.3, 0.7).0,
            CameraMove::ZoomIn => p.zoom = zoom_at(p.zoom, 0.06, dt),
            CameraMove::ZoomOut => p.zoom = zoom_at(p.zoom, -0.06, dt),
            CameraMove::DollyIn => p.zoom = zoom_at(p.zoom, 0.09, dt),
            CameraMove::DollyOut => p.zoom = zoom_at(p.zoom, -0.09, dt),
            CameraMove::Tracking => {
                let lead = self.subjects.iter().find(|s| {
                    seg.tracks
                        .iter()
                        .any(|t| t.id == s.id && travel_speed(s.kind, t.motion) > 0.0)
                });
                if let Some(lead) = lead {
                    let at = |f| self.subject_state(lead, f).map_or(0.0, |st| st.x);
                    p.cx = (p.cx + at(frame) - at(seg.start_frame)).clamp(0.15, 0.85);
                }
            }
            CameraMove::Handheld => {
                let t0 = seg.start_frame as f32 / FPS as f32;
                let (a, b) = (shake(t0 + dt), shake(t0));
                p.cx += a.0 - b.0;
                p.cy += a.1 - b.1;
            }
        }
        if still {
            let t = frame as f32 / FPS as f32;
            p.zoom = p.zoom.max((1.0 + 0.02 * t).min(1.25));
        }
        p
    }
}

/// The part of the world one frame shows: screen = (world - origin) * scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub x0: f32,
    pub y0: f32,
    pub scale: f32,
}

impl View {
    pub fn new(pose: CameraPose, world: (u32, u32), out: (u32, u32)) -> View {
        let scale = pose.zoom.max(1.0);
        let vw = out.0 as f32 / scale;
        let vh = out.1 as f32 / scale;
        let x0 = (pose.cx * world.0 as f32 - vw / 2.0).clamp(0.0, (world.0 as f32 - vw).max(0.0));
        let y0 = (pose.cy * world.1 as f32 - vh / 2.0).clamp(0.0, (world.1 as f32 - vh).max(0.0));
        // At zoom 1 the view snaps to whole pixels so the painter copies rows instead of
        // resampling; a pan moves several pixels a frame, so the snap does not show.
        if scale == 1.0 {
            return View {
                x0: x0.round(),
                y0: y0.round(),
                scale,
            };
        }
        View { x0, y0, scale }
    }

    pub fn to_screen(self, x: f32, y: f32) -> (f32, f32) {
        ((x - self.x0) * self.scale, (y - self.y0) * self.scale)
    }
}

/// World size in pixels for a frame size and backdrop source.
pub fn world_size(width: u32, height: u32, backdrop: BackdropSource) -> (u32, u32) {
    match backdrop {
        BackdropSource::Still => (width, height),
        BackdropSource::Procedural => (
            (width as f32 * WORLD_WIDTH).round() as u32,
            (height as f32 * WORLD_HEIGHT).round() as u32,
        ),
    }
}
