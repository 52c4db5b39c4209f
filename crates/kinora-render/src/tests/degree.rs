//! Degree words: "colder", "slower", "bigger" and their kin are read (in creates, edits and
//! extensions) as what the engine can change, and change the picture the way they say.

use kinora_core::ErrorCode;

use super::edit::{edit, warmth};
use super::kit::{create, frames, mean_abs_diff, run, x264_clip};
use crate::edit::apply_edit;
use crate::extend::continue_scene;
use crate::pipeline::scene_painter;
use crate::{Framing, Mood, Motion, RenderError, RenderMode, Scene, SubjectKind};

/// (prompt, subject, its tempo, its size factor, mood)
type Row = (&'static str, SubjectKind, f32, f32, Mood);

const TABLE: &[Row] = &[
    (
        "a big dog runs in the park",
        SubjectKind::Dog,
        1.0,
        1.4,
        Mood::Calm,
    ),
    (
        "a tiny cat sleeping on the sofa",
        SubjectKind::Cat,
        1.0,
        0.65,
        Mood::Calm,
    ),
    (
        "a huge elephant walks slowly",
        SubjectKind::Elephant,
        0.5,
        1.4,
        Mood::Calm,
    ),
    (
        "a horse gallops slowly across a field",
        SubjectKind::Horse,
        0.5,
        1.0,
        Mood::Calm,
    ),
    (
        "a car drives fast through the city",
        SubjectKind::Car,
        1.8,
        1.0,
        Mood::Calm,
    ),
    (
        "slow motion shot of a dog running",
        SubjectKind::Dog,
        0.5,
        1.0,
        Mood::Calm,
    ),
    (
        "a little boat sails quickly on the lake",
        SubjectKind::Boat,
        1.8,
        0.65,
        Mood::Calm,
    ),
    (
        "a fox in a cold, icy forest",
        SubjectKind::Fox,
        1.0,
        1.0,
        Mood::Cold,
    ),
    (
        "a giant robot walks through a chilly city",
        SubjectKind::Robot,
        1.0,
        1.4,
        Mood::Cold,
    ),
];

#[test]
fn speed_size_and_temperature_words_are_read() {
    let mut wrong = Vec::new();
    for &(prompt, kind, tempo, grow, mood) in TABLE {
        let (scene, reading) = Scene::read(prompt, 7, &[]);
        let got: Vec<(SubjectKind, f32, f32)> = scene
            .subjects
            .iter()
            .map(|s| (s.kind, s.tempo, s.grow))
            .collect();
        if got != [(kind, tempo, grow)] || scene.mood != mood || !reading.ignored.is_empty() {
            wrong.push(format!(
                "{prompt:?}: {got:?} {:?} (ignored {:?})",
                scene.mood, reading.ignored
            ));
        }
    }
    assert!(wrong.is_empty(), "misread:\n{}", wrong.join("\n"));
}

#[test]
fn close_up_words_frame_a_still_portrait() {
    for prompt in [
        "close up of an old man's face as he laughs",
        "close-up of a cat's face",
        "headshot of a woman",
        "a dog's face",
        "head and shoulders portrait of a girl",
    ] {
        let scene = Scene::from_prompt(prompt, 1, &[]);
        assert_eq!(scene.framing, Framing::CloseUp, "{prompt:?}");
        // With no action named, a face holds still for its close-up rather than walking off.
        let s = &scene.subjects[0];
        assert!(
            matches!(s.motion, Motion::Idle | Motion::Laugh),
            "{prompt:?}: {:?}",
            s.motion
        );
    }
}

#[test]
fn edits_are_understood_for_degree_words() {
    for (prompt, change) in [
        ("make it colder", "mood: cold"),
        ("slower", "speed: slow"),
        ("make the dog faster", "speed: fast"),
        ("make it bigger", "size: big"),
        ("make the dog smaller", "size: small"),
    ] {
        let reading = crate::interpret_edit(prompt);
        assert!(reading.ignored.is_empty(), "{prompt:?}: {reading:?}");
        let mut scene = Scene::from_prompt("a dog runs on the beach", 1, &[]);
        scene.push_segment(24, "", scene.camera, scene.weather, &[]);
        let changes = apply_edit(&mut scene, prompt);
        assert!(
            changes.iter().any(|c| c == change),
            "{prompt:?}: {changes:?}"
        );
        assert_eq!(scene.subjects.len(), 1, "{prompt:?} added a subject");
    }
}

/// How far the dog travels over the first second of `scene`, in world fractions.
fn travel(scene: &Scene) -> f32 {
    let dog = &scene.subjects[0];
    let x = |f| scene.subject_state(dog, f).unwrap().x;
    (x(23) - x(0)).abs()
}

#[test]
fn slower_and_bigger_edits_change_the_clip_that_way() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (256u32, 144u32);
    let src = run(
        &create("a brown dog runs on a beach", w, h, 1, 3),
        &dir.path().join("a"),
    );
    let read = |p: &std::path::Path| -> Scene {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let before = read(&src.scene);
    let slow = edit(&src, "make it slower", &dir.path().join("b"));
    let after = read(&slow.scene);
    assert!(
        travel(&after) < 0.6 * travel(&before),
        "{} vs {}",
        travel(&after),
        travel(&before)
    );
    let (a, b) = (frames(&src.video, w, h), frames(&slow.video, w, h));
    assert!(
        mean_abs_diff(&a[23], &b[23]) > 0.0,
        "the slower clip draws the same"
    );

    let big = edit(&src, "make the dog bigger", &dir.path().join("c"));
    let grown = read(&big.scene);
    let size = |scene: &Scene| {
        let painter = scene_painter(scene, None, scene.frame.unwrap()).unwrap();
        painter.place(&scene.subjects[0], 12).unwrap().size
    };
    assert!(
        size(&grown) > 1.3 * size(&before),
        "{} vs {}",
        size(&grown),
        size(&before)
    );
}

#[test]
fn make_it_colder_cools_the_clip() {
    let dir = tempfile::tempdir().unwrap();
    let src = run(
        &create("a red car drives through the city at noon", 256, 144, 1, 2),
        &dir.path().join("a"),
    );
    let out = edit(&src, "make it colder", &dir.path().join("b"));
    let (a, b) = (frames(&src.video, 256, 144), frames(&out.video, 256, 144));
    assert!(
        warmth(&b[12]) < warmth(&a[12]) - 5.0,
        "{} vs {}",
        warmth(&b[12]),
        warmth(&a[12])
    );
    // A clip the engine did not make is regraded colder too, but cannot be retimed.
    let foreign = x264_clip(&dir.path().join("x.mp4"), 256, 144, 1);
    let mut req = create("make it colder", 0, 0, 0, 2);
    req.mode = RenderMode::Edit {
        source: foreign.clone(),
        source_scene: None,
    };
    let graded = run(&req, &dir.path().join("c"));
    let (a, b) = (frames(&foreign, 256, 144), frames(&graded.video, 256, 144));
    assert!(warmth(&b[5]) < warmth(&a[5]) - 5.0);
    req.prompt = "make it slower".to_owned();
    let refused = crate::render(
        &req,
        &dir.path().join("d"),
        &|_| {},
        &crate::CancelToken::new(),
    );
    assert!(
        matches!(
            refused,
            Err(RenderError::NotUnderstood {
                code: ErrorCode::EditNotUnderstood,
                ..
            })
        ),
        "{refused:?}"
    );
}

#[test]
fn an_extension_speeds_up_from_its_seam() {
    let mut scene = Scene::from_prompt("a dog walks in a meadow", 4, &[]);
    scene.frame = Some(crate::FrameSpec {
        width: 320,
        height: 180,
        fps: crate::FPS,
    });
    scene.push_segment(48, "a", scene.camera, scene.weather, &[]);
    let dog = scene.subjects[0].clone();
    let x = |s: &Scene, f| s.subject_state(&dog, f).unwrap().x;
    let step_before = (x(&scene, 47) - x(&scene, 46)).abs();
    let at_seam = x(&scene, 48);
    let undrawn = continue_scene(&mut scene, "the dog walks faster and gets bigger", 48);
    assert_eq!(undrawn, vec!["bigger".to_owned()]);
    assert_eq!(x(&scene, 48), at_seam, "the seam moved");
    let step_after = (x(&scene, 50) - x(&scene, 49)).abs();
    assert!(
        step_after > 1.5 * step_before,
        "{step_after} vs {step_before}"
    );
    assert_eq!(scene.subjects[0].grow, 1.0);
}
