//! Extend: a source clip plus a new segment that starts where the source ends. A clip this
//! engine made (its scene.json matches it) is continued by re-drawing its scene past the end
//! with the new prompt's actions; any other clip is continued from its last frame, which the
//! camera then moves over.
//!
//! A source in the platform's format is joined by copying its samples (or by re-encoding both
//! when the two cannot be joined that way). The segment's own audio is then Opus whatever the
//! request's codec (its decode is exact from the first sample, where AAC starts with encoder
//! priming that would leave a gap at the seam); the join re-encodes all the audio once, in the
//! request's codec. A source in any other format must be re-encoded anyway, so it is decoded
//! once, re-timed on the way, straight into the result, and the segment follows in the same
//! encoder pass ([`extend_foreign`]).
use std::path::{Path, PathBuf};

use kinora_media::{AudioCodec, ClipInfo, Effort, MediaError, last_frame, probe, stitch_with};

use crate::audio::AudioSynth;
use crate::error::RenderError;
use crate::footage::{ClipSource, Unchanged, bad_clip, preview_frames};
use crate::pipeline::scene_painter;
use crate::pipeline::{self, Previews, SceneSource};
use crate::platform::{is_platform, platform_clip};
use crate::prompt::{Term, read};
use crate::request::check_seconds;
use crate::request::{CancelToken, OutFiles, Progress, RenderOutputs, RenderRequest};
use crate::scene::{BackdropSource, ENGINE_NAME, FrameSpec, Scene, subject_groups};
use crate::{FPS, MAX_SECONDS};

/// Probes a source clip, rejecting what cannot be continued or edited.
pub fn probe_source(source: &Path) -> Result<ClipInfo, RenderError> {
    let info = probe(source)
        .map_err(|e| RenderError::invalid("video", format!("the clip cannot be read: {e}")))?;
    if info.frames == 0 || info.duration_s <= 0.0 {
        return Err(RenderError::invalid("video", "the clip has no frames"));
    }
    if info.width % 2 != 0 || info.height % 2 != 0 {
        return Err(RenderError::invalid(
            "video",
            format!(
                "the clip is {}x{}; only even sizes are supported",
                info.width, info.height
            ),
        ));
    }
    Ok(info)
}

/// The source's scene when it describes exactly this clip and can be drawn again.
pub fn own_scene(path: Option<&Path>, info: &ClipInfo) -> Option<Scene> {
    let bytes = std::fs::read(path?).ok()?;
    let scene: Scene = serde_json::from_slice(&bytes).ok()?;
    let spec = scene.frame?;
    let matches = scene.engine == ENGINE_NAME
        && scene.backdrop == BackdropSource::Procedural
        && (spec.width, spec.height, spec.fps) == (info.width, info.height, FPS)
        && scene.total_frames() == info.frames;
    matches.then_some(scene)
}

