use std::sync::Mutex;

use image::{Rgb, RgbImage};
use kinora_media::{SPRITESHEET_COLUMNS, SPRITESHEET_ROWS, sprite_tile_size};

use super::kit::{assert_clip, create, frames, psnr_of, run};
use crate::backdrop::fit_cover;
use crate::{CancelToken, CharacterRef, FPS, RenderError, RenderMode, Scene, render};

#[test]
fn create_writes_a_clean_clip_and_its_previews() {
    let dir = tempfile::tempdir().unwrap();
    let req = create(
        "A red car drives past a dog running on a beach at sunset, pan right",
        320,
        180,
        2,
        7,
    );
    let out = run(&req, dir.path());
    assert_clip(&out.video, 320, 180, 2 * FPS);
    assert_eq!(
        (out.info.width, out.info.height, out.info.frames),
        (320, 180, 48)
    );
    let thumb = image::open(&out.thumbnail).unwrap();
    assert!(thumb.width() > 0);
    let sheet = image::open(&out.spritesheet).unwrap();
    let (tw, th) = sprite_tile_size(320, 180);
    assert_eq!(
        (sheet.width(), sheet.height()),
        (tw * SPRITESHEET_COLUMNS, th * SPRITESHEET_ROWS)
    );
    let scene: Scene = serde_json::from_slice(&std::fs::read(&out.scene).unwrap()).unwrap();
    assert_eq!(scene.total_frames(), 48);
    assert_eq!(scene.subjects.len(), 2);
}

#[test]
fn every_contract_size_encodes() {
    for (w, h) in [
        (720, 1280),
        (1280, 720),
        (1024, 1792),
        (1792, 1024),
        (1080, 1920),
        (1920, 1080),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = run(&create("a cat in a kitchen", w, h, 1, 1), dir.path());
        assert_clip(&out.video, w, h, FPS);
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_layout() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let prompt = "two birds fly over a meadow while a child walks, zoom in";
    let a = run(&create(prompt, 256, 144, 1, 11), dirs[0].path());
    let b = run(&create(prompt, 256, 144, 1, 11), dirs[1].path());
    let c = run(&create(prompt, 256, 144, 1, 12), dirs[2].path());
    for pick in [
        |o: &crate::RenderOutputs| o.video.clone(),
        |o: &crate::RenderOutputs| o.thumbnail.clone(),
        |o: &crate::RenderOutputs| o.spritesheet.clone(),
        |o: &crate::RenderOutputs| o.scene.clone(),
    ] {
        assert_eq!(
            std::fs::read(pick(&a)).unwrap(),
            std::fs::read(pick(&b)).unwrap()
        );
    }
    assert_ne!(
        std::fs::read(&a.video).unwrap(),
        std::fs::read(&c.video).unwrap()
    );
}

#[test]
fn different_prompts_give_different_scenes_and_pictures() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let a = run(
        &create("a snowman in a snowfield at night", 256, 144, 1, 1),
        d1.path(),
    );
    let b = run(
        &create("a horse in a desert at noon", 256, 144, 1, 1),
        d2.path(),
    );
    let fa = frames(&a.video, 256, 144);
    let fb = frames(&b.video, 256, 144);
    assert!(super::kit::mean_abs_diff(&fa[0], &fb[0]) > 20.0);
}

#[test]
fn the_first_frame_is_the_input_reference() {
    let dir = tempfile::tempdir().unwrap();
    let image = RgbImage::from_fn(400, 300, |x, y| {
        let ring = ((x as i32 - 200).pow(2) + (y as i32 - 150).pow(2)) < 60 * 60;
        if ring {
            Rgb([230, 60, 40])
        } else {
            Rgb([(x / 2) as u8, (y * 255 / 300) as u8, 140])
        }
    });
    let path = dir.path().join("ref.png");
    image.save(&path).unwrap();
    let mut req = create("a dog walks in, it starts to snow, zoom in", 320, 180, 2, 3);
    req.mode = RenderMode::Create {
        input_reference: Some(path),
        characters: Vec::new(),
    };
    let out = run(&req, &dir.path().join("out"));
    assert_clip(&out.video, 320, 180, 48);
    let decoded = frames(&out.video, 320, 180);
    let fitted = fit_cover(&image, 320, 180).into_raw();
    let sq: f64 = decoded[0]
        .iter()
        .zip(&fitted)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
        .sum();
    let psnr = psnr_of(sq, fitted.len());
    assert!(psnr >= 30.0, "first frame PSNR {psnr:.1} dB");
    // Later the camera moves and the subjects and snow come in.
    assert!(super::kit::mean_abs_diff(&decoded[47], &fitted) > 3.0);
}

