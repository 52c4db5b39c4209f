//! Subject figures: each kind drawn as a recognisable silhouette in figure units (one unit
//! tall, feet at the origin, facing +x), with a simple cycle for legs, wings or wheels.
//!
//! - `people`: person, child, robot, snowman
//! - `animals`: dog, cat, fox, horse, cow, rabbit, elephant, bird, fish, butterfly, dragon
//! - `quadruped`: the four-legged figure the first seven share, standing or lying
//! - `vehicles`: car, bus, truck, bicycle, boat, plane, train, rocket, balloon
//! - `things`: teapot, ball, umbrella, kite, house, tree, flower, cactus, sun, moon, lighthouse

mod animals;
mod people;
mod quadruped;
mod things;
mod vehicles;

use std::f32::consts::TAU;

use crate::pen::Pen;
use crate::vocabulary::{Motion, SubjectKind};

/// What a figure is doing on this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// The subject's own colour (unshaded; the pen shades it).
    pub colour: [u8; 3],
    pub motion: Motion,
    /// Seconds, including the subject's phase offset.
    pub time: f32,
}

impl Pose {
    /// Steps (or wing beats) per second.
    fn rate(&self) -> f32 {
        match self.motion {
            Motion::Walk => 1.7,
            Motion::Run => 3.0,
            Motion::Dance => 2.0,
            Motion::Fly | Motion::Swim => 2.6,
            Motion::Drive => 1.2,
            Motion::Jump | Motion::Bounce => 1.2,
            Motion::Wave | Motion::Spin => 1.0,
            Motion::Laugh => 3.0,
            Motion::Float | Motion::Idle | Motion::Sit | Motion::Sleep => 0.4,
        }
    }

    /// The animation cycle's phase in radians.
    pub fn cycle(&self) -> f32 {
        (self.time * self.rate()).fract() * TAU
    }

    /// Leg swing in radians: front leg forward by this much, back leg back.
    pub fn stride(&self) -> f32 {
        let amplitude = match self.motion {
            Motion::Walk => 0.45,
            Motion::Run => 0.85,
            Motion::Dance => 0.35,
            Motion::Jump => 0.3,
            _ => 0.0,
        };
        amplitude * self.cycle().sin()
    }

    /// Wing or fin beat, -1..1.
    pub fn beat(&self) -> f32 {
        match self.motion {
            Motion::Idle | Motion::Sit | Motion::Sleep | Motion::Laugh => 0.2 * self.cycle().sin(),
            _ => self.cycle().sin(),
        }
    }

    /// Wheel rotation in radians.
    pub fn wheel(&self) -> f32 {
        if matches!(
            self.motion,
            Motion::Idle | Motion::Sit | Motion::Sleep | Motion::Laugh
        ) {
            0.0
        } else {
            self.time * 9.0
        }
    }
}

/// Half the figure's width, in figure heights (its box is `-extent..extent` wide).
pub fn extent(kind: SubjectKind) -> f32 {
    use SubjectKind::*;
    match kind {
        Person | Robot | Lighthouse | Flower | Rocket => 0.36,
        Child | Snowman | Balloon | Tree | Cactus => 0.48,
        Dog | Fox | Cat | Rabbit => 0.95,
        Horse | Cow | Elephant => 0.8,
        Bird | Butterfly => 1.3,
        Fish => 1.1,
        Dragon => 1.1,
        Car => 1.25,
        Bus => 1.7,
        Truck => 1.45,
        Bicycle => 0.85,
        Boat => 1.15,
        Plane => 1.7,
        Train => 2.9,
        Teapot => 0.95,
        Ball => 0.55,
        Umbrella | Kite => 0.65,
        House => 0.7,
        Sun | Moon => 0.7,
    }
}

/// The part of `kind` a close-up frames, `[x0, y0, x1, y1]` in figure units facing +x: a
/// person's head and shoulders, an animal's head (or all of it, lying asleep). `None` for
/// kinds a close-up shows whole.
pub fn portrait(kind: SubjectKind, motion: Motion) -> Option<[f32; 4]> {
    use SubjectKind::*;
    let asleep = motion == Motion::Sleep;
    match kind {
        // A sleeping person is drawn turned on their side; a close-up shows them whole.
        Person | Child | Robot if asleep => None,
        Person => Some([-0.2, -1.0, 0.2, -0.56]),
        Child => Some([-0.22, -1.02, 0.22, -0.5]),
        Robot => Some([-0.25, -1.1, 0.25, -0.62]),
        _ => quadruped::head_box(kind, asleep),
    }
}

/// Draws `kind` with `pen`.
pub fn draw(kind: SubjectKind, pen: &mut Pen<'_>, pose: &Pose) {
    use SubjectKind::*;
    match kind {
        Person => people::person(pen, pose, false),
        Child => people::person(pen, pose, true),
        Robot => people::robot(pen, pose),
        Snowman => people::snowman(pen, pose),
        Dog => animals::dog(pen, pose),
        Cat => animals::cat(pen, pose),
        Fox => animals::fox(pen, pose),
        Horse => animals::horse(pen, pose),
        Cow => animals::cow(pen, pose),
        Rabbit => animals::rabbit(pen, pose),
        Elephant => animals::elephant(pen, pose),
        Bird => animals::bird(pen, pose),
        Fish => animals::fish(pen, pose),
        Butterfly => animals::butterfly(pen, pose),
        Dragon => animals::dragon(pen, pose),
        Car => vehicles::car(pen, pose),
        Bus => vehicles::bus(pen, pose),
        Truck => vehicles::truck(pen, pose),
        Bicycle => vehicles::bicycle(pen, pose),
        Boat => vehicles::boat(pen, pose),
        Plane => vehicles::plane(pen, pose),
        Train => vehicles::train(pen, pose),
        Rocket => vehicles::rocket(pen, pose),
        Balloon => vehicles::balloon(pen, pose),
        Teapot => things::teapot(pen, pose),
        Ball => things::ball(pen, pose),
        Umbrella => things::umbrella(pen, pose),
        Kite => things::kite(pen, pose),
        House => things::house(pen, pose),
        Tree => things::tree(pen, pose),
        Flower => things::flower(pen, pose),
        Cactus => things::cactus(pen, pose),
        Sun => things::sun(pen, pose),
        Moon => things::moon(pen, pose),
        Lighthouse => things::lighthouse(pen, pose),
    }
}

/// Shared colours for parts that do not take the subject's colour.
pub(crate) mod palette {
    pub const SKIN: [u8; 3] = [226, 184, 150];
    pub const HAIR: [u8; 3] = [70, 46, 30];
    pub const TROUSERS: [u8; 3] = [52, 58, 82];
    pub const DARK: [u8; 3] = [28, 28, 32];
    pub const GLASS: [u8; 3] = [170, 206, 232];
    pub const WHITE: [u8; 3] = [240, 240, 240];
    pub const WOOD: [u8; 3] = [112, 76, 44];
    pub const LEAF: [u8; 3] = [52, 140, 60];
}