/// Appends a segment to `scene` for `prompt`: subjects it names take its motions and speeds,
/// subjects new to the scene walk in, and camera and weather change only when it names them.
/// Returns the words it read but could not draw: a size word for a subject already on screen
/// (its size is one number for the whole clip, and the part before is kept as it was).
pub fn continue_scene(scene: &mut Scene, prompt: &str, frames: u32) -> Vec<String> {
    let names: Vec<String> = scene.characters.keys().cloned().collect();
    let reading = read(prompt, &names);
    let start = scene.total_frames();
    let mut motions = Vec::new();
    let mut matched = Vec::new();
    let mut tempos = Vec::new();
    let groups = subject_groups(&reading, &names);
    for group in groups.iter().cloned() {
        let existing: Vec<u32> = scene
            .subjects
            .iter()
            .filter(|s| {
                !matched.contains(&s.id)
                    && match &group.wish.character {
                        Some(name) => s.character.as_ref() == Some(name),
                        None => s.kind == group.wish.kind && s.character.is_none(),
                    }
            })
            .map(|s| s.id)
            .take(group.count)
            .collect();
        if existing.is_empty() {
            for _ in 0..group.count {
                scene.add_subject(group.wish.clone(), start);
            }
            continue;
        }
        for id in existing {
            matched.push(id);
            if let Some(m) = group.wish.motion {
                motions.push((id, m));
            }
            if let Some(t) = group.wish.tempo {
                tempos.push((id, t.factor()));
            }
        }
    }
    let bare_tempo = reading.terms.iter().find_map(|f| match f.term {
        Term::Tempo(t) if groups.is_empty() => Some(t),
        _ => None,
    });
    if let Some(t) = bare_tempo {
        tempos.extend(scene.subjects.iter().map(|s| (s.id, t.factor())));
    }
    let bare_motion = reading.terms.iter().find_map(|f| match f.term {
        Term::Motion(m) => Some(m),
        _ => None,
    });
    if matched.is_empty()
        && let Some(m) = bare_motion
    {
        motions.extend(
            scene
                .subjects
                .iter()
                .filter(|s| s.kind.travels() && s.enter_frame < start)
                .map(|s| (s.id, m)),
        );
    }
    let last = scene.timeline.last();
    let camera = reading
        .terms
        .iter()
        .find_map(|f| match f.term {
            Term::Camera(c) => Some(c),
            _ => None,
        })
        .or(last.map(|s| s.camera))
        .unwrap_or(scene.camera);
    let weather = reading
        .terms
        .iter()
        .find_map(|f| match f.term {
            Term::Weather(w) => Some(w),
            _ => None,
        })
        .or(last.map(|s| s.weather))
        .unwrap_or(scene.weather);
    scene.push_segment(frames, prompt, camera, weather, &motions);
    if let Some(seg) = scene.timeline.last_mut() {
        for (id, factor) in tempos {
            for t in seg.tracks.iter_mut().filter(|t| t.id == id) {
                t.tempo = (t.tempo * factor).clamp(0.1, 5.0);
            }
        }
    }
    let new: Vec<usize> = groups
        .iter()
        .filter(|g| g.wish.size.is_some())
        .filter(|g| {
            scene
                .subjects
                .iter()
                .any(|s| s.enter_frame == start && s.kind == g.wish.kind)
        })
        .map(|g| reading.terms[g.term].clause)
        .collect();
    reading
        .terms
        .iter()
        .zip(&reading.words)
        .filter(|(f, _)| matches!(f.term, Term::Size(_)) && !new.contains(&f.clause))
        .map(|(_, w)| w.clone())
        .collect()
}

pub fn run(
    req: &RenderRequest,
    source: &Path,
    source_scene: Option<&Path>,
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    let info = probe_source(source)?;
    if !is_platform(source, &info) {
        return extend_foreign(req, source, &info, files, progress, cancel);
    }
    let drawn = draw_segment(
        req,
        (source, info),
        source_scene,
        files,
        progress,
        cancel,
        true,
    )?;
    let Drawn {
        info,
        scene,
        previews,
        spec,
        new_frames,
        ..
    } = drawn;
    let joined = match stitch_with(source, &files.part(), &files.video(), req.audio_codec) {
        Ok(joined) => joined,
        Err(MediaError::Unsupported(_)) => reencode_join(
            source,
            &files.part(),
            &files.video(),
            (info.frames, new_frames),
            (spec, req.audio_codec),
            progress,
            cancel,
        )?,
        Err(e) => return Err(e.into()),
    };
    let out = files.complete(previews, &scene, joined)?;
    progress.report(100);
    Ok(out)
}

/// An extension's new segment alone, as a remote worker returns it (the node stitches).
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOutputs {
    /// The segment (`video.mp4`), Opus audio.
    pub video: PathBuf,
    /// The continued scene, describing source and segment together.
    pub scene: PathBuf,
    pub info: ClipInfo,
}

