use kinora_media::RgbFrame;

use super::kit::{assert_clip, create, frames, psnr_of, run, synthetic_clip};
use crate::painter::{Painter, gait};
use crate::pipeline::scene_painter;
use crate::{CharacterRef, RenderError, RenderMode, Scene, extract_character};

/// The documented consistency threshold: PSNR over the character's opaque pixels between a
/// decoded frame and its cutout, scaled as drawn.
const CHARACTER_PSNR_DB: f64 = 25.0;

fn mascot(n: u32, frame: &mut RgbFrame) {
    let (w, h) = (frame.width, frame.height);
    let cx = 80.0 + 160.0 * n as f32 / 48.0;
    for y in 0..h {
        for x in 0..w {
            let bg = [30, (60 + y * 120 / h) as u8, (200 - y * 80 / h) as u8];
            let (dx, dy) = (x as f32 - cx, y as f32);
            let body = (dx / 22.0).powi(2) + ((dy - 110.0) / 34.0).powi(2) < 1.0;
            let head = dx * dx + (dy - 62.0).powi(2) < 18.0 * 18.0;
            let px = if head {
                [230, 40, 200]
            } else if body {
                [250, 210, 40]
            } else {
                bg
            };
            frame.set_pixel(x, y, px);
        }
    }
}

/// A header that lies about the frame size (here 4000x4000 for a 320x180 stream) must not size
/// any buffer: the cut is made at the size the frames decode to.
#[test]
fn the_decoded_size_wins_over_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic_clip(&dir.path().join("m.mp4"), 320, 180, 48, mascot);
    let honest = extract_character(&clip, "Mossy", &dir.path().join("honest")).unwrap();
    let mut bytes = std::fs::read(&clip).unwrap();
    let avc1 = bytes.windows(4).position(|w| w == b"avc1").unwrap();
    bytes[avc1 + 28..avc1 + 32].copy_from_slice(&[0x0f, 0xa0, 0x0f, 0xa0]);
    let lying = dir.path().join("lying.mp4");
    std::fs::write(&lying, &bytes).unwrap();
    assert_eq!(kinora_media::probe(&lying).unwrap().width, 4000);
    let info = extract_character(&lying, "Mossy", &dir.path().join("lying")).unwrap();
    assert_eq!(info, honest);
}

#[test]
fn extraction_cuts_out_the_moving_subject() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic_clip(&dir.path().join("m.mp4"), 320, 180, 48, mascot);
    let info = extract_character(&clip, "Mossy", &dir.path().join("mossy")).unwrap();
    assert_eq!(info.frames_used, 48);
    let [x, y, w, h] = info.bbox;
    assert!(
        (40..=56).contains(&w) && (96..=112).contains(&h),
        "{info:?}"
    );
    assert!(info.confidence >= 0.4, "{info:?}");
    let cutout = image::open(dir.path().join("mossy/cutout.png"))
        .unwrap()
        .to_rgba8();
    assert_eq!(cutout.dimensions(), (320, 180));
    assert_eq!((info.width, info.height), (320, 180));
    let px = cutout.get_pixel(x + w / 2, y + h * 2 / 3).0;
    assert!(
        px[3] == 255 && px[0] > 200 && px[1] > 170 && px[2] < 90,
        "{px:?}"
    );
    assert_eq!(cutout.get_pixel(0, 0).0[3], 0);
    assert!(dir.path().join("mossy/reference_3.png").exists());
    assert!(dir.path().join("mossy/frame.png").exists());
    assert!(dir.path().join("mossy/character.json").exists());

    let short = synthetic_clip(&dir.path().join("s.mp4"), 320, 180, 12, mascot);
    assert!(matches!(
        extract_character(&short, "x", dir.path()),
        Err(RenderError::InvalidInput { param: "video", .. })
    ));
}

#[test]
fn a_character_looks_like_its_cutout_in_two_clips() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic_clip(&dir.path().join("m.mp4"), 320, 180, 48, mascot);
    let chars = dir.path().join("mossy");
    extract_character(&clip, "Mossy", &chars).unwrap();
    let mut lightness = Vec::new();
    for (i, prompt) in [
        "Mossy walks on a beach at noon",
        "Mossy waves in a forest at night, zoom in",
    ]
    .iter()
    .enumerate()
    {
        let mut req = create(prompt, 320, 180, 1, i as u64);
        req.mode = RenderMode::Create {
            input_reference: None,
            characters: vec![CharacterRef {
                name: "Mossy".into(),
                dir: chars.clone(),
            }],
        };
        let out = run(&req, &dir.path().join(format!("c{i}")));
        assert_clip(&out.video, 320, 180, 24);
        let scene: Scene = serde_json::from_slice(&std::fs::read(&out.scene).unwrap()).unwrap();
        let mut painter = scene_painter(&scene, None, scene.frame.unwrap()).unwrap();
        let subject = scene
            .subjects
            .iter()
            .find(|s| s.character.as_deref() == Some("Mossy"))
            .unwrap();
        let placed = painter.place(subject, 12).unwrap();
        let (sw, sh, sprite) = painter
            .sprite("Mossy", placed.size.round() as u32)
            .map(|(w, h, d)| (w, h, d.to_vec()))
            .unwrap();
        let (ox, oy) = Painter::sprite_origin(&placed, sw, sh);
        let (bob, lean) = gait(&placed);
        let oy = oy - (bob * sh as f32).round() as i32;
        let decoded = &frames(&out.video, 320, 180)[12];
        let (mut sq, mut n) = (0.0, 0);
        for y in 0..sh as i32 {
            let shift = (lean * (sh as i32 - 1 - y) as f32).round() as i32;
            for x in 0..sw as i32 {
                let s = ((y * sw as i32 + x) * 4) as usize;
                let (fx, fy) = (ox + shift + x, oy + y);
                if sprite[s + 3] < 255 || fx < 0 || fy < 0 || fx >= 320 || fy >= 180 {
                    continue;
                }
                let f = ((fy * 320 + fx) * 3) as usize;
                sq += (0..3)
                    .map(|c| (f64::from(sprite[s + c]) - f64::from(decoded[f + c])).powi(2))
                    .sum::<f64>();
                n += 3;
            }
        }
        let opaque: Vec<f64> = sprite
            .chunks_exact(4)
            .filter(|p| p[3] == 255)
            .map(|p| f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2]))
            .collect();
        lightness.push(opaque.iter().sum::<f64>() / opaque.len().max(1) as f64);
        assert!(n > 300, "the character must be on screen ({n} samples)");
        let psnr = psnr_of(sq, n);
        assert!(
            psnr >= CHARACTER_PSNR_DB,
            "clip {i}: character PSNR {psnr:.1} dB"
        );
    }
    // Relit to each scene's light: the night's forest darkens it.
    assert!(
        lightness[1] < 0.75 * lightness[0],
        "noon {:.0} vs night {:.0}",
        lightness[0],
        lightness[1]
    );
}
