//! End-to-end tests: our files checked with ffprobe/ffmpeg and decoded back.

use crate::testutil::{
    ffmpeg_errors, ffmpeg_has_encoder, ffprobe, gradient_frame, num, stream, tone,
};
use crate::*;
use std::path::{Path, PathBuf};

fn encode_clip(
    path: &Path,
    params: VideoParams,
    frames: u32,
    audio: Option<Vec<f32>>,
) -> (ClipInfo, Vec<RgbFrame>) {
    let mut enc = Mp4Encoder::create(path, params, audio.is_some()).unwrap();
    let mut inputs = Vec::new();
    for t in 0..frames {
        let f = gradient_frame(params.width, params.height, t);
        enc.push_frame(&f).unwrap();
        inputs.push(f);
    }
    if let Some(pcm) = audio {
        // Odd chunk sizes on purpose: the encoder must re-block them into Opus packets.
        for chunk in pcm.chunks(2 * 1234) {
            enc.push_audio(chunk).unwrap();
        }
    }
    (enc.finish().unwrap(), inputs)
}

fn check_with_ffprobe(path: &Path, params: VideoParams, frames: u32, audio: bool) {
    let probe = ffprobe(path);
    let v = stream(&probe, "video").expect("video stream");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(v["width"], params.width);
    assert_eq!(v["height"], params.height);
    assert_eq!(num(&v["nb_read_frames"]), f64::from(frames));
    let want = f64::from(frames) / f64::from(params.fps);
    assert!(
        (num(&v["duration"]) - want).abs() < 1e-3,
        "video duration {}",
        v["duration"]
    );
    match stream(&probe, "audio") {
        Some(a) => {
            assert!(audio, "unexpected audio stream");
            assert_eq!(a["codec_name"], "opus");
            assert_eq!(a["channels"], 2);
            assert_eq!(num(&a["sample_rate"]), 48_000.0);
            let d = num(&a["duration"]);
            assert!(
                (d - want).abs() <= 0.03,
                "audio duration {d} vs video {want}"
            );
        }
        None => assert!(!audio, "audio stream missing"),
    }
    let errors = ffmpeg_errors(path);
    assert!(errors.trim().is_empty(), "ffmpeg decode errors: {errors}");
}

fn decode_all(path: &Path) -> Vec<RgbFrame> {
    let mut dec = Mp4Decoder::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = dec.next_frame().unwrap() {
        out.push(f);
    }
    out
}

fn round_trip(params: VideoParams, frames: u32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let samples = params.audio_samples_for(frames) as usize;
    // 0.3 s more audio than video: finish() must trim it.
    let (info, inputs) = encode_clip(&path, params, frames, Some(tone(samples + 14_400)));
    assert_eq!(info.frames, frames);
    assert_eq!((info.width, info.height), (params.width, params.height));
    assert!(info.has_audio);
    check_with_ffprobe(&path, params, frames, true);

    let probed = probe(&path).unwrap();
    assert_eq!(probed, info);

    let decoded = decode_all(&path);
    assert_eq!(decoded.len(), frames as usize);
    for (i, (a, b)) in inputs.iter().zip(&decoded).enumerate() {
        let p = psnr(a, b);
        assert!(p >= 30.0, "frame {i}: psnr {p:.2} dB");
    }
    assert_eq!(last_frame(&path).unwrap(), *decoded.last().unwrap());

    let pcm = decode_audio(&path).unwrap().expect("opus audio");
    assert_eq!(pcm.len(), samples * 2);
    let reference = tone(samples);
    let err: f32 = pcm[4000..]
        .iter()
        .zip(&reference[4000..])
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f32>()
        / (pcm.len() - 4000) as f32;
    assert!(err < 0.01, "audio mean squared error {err}");
}

#[test]
fn landscape_720p_round_trip() {
    round_trip(VideoParams::new(1280, 720, 24), 50);
}

#[test]
fn portrait_1080x1920_round_trip() {
    // 1080 is not a multiple of 16: exercises SPS cropping in both directions.
    round_trip(VideoParams::new(1080, 1920, 30), 32);
}

#[test]
fn deterministic_output() {
    let dir = tempfile::tempdir().unwrap();
    let params = VideoParams::new(1920, 1080, 24);
    let a = dir.path().join("a.mp4");
    let b = dir.path().join("b.mp4");
    encode_clip(&a, params, 30, Some(tone(30_000)));
    encode_clip(&b, params, 30, Some(tone(30_000)));
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(x == y, "two encodes of the same input differ");
    // Fast-start: moov precedes mdat.
    let moov = x.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = x.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat);
}

