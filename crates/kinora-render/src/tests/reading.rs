//! How everyday prompts are read: setting, subjects, motion and camera, and that nothing the
//! prompt did not say was picked by hash of its words.

use crate::scene::Scene;
use crate::vocabulary::{CameraMove, Motion, Setting, SubjectKind};

use CameraMove as C;
use Motion as M;
use Setting as S;
use SubjectKind as K;

/// (prompt, setting, [(subject, motion)], camera)
type Row = (
    &'static str,
    Setting,
    &'static [(SubjectKind, Motion)],
    CameraMove,
);

const TABLE: &[Row] = &[
    // People
    (
        "two astronauts walk on the moon, earth in the sky",
        S::Lunar,
        &[(K::Person, M::Walk), (K::Person, M::Walk)],
        C::Static,
    ),
    (
        "close up of an old man's face as he laughs",
        S::Stage,
        &[(K::Person, M::Laugh)],
        C::Static,
    ),
    (
        "a chef cooking at a kitchen counter",
        S::Kitchen,
        &[(K::Person, M::Idle)],
        C::Static,
    ),
    (
        "a woman dancing on a stage",
        S::Stage,
        &[(K::Person, M::Dance)],
        C::Static,
    ),
    (
        "a boy sitting on a bench in the park",
        S::Meadow,
        &[(K::Person, M::Sit)],
        C::Static,
    ),
    (
        "a girl sleeping in her bedroom at night",
        S::Room,
        &[(K::Person, M::Sleep)],
        C::Static,
    ),
    (
        "a hiker walking up a mountain, tracking shot",
        S::Mountains,
        &[(K::Person, M::Walk)],
        C::Tracking,
    ),
    (
        "a runner sprints along the beach at sunrise",
        S::Beach,
        &[(K::Person, M::Run)],
        C::Static,
    ),
    (
        "three children playing in a meadow",
        S::Meadow,
        &[
            (K::Child, M::Walk),
            (K::Child, M::Walk),
            (K::Child, M::Walk),
        ],
        C::Static,
    ),
    (
        "a doctor waves hello in an office",
        S::Office,
        &[(K::Person, M::Wave)],
        C::Static,
    ),
    (
        "a soldier marches through the desert",
        S::Desert,
        &[(K::Person, M::Walk)],
        C::Static,
    ),
    (
        "the men's team jogs through the city",
        S::City,
        &[(K::Person, M::Run), (K::Person, M::Run)],
        C::Static,
    ),
    (
        "a teacher standing in a classroom",
        S::Office,
        &[(K::Person, M::Idle)],
        C::Static,
    ),
    (
        "a pilot laughing in the studio",
        S::Stage,
        &[(K::Person, M::Laugh)],
        C::Static,
    ),
    (
        "a robot dances in the street, pan left",
        S::City,
        &[(K::Robot, M::Dance)],
        C::PanLeft,
    ),
    // Animals
    (
        "a cat sleeping on a windowsill, morning sun",
        S::Room,
        &[(K::Cat, M::Sleep)],
        C::Static,
    ),
    (
        "a dog chasing a ball in the park",
        S::Meadow,
        &[(K::Dog, M::Run), (K::Ball, M::Bounce)],
        C::Static,
    ),
    (
        "a horse gallops across a field and stops",
        S::Meadow,
        &[(K::Horse, M::Run)],
        C::Static,
    ),
    (
        "a puppy sits in the garden",
        S::Meadow,
        &[(K::Dog, M::Sit)],
        C::Static,
    ),
    (
        "a red fox runs through a snowy forest",
        S::Forest,
        &[(K::Fox, M::Run)],
        C::Static,
    ),
    (
        "two horses galloping on the beach, wide shot",
        S::Beach,
        &[(K::Horse, M::Run), (K::Horse, M::Run)],
        C::Static,
    ),
    (
        "a flock of birds flies over the ocean",
        S::Ocean,
        &[(K::Bird, M::Fly); 4],
        C::Static,
    ),
    (
        "a lion walks across the savanna",
        S::Meadow,
        &[(K::Cat, M::Walk)],
        C::Static,
    ),
    (
        "a dragon flies over the mountains at sunset, aerial shot",
        S::Mountains,
        &[(K::Dragon, M::Fly)],
        C::Static,
    ),
    (
        "a shark swimming underwater near a coral reef",
        S::Underwater,
        &[(K::Fish, M::Swim)],
        C::Static,
    ),
    (
        "an elephant walking in the desert at dusk",
        S::Desert,
        &[(K::Elephant, M::Walk)],
        C::Static,
    ),
    (
        "a rabbit hops in the meadow",
        S::Meadow,
        &[(K::Rabbit, M::Jump)],
        C::Static,
    ),
    (
        "cows standing on a farm in the rain",
        S::Farm,
        &[(K::Cow, M::Idle), (K::Cow, M::Idle)],
        C::Static,
    ),
    (
        "a butterfly flutters in the garden, macro",
        S::Meadow,
        &[(K::Butterfly, M::Fly)],
        C::Static,
    ),
    (
        "a penguin waddles across the glacier",
        S::Snowfield,
        &[(K::Bird, M::Walk)],
        C::Static,
    ),
    (
        "a kitten sleeps on the sofa",
        S::Room,
        &[(K::Cat, M::Sleep)],
        C::Static,
    ),
    (
        "a wolf running through the woods at night",
        S::Forest,
        &[(K::Fox, M::Run)],
        C::Static,
    ),
    (
        "an owl flying in the forest at night",
        S::Forest,
        &[(K::Bird, M::Fly)],
        C::Static,
    ),
    (
        "geese swimming on the lake",
        S::Lake,
        &[(K::Bird, M::Swim), (K::Bird, M::Swim)],
        C::Static,
    ),
    // Vehicles
    (
        "a red car drives through the city at night",
        S::City,
        &[(K::Car, M::Drive)],
        C::Static,
    ),
    (
        "a yellow taxi in the rain, pan right",
        S::Stage,
        &[(K::Car, M::Drive)],
        C::PanRight,
    ),
    (
        "a sailboat sailing on the lake",
        S::Lake,
        &[(K::Boat, M::Drive)],
        C::Static,
    ),
    (
        "a bus on a road in the snow",
        S::City,
        &[(K::Bus, M::Drive)],
        C::Static,
    ),
    (
        "a train crossing the countryside, tracking shot",
        S::Meadow,
        &[(K::Train, M::Walk)],
        C::Tracking,
    ),
    (
        "a plane flying over the clouds, zoom out",
        S::Stage,
        &[(K::Plane, M::Fly)],
        C::ZoomOut,
    ),
    (
        "a rocket launches into space",
        S::Space,
        &[(K::Rocket, M::Fly)],
        C::Static,
    ),
    (
        "a cyclist riding through the city",
        S::City,
        &[(K::Bicycle, M::Drive)],
        C::Static,
    ),
    (
        "a truck driving in the desert",
        S::Desert,
        &[(K::Truck, M::Drive)],
        C::Static,
    ),
    (
        "a hot air balloon floating over the farm",
        S::Farm,
        &[(K::Balloon, M::Float)],
        C::Static,
    ),
    (
        "a motorcycle races down the street",
        S::City,
        &[(K::Car, M::Run)],
        C::Static,
    ),
    (
        "a ship in a stormy harbour",
        S::Ocean,
        &[(K::Boat, M::Drive)],
        C::Static,
    ),
    // Places, weather and times with no subject
    ("a quiet beach at sunset", S::Beach, &[], C::Static),
    ("rain falling on the city at night", S::City, &[], C::Static),
    ("fog over the lake at dawn", S::Lake, &[], C::Static),
    ("snow falling in the forest", S::Forest, &[], C::Static),
    ("a thunderstorm over the ocean", S::Ocean, &[], C::Static),
    (
        "windy day in the desert, handheld",
        S::Desert,
        &[],
        C::Handheld,
    ),
    (
        "the lunar surface, earth in the sky",
        S::Lunar,
        &[],
        C::Static,
    ),
    (
        "an empty living room with a window",
        S::Room,
        &[],
        C::Static,
    ),
    ("abstract ink swirling in water", S::Stage, &[], C::Static),
    ("galaxy in outer space, dolly in", S::Space, &[], C::DollyIn),
    // Things
    (
        "a teapot on the kitchen table",
        S::Kitchen,
        &[(K::Teapot, M::Idle)],
        C::Static,
    ),
    (
        "a lighthouse on the coast at night",
        S::Beach,
        &[(K::Lighthouse, M::Idle)],
        C::Static,
    ),
    (
        "a snowman in the snow, tilt up",
        S::Stage,
        &[(K::Snowman, M::Idle)],
        C::TiltUp,
    ),
    (
        "a cottage in the mountains",
        S::Mountains,
        &[(K::House, M::Idle)],
        C::Static,
    ),
    (
        "sunflowers in a field",
        S::Meadow,
        &[(K::Flower, M::Idle), (K::Flower, M::Idle)],
        C::Static,
    ),
    (
        "a castle on a hill",
        S::Meadow,
        &[(K::House, M::Idle)],
        C::Static,
    ),
    (
        "a kite flying at the beach",
        S::Beach,
        &[(K::Kite, M::Fly)],
        C::Static,
    ),
];