/// Renders only the new segment of an extension into `out_dir`: what `kinora worker` uploads.
pub fn render_segment(
    req: &RenderRequest,
    source: &Path,
    source_scene: Option<&Path>,
    out_dir: &Path,
    progress: &(dyn Fn(u8) + Sync),
    cancel: &CancelToken,
) -> Result<SegmentOutputs, RenderError> {
    std::fs::create_dir_all(out_dir)?;
    let files = OutFiles {
        dir: out_dir.to_path_buf(),
    };
    let progress = Progress::new(progress);
    let info = probe_source(source)?;
    let drawn = draw_segment(
        req,
        (source, info),
        source_scene,
        &files,
        &progress,
        cancel,
        false,
    )?;
    let video = files.video();
    std::fs::rename(files.part(), &video)?;
    let scene = out_dir.join("scene.json");
    let json = serde_json::to_vec_pretty(&drawn.scene).map_err(std::io::Error::other)?;
    std::fs::write(&scene, json)?;
    progress.report(100);
    Ok(SegmentOutputs {
        video,
        scene,
        info: drawn.part,
    })
}

struct Drawn {
    info: ClipInfo,
    scene: Scene,
    previews: Previews,
    spec: FrameSpec,
    new_frames: u32,
    part: ClipInfo,
}

/// Draws the new segment into `files.part()`; `with_previews` also picks the stitched clip's
/// previews (the source's frames are decoded for that).
fn draw_segment(
    req: &RenderRequest,
    (source, info): (&Path, ClipInfo),
    source_scene: Option<&Path>,
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
    with_previews: bool,
) -> Result<Drawn, RenderError> {
    check_seconds(req.seconds)?;
    let new_frames = req.seconds * FPS;
    let total = info.frames + new_frames;
    check_total(total)?;
    let spec = FrameSpec {
        width: info.width,
        height: info.height,
        fps: FPS,
    };
    let (scene, still, frames, undrawn) = match own_scene(source_scene, &info) {
        Some(mut scene) => {
            let undrawn = continue_scene(&mut scene, &req.prompt, new_frames);
            (scene, None, info.frames..total, undrawn)
        }
        None => {
            let last = last_frame(source).map_err(bad_clip)?.into_image()?;
            (
                still_scene(req, spec, new_frames),
                Some(last),
                0..new_frames,
                Vec::new(),
            )
        }
    };
    let mut scene = scene;
    caption(req, &mut scene, undrawn);
    let mut previews = if with_previews {
        let mut p = Previews::for_clip(total);
        preview_frames(source, info.frames, &mut p)?;
        p
    } else {
        Previews::default()
    };
    progress.report(5);
    let painter = scene_painter(&scene, still.as_ref(), spec)?;
    let source_frames = SceneSource {
        painter,
        synth: AudioSynth::new(&scene),
    };
    let mut encoder =
        pipeline::new_encoder(&files.part(), spec.width, spec.height, AudioCodec::Opus)?;
    pipeline::encode(
        &mut encoder,
        source_frames,
        frames,
        info.frames,
        &mut previews,
        progress,
        (5, 90),
        cancel,
    )?;
    let part = pipeline::finish(encoder)?;
    Ok(Drawn {
        info,
        scene,
        previews,
        spec,
        new_frames,
        part,
    })
}

/// A segment over the source's last frame, which the camera then moves over: how a clip that
/// carries no scene of ours is continued.
fn still_scene(req: &RenderRequest, spec: FrameSpec, new_frames: u32) -> Scene {
    let mut scene = Scene::from_prompt(&req.prompt, req.seed, &[]);
    scene.backdrop = BackdropSource::Still;
    scene.frame = Some(spec);
    let (camera, weather) = (scene.camera, scene.weather);
    scene.push_segment(new_frames, &req.prompt, camera, weather, &[]);
    scene
}