#[test]
fn keyframes_at_most_two_seconds_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gop.mp4");
    let params = VideoParams::new(320, 240, 10);
    encode_clip(&path, params, 65, None);
    let movie = crate::demux::Movie::open(&path).unwrap();
    let sync: Vec<usize> = movie
        .video()
        .unwrap()
        .samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.sync)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(sync[0], 0);
    assert!(sync.windows(2).all(|w| w[1] - w[0] <= 20), "{sync:?}");
    assert!(sync.len() >= 4, "{sync:?}");
    check_with_ffprobe(&path, params, 65, false);
    assert!(decode_audio(&path).unwrap().is_none());
}

#[test]
fn stitch_copies_video_and_keeps_sync() {
    let dir = tempfile::tempdir().unwrap();
    let params = VideoParams::new(640, 360, 24);
    let (a, b, out) = (
        dir.path().join("a.mp4"),
        dir.path().join("b.mp4"),
        dir.path().join("ab.mp4"),
    );
    encode_clip(&a, params, 36, Some(tone(20_000))); // audio shorter than video: padded
    encode_clip(&b, params, 24, None); // no audio: silence in the joined clip
    let info = stitch(&a, &b, &out).unwrap();
    assert_eq!(info.frames, 60);
    assert!((info.duration_s - 2.5).abs() < 1e-9);
    assert!(info.has_audio);
    check_with_ffprobe(&out, params, 60, true);

    let (da, db, joined) = (decode_all(&a), decode_all(&b), decode_all(&out));
    assert_eq!(joined.len(), 60);
    assert!(joined[..36] == da[..], "first clip frames changed");
    assert!(joined[36..] == db[..], "second clip frames changed");

    let pcm = decode_audio(&out).unwrap().unwrap();
    assert_eq!(pcm.len(), 120_000 * 2);
    let loud = |s: &[f32]| s.iter().map(|x| x * x).sum::<f32>() / s.len() as f32;
    assert!(
        loud(&pcm[2 * 2_000..2 * 18_000]) > 0.05,
        "first clip audio lost"
    );
    assert!(
        loud(&pcm[2 * 22_000..2 * 70_000]) < 1e-4,
        "padding is not silent"
    );
    assert!(
        loud(&pcm[2 * 73_000..]) < 1e-4,
        "second clip should be silent"
    );

    // Different sizes cannot be copied.
    let c = dir.path().join("c.mp4");
    encode_clip(&c, VideoParams::new(320, 180, 24), 10, None);
    assert!(matches!(
        stitch(&a, &c, &dir.path().join("x.mp4")),
        Err(MediaError::Unsupported(_))
    ));
    assert!(matches!(
        stitch(&a, &b, &a),
        Err(MediaError::InvalidInput(_))
    ));
}

#[test]
fn decodes_ffmpeg_libx264_output() {
    if !ffmpeg_has_encoder("libx264") {
        println!("NOTICE: ffmpeg has no libx264; skipping the foreign-MP4 decode test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("x.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=24",
            "-t",
            "2",
        ])
        .args([
            "-c:v",
            "libx264",
            "-profile:v",
            "baseline",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let info = probe(&path).unwrap();
    assert_eq!((info.width, info.height, info.frames), (320, 240, 48));
    assert!((info.fps - 24.0).abs() < 1e-6 && (info.duration_s - 2.0).abs() < 1e-6);
    let frames = decode_all(&path);
    assert_eq!(frames.len(), 48);
    // Compare with FFmpeg's own decode of frame 0 (BT.601 limited, like ours).
    let png = dir.path().join("f0.png");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-frames:v", "1"])
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    let reference = RgbFrame::from_image(image::open(&png).unwrap().to_rgb8());
    let p = psnr(&frames[0], &reference);
    assert!(p > 30.0, "psnr vs ffmpeg decode {p:.2}");
    assert_eq!(last_frame(&path).unwrap(), frames[47]);
    assert!(decode_audio(&path).unwrap().is_none());
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    encode_clip(
        &good,
        VideoParams::new(160, 120, 12),
        12,
        Some(tone(24_000)),
    );
    let bytes = std::fs::read(&good).unwrap();

    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("text".into(), b"hello, this is not a video at all".to_vec()),
        ("zeros".into(), vec![0; 4096]),
        ("ftyp only".into(), bytes[..32].to_vec()),
    ];
    for cut in [40, 200, 700, bytes.len() / 2, bytes.len() - 10] {
        cases.push((format!("truncated at {cut}"), bytes[..cut].to_vec()));
    }
    // After the ftyp, a moov whose 64-bit size reaches past u64::MAX from its offset.
    let ftyp = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    let mut huge = bytes[..ftyp].to_vec();
    huge.extend_from_slice(&[0, 0, 0, 1]);
    huge.extend_from_slice(b"moov");
    huge.extend_from_slice(&(u64::MAX - 3).to_be_bytes());
    huge.extend_from_slice(&[0; 64]);
    cases.push(("moov of 2^64 bytes".into(), huge));
    // Deterministic byte corruption inside the moov and inside the media data.
    let mut seed = 0x2545_f491_u64;
    for round in 0..24 {
        let mut b = bytes.clone();
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let limit = if round % 2 == 0 {
                1200.min(b.len())
            } else {
                b.len()
            };
            let i = (seed as usize) % limit;
            b[i] = (seed >> 32) as u8;
        }
        cases.push((format!("corrupt #{round}"), b));
    }
    for (name, data) in cases {
        let path = dir.path().join("bad.mp4");
        std::fs::write(&path, &data).unwrap();
        let _ = probe(&path);
        if let Ok(mut dec) = Mp4Decoder::open(&path) {
            while let Ok(Some(_)) = dec.next_frame() {}
        }
        let _ = last_frame(&path);
        let _ = decode_audio(&path);
        let _ = stitch(&path, &good, &dir.path().join("out.mp4"));
        if data.len() < 1000 {
            assert!(
                matches!(probe(&path), Err(MediaError::InvalidInput(_))),
                "{name}: expected InvalidInput"
            );
        }
    }
    let missing = dir.path().join("missing.mp4");
    assert!(matches!(probe(&missing), Err(MediaError::Io(_))));
}