#[test]
fn everyday_prompts_are_read_without_hashing() {
    assert!(TABLE.len() >= 60, "{} prompts", TABLE.len());
    let mut wrong = Vec::new();
    for &(prompt, setting, subjects, camera) in TABLE {
        let (scene, reading) = Scene::read(prompt, 7, &[]);
        let got: Vec<(SubjectKind, Motion)> =
            scene.subjects.iter().map(|s| (s.kind, s.motion)).collect();
        if scene.setting != setting || got != subjects || scene.camera != camera {
            wrong.push(format!(
                "{prompt:?}: {:?} {got:?} {:?} (ignored {:?})",
                scene.setting, scene.camera, reading.ignored
            ));
        }
        // Nothing is chosen by hash: a setting the prompt does not name is the stage, and the
        // same prompt reads the same under any seed.
        for f in &reading.fallbacks {
            assert!(
                (f.what == "setting" && f.chose == "stage")
                    || (f.what == "subject" && f.chose == "none"),
                "{prompt:?}: fallback {f:?}"
            );
        }
        let other = Scene::from_prompt(prompt, 12345, &[]);
        assert_eq!(
            (other.setting, other.camera, other.subjects.len()),
            (scene.setting, scene.camera, scene.subjects.len()),
            "{prompt:?}: the seed changed the reading"
        );
    }
    assert!(wrong.is_empty(), "misread:\n{}", wrong.join("\n"));
}

#[test]
fn inflections_and_possessives_are_understood() {
    for prompt in [
        "a horse gallops",
        "a horse galloping",
        "horses gallop",
        "an old man's face",
        "a dragon flies",
    ] {
        let (_, reading) = Scene::read(prompt, 1, &[]);
        assert!(
            reading.ignored.iter().all(|w| w == "old" || w == "face"),
            "{prompt:?} ignored {:?}",
            reading.ignored
        );
    }
}