/// Shows the new segment's words the engine could not draw (those it did not read, and
/// `undrawn`: those it read but cannot show on subjects already on screen), when captions are
/// on.
fn caption(req: &RenderRequest, scene: &mut Scene, undrawn: Vec<String>) {
    if req.captions {
        let names: Vec<String> = scene.characters.keys().cloned().collect();
        let mut ignored = read(&req.prompt, &names).ignored;
        ignored.extend(undrawn);
        crate::caption::caption_last_segment(scene, &ignored);
    }
}

/// Extends a clip that is not in the platform's format (a phone's 30 fps High-profile clip,
/// HEVC in MOV) in one encoder pass: the source's frames, re-timed as they are decoded, then the
/// new segment drawn over its last frame, with previews picked on the way. OpenH264 cannot
/// continue another encoder's stream, so the source is re-encoded whatever happens; doing it
/// straight into the result saves an intermediate copy, a second decode of it for the previews
/// and the audio re-encode of a stitch.
fn extend_foreign(
    req: &RenderRequest,
    source: &Path,
    info: &ClipInfo,
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    check_seconds(req.seconds)?;
    let (mut clip, source_frames) = platform_clip::<Unchanged>(source, info, None)?;
    let new_frames = req.seconds * FPS;
    check_total(source_frames + new_frames)?;
    let spec = FrameSpec {
        width: info.width,
        height: info.height,
        fps: FPS,
    };
    let mut previews = Previews::for_clip(source_frames + new_frames);
    // The source is most of the frames, re-encoded as decoded: the faster search pays.
    let mut encoder = pipeline::new_encoder_with(
        &files.video(),
        spec.width,
        spec.height,
        req.audio_codec,
        Effort::Footage,
    )?;
    pipeline::encode(
        &mut encoder,
        &mut clip,
        0..source_frames,
        0,
        &mut previews,
        progress,
        (0, 70),
        cancel,
    )?;
    let last = clip
        .into_last_frame()?
        .ok_or_else(|| bad_clip("it has no frames"))?
        .into_image()?;
    let mut scene = still_scene(req, spec, new_frames);
    caption(req, &mut scene, Vec::new());
    let segment = SceneSource {
        painter: scene_painter(&scene, Some(&last), spec)?,
        synth: AudioSynth::new(&scene),
    };
    pipeline::encode(
        &mut encoder,
        segment,
        0..new_frames,
        source_frames,
        &mut previews,
        progress,
        (70, 97),
        cancel,
    )?;
    let joined = pipeline::finish(encoder)?;
    let out = files.complete(previews, &scene, joined)?;
    progress.report(100);
    Ok(out)
}

/// Refuses an extension whose result would pass the longest clip.
fn check_total(total: u32) -> Result<(), RenderError> {
    if total > MAX_SECONDS * FPS {
        return Err(RenderError::invalid(
            "seconds",
            format!(
                "the extended clip would be {:.1} s; the longest clip is {MAX_SECONDS} s",
                total as f32 / FPS as f32
            ),
        ));
    }
    Ok(())
}

/// Joins two clips by decoding both and encoding them again, for sources that differ from our
/// encoder's settings.
pub(crate) fn reencode_join(
    first: &Path,
    second: &Path,
    out: &Path,
    frames: (u32, u32),
    (spec, audio): (FrameSpec, AudioCodec),
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<ClipInfo, RenderError> {
    let mut encoder = pipeline::new_encoder(out, spec.width, spec.height, audio)?;
    let mut ignore = Previews::default();
    let head = ClipSource::<Unchanged>::open(first, None)?;
    pipeline::encode(
        &mut encoder,
        head,
        0..frames.0,
        0,
        &mut ignore,
        progress,
        (90, 96),
        cancel,
    )?;
    let tail = ClipSource::<Unchanged>::open(second, None)?;
    pipeline::encode(
        &mut encoder,
        tail,
        0..frames.1,
        0,
        &mut ignore,
        progress,
        (96, 99),
        cancel,
    )?;
    pipeline::finish(encoder)
}