#[test]
fn bad_input_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let param = |req| match render(&req, dir.path(), &|_| {}, &CancelToken::new()) {
        Err(RenderError::InvalidInput { param, .. }) => param,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    assert_eq!(param(create("x", 65, 64, 1, 0)), "size");
    assert_eq!(param(create("x", 4000, 64, 1, 0)), "size");
    assert_eq!(param(create("x", 64, 64, 0, 0)), "seconds");
    assert_eq!(param(create("x", 64, 64, 121, 0)), "seconds");
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not an image").unwrap();
    let mut req = create("x", 64, 64, 1, 0);
    req.mode = RenderMode::Create {
        input_reference: Some(junk.clone()),
        characters: Vec::new(),
    };
    assert_eq!(param(req.clone()), "input_reference");
    req.mode = RenderMode::Create {
        input_reference: None,
        characters: vec![CharacterRef {
            name: "x".into(),
            dir: dir.path().join("none"),
        }],
    };
    assert_eq!(param(req.clone()), "characters");
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    for source in [junk, empty] {
        req.mode = RenderMode::Extend {
            source: source.clone(),
            source_scene: None,
        };
        assert_eq!(param(req.clone()), "video");
        req.mode = RenderMode::Edit {
            source,
            source_scene: None,
        };
        assert_eq!(param(req.clone()), "video");
    }
    assert!(!dir.path().join("video.mp4").exists());
}

#[test]
fn progress_climbs_to_100_and_cancel_stops_early() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Mutex::new(Vec::new());
    run_with_progress(&seen, dir.path(), &CancelToken::new()).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0] < w[1]) && seen.last() == Some(&100));

    let cancel = CancelToken::new();
    let seen = Mutex::new(Vec::new());
    let cancelling = |p: u8| {
        seen.lock().unwrap().push(p);
        if p >= 10 {
            cancel.cancel();
        }
    };
    let result = render(
        &create("a bus in the city", 256, 144, 4, 0),
        dir.path(),
        &cancelling,
        &cancel,
    );
    assert!(matches!(result, Err(RenderError::Cancelled)));
    assert!(*seen.lock().unwrap().last().unwrap() < 30);
    assert!(!dir.path().join("video.mp4").exists());
}

fn run_with_progress(
    seen: &Mutex<Vec<u8>>,
    dir: &std::path::Path,
    cancel: &CancelToken,
) -> Result<crate::RenderOutputs, RenderError> {
    render(
        &create("a boat on a lake", 128, 72, 1, 0),
        dir,
        &|p| seen.lock().unwrap().push(p),
        cancel,
    )
}

/// "A snowy meadow" is a meadow under snow: white land, hills included, and no flowers
/// showing through; without snow the same meadow is green.
#[test]
fn snow_lies_on_the_land_it_falls_on() {
    let (w, h) = (320, 180);
    let land = |prompt: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = run(&create(prompt, w, h, 1, 4), dir.path());
        let frame = frames(&out.video, w, h).remove(12);
        // The lower 40 % of the picture: ground and the foot of the hills.
        let rows = (h * 3 / 5) as usize..h as usize;
        let (mut luma, mut green, mut n) = (0.0, 0.0, 0.0);
        for px in frame[rows.start * w as usize * 3..rows.end * w as usize * 3].chunks_exact(3) {
            let [r, g, b] = [px[0], px[1], px[2]].map(f64::from);
            luma += 0.299 * r + 0.587 * g + 0.114 * b;
            green += g - (r + b) / 2.0;
            n += 1.0;
        }
        (luma / n, green / n)
    };
    let (snowy_luma, snowy_green) = land("a red fox runs across a snowy meadow");
    let (plain_luma, plain_green) = land("a red fox runs across a meadow");
    assert!(
        snowy_luma > 200.0 && snowy_green < 12.0,
        "snowy meadow: luma {snowy_luma:.0}, green {snowy_green:.0}"
    );
    assert!(
        plain_green > 30.0 && plain_luma < snowy_luma - 40.0,
        "meadow: luma {plain_luma:.0}, green {plain_green:.0}"
    );
}
