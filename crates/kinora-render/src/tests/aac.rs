//! The `aac` feature end to end: AAC-LC clips from create, extend and edit, checked with
//! ffprobe/ffmpeg, and made twice to the same bytes.

use super::kit::{assert_clip, create, ffprobe, frames, run};
use crate::{AudioCodec, RenderMode};

fn audio_codec(path: &std::path::Path) -> String {
    ffprobe(path).stream("audio").codec_name.clone()
}

#[test]
fn aac_create_extend_and_edit() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = create(
        "a red car drives through a city in the rain",
        256,
        144,
        2,
        9,
    );
    req.audio_codec = AudioCodec::Aac;
    let src = run(&req, &dir.path().join("src"));
    assert_clip(&src.video, 256, 144, 48);
    assert_eq!(audio_codec(&src.video), "aac");
    let again = run(&req, &dir.path().join("again"));
    assert!(
        std::fs::read(&src.video).unwrap() == std::fs::read(&again.video).unwrap(),
        "same request and seed, different AAC clip"
    );

    // Extending an AAC clip in AAC: the joined clip keeps the source's frames and codec.
    let mut ext = create("the car stops", 256, 144, 1, 9);
    ext.audio_codec = AudioCodec::Aac;
    ext.mode = RenderMode::Extend {
        source: src.video.clone(),
        source_scene: Some(src.scene.clone()),
    };
    let out = run(&ext, &dir.path().join("ext"));
    assert_clip(&out.video, 256, 144, 72);
    assert_eq!(audio_codec(&out.video), "aac");
    let before = frames(&src.video, 256, 144);
    let after = frames(&out.video, 256, 144);
    assert!(before.iter().zip(&after).all(|(a, b)| a == b));
    let twice = run(&ext, &dir.path().join("ext2"));
    assert!(std::fs::read(&out.video).unwrap() == std::fs::read(&twice.video).unwrap());

    // The request's codec decides: an Opus extension of the AAC clip, an AAC edit of it.
    ext.audio_codec = AudioCodec::Opus;
    let opus = run(&ext, &dir.path().join("ext-opus"));
    assert_clip(&opus.video, 256, 144, 72);
    assert_eq!(audio_codec(&opus.video), "opus");
    let mut edit = create("make it night", 256, 144, 0, 9);
    edit.audio_codec = AudioCodec::Aac;
    edit.mode = RenderMode::Edit {
        source: opus.video.clone(),
        source_scene: Some(opus.scene.clone()),
    };
    let edited = run(&edit, &dir.path().join("edit"));
    assert_clip(&edited.video, 256, 144, 72);
    assert_eq!(audio_codec(&edited.video), "aac");
}