#[test]
fn encoder_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.mp4");
    for (w, h) in [(1281, 720), (1280, 719), (0, 720)] {
        assert!(matches!(
            Mp4Encoder::create(&p, VideoParams::new(w, h, 24), false),
            Err(MediaError::InvalidInput(_))
        ));
    }
    let mut enc = Mp4Encoder::create(&p, VideoParams::new(64, 64, 24), false).unwrap();
    assert!(enc.push_frame(&RgbFrame::new(32, 32)).is_err());
    assert!(enc.push_audio(&[0.0; 4]).is_err());
    enc.push_frame(&RgbFrame::new(64, 64)).unwrap();
    assert!(matches!(enc.finish(), Err(MediaError::InvalidInput(_))));
}

#[test]
fn supported_sizes_encode() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h) in [
        (1792, 1024),
        (1024, 1792),
        (720, 1280),
        (1920, 1080),
        (66, 38),
    ] {
        let path = dir.path().join(format!("{w}x{h}.mp4"));
        let params = VideoParams::new(w, h, 24);
        let (info, inputs) = encode_clip(&path, params, 3, None);
        assert_eq!((info.width, info.height), (w, h));
        let probe = ffprobe(&path);
        let v = stream(&probe, "video").unwrap();
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(w.into()), Some(h.into()))
        );
        let decoded = decode_all(&path);
        assert_eq!(decoded.len(), 3);
        let p = psnr(&inputs[2], &decoded[2]);
        // 4:2:0 chroma alone costs a tiny frame with a sharp yellow square a few dB.
        let floor = if w * h < 10_000 { 25.0 } else { 28.0 };
        assert!(
            p > floor,
            "{w}x{h}: {p:.2} dB, decoded {}x{}",
            decoded[2].width,
            decoded[2].height
        );
    }
}

#[test]
fn handles_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<Mp4Encoder>();
    send::<Mp4Decoder>();
    send::<MediaError>();
}

/// Patches the first `typ` box of `bytes` at `at` bytes past its type with `value`.
fn patch_box(bytes: &mut [u8], typ: &[u8; 4], at: usize, value: u32) {
    let pos = bytes
        .windows(4)
        .position(|w| w == typ)
        .expect("the box is there");
    bytes[pos + 4 + at..pos + 8 + at].copy_from_slice(&value.to_be_bytes());
}

fn probe_error(dir: &std::path::Path, bytes: &[u8]) -> String {
    let path = dir.join("hostile.mp4");
    std::fs::write(&path, bytes).unwrap();
    // The in-process demuxer's own limits: `probe` would hand a file it refuses to the
    // sandboxed ffprobe, which has limits of its own.
    match crate::demux::Movie::open(&path).map(|_| ()) {
        Err(MediaError::InvalidInput(m)) => m,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// Sample tables a hostile upload could use to burn CPU or memory are refused up front.
#[test]
fn hostile_sample_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    encode_clip(&good, VideoParams::new(160, 120, 12), 12, None);
    let bytes = std::fs::read(&good).unwrap();
    assert!(probe(&good).is_ok());

    // stsc: version/flags, entry count, then (first_chunk, per_chunk, description).
    let mut unordered = bytes.clone();
    patch_box(&mut unordered, b"stsc", 8, 0);
    let m = probe_error(dir.path(), &unordered);
    assert!(m.contains("out of order"), "{m}");

    // stsz: version/flags, constant size, count. Two million 1-byte samples in a file padded
    // to hold them.
    let mut many = bytes.clone();
    patch_box(&mut many, b"stsz", 4, 1);
    patch_box(&mut many, b"stsz", 8, 2_000_000);
    many.resize(many.len() + 2_100_000, 0);
    let m = probe_error(dir.path(), &many);
    assert!(m.contains("at most"), "{m}");
}
