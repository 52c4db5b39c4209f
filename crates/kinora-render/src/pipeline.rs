//! The two-stage pipeline every mode runs: a producer thread draws frames and their audio
//! chunks, the calling thread encodes them. A bounded channel of a few frames keeps memory flat
//! whatever the clip length, and frame buffers are recycled rather than reallocated.

use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use kinora_media::{
    AudioCodec, ClipInfo, Effort, Mp4Encoder, RgbFrame, VideoParams, resize, sprite_tile_size,
    spritesheet_frame_indices, spritesheet_jpeg, thumbnail_webp,
};

use crate::picture::Picture;

use crate::FPS;
use crate::audio::{AudioSynth, SAMPLES_PER_FRAME};
use crate::backdrop::Backdrop;
use crate::character;
use crate::error::RenderError;
use crate::painter::Painter;
use crate::request::{CancelToken, OutFiles, Progress, RenderOutputs};
use crate::scene::{FrameSpec, Scene};
use image::RgbImage;

/// Frames in flight between the painter and the encoder.
const QUEUE: usize = 3;

/// Something that can produce frame `n` of a clip and its audio. `out` is a recycled buffer of
/// the clip's size, RGB or I420 as this source last left it.
pub trait FrameSource: Send {
    fn draw(&mut self, frame: u32, out: &mut Picture) -> Result<(), RenderError>;
    fn audio(&mut self, frame: u32, out: &mut Vec<f32>) -> Result<(), RenderError>;
}

/// A source lent for one pass, so the caller can read what it ended on (a clip's last frame).
impl<S: FrameSource + ?Sized> FrameSource for &mut S {
    fn draw(&mut self, frame: u32, out: &mut Picture) -> Result<(), RenderError> {
        (**self).draw(frame, out)
    }

    fn audio(&mut self, frame: u32, out: &mut Vec<f32>) -> Result<(), RenderError> {
        (**self).audio(frame, out)
    }
}

/// A scene drawn by the painter, with synthesised audio.
pub struct SceneSource {
    pub painter: Painter,
    pub synth: AudioSynth,
}

impl FrameSource for SceneSource {
    fn draw(&mut self, frame: u32, out: &mut Picture) -> Result<(), RenderError> {
        self.painter.paint(frame, &mut out.rgb_mut().data);
        Ok(())
    }

    fn audio(&mut self, frame: u32, out: &mut Vec<f32>) -> Result<(), RenderError> {
        self.synth.render_frame(frame, out);
        Ok(())
    }
}

/// The thumbnail and sprite-sheet frames picked out of a clip as it passes.
#[derive(Debug, Default)]
pub struct Previews {
    /// Output frame index of the thumbnail, and of each tile in order.
    thumb_at: u32,
    tiles_at: Vec<u32>,
    thumb: Option<RgbFrame>,
    tiles: Vec<Option<RgbFrame>>,
}

impl Previews {
    /// Picks for a clip of `total` frames: the middle frame, and the documented tile frames.
    pub fn for_clip(total: u32) -> Previews {
        let tiles_at = spritesheet_frame_indices(total);
        Previews {
            thumb_at: total / 2,
            tiles: vec![None; tiles_at.len()],
            tiles_at,
            thumb: None,
        }
    }

    /// Whether output frame `index` is one of the picks.
    pub fn wants(&self, index: u32) -> bool {
        index == self.thumb_at || self.tiles_at.contains(&index)
    }

    /// Offers output frame `index`; keeps a copy when it is one of the picks.
    pub fn offer(&mut self, index: u32, frame: &RgbFrame) -> Result<(), RenderError> {
        if index == self.thumb_at {
            self.thumb = Some(frame.clone());
        }
        if let Some(slot) = self.tiles_at.iter().position(|&i| i == index) {
            let (w, h) = sprite_tile_size(frame.width, frame.height);
            self.tiles[slot] = Some(resize(frame, w, h)?);
        }
        Ok(())
    }

    /// The last output frame index any pick needs.
    pub fn last_needed(&self) -> u32 {
        self.tiles_at
            .iter()
            .copied()
            .chain([self.thumb_at])
            .max()
            .unwrap_or(0)
    }

    /// Writes the WebP thumbnail and the JPEG sprite sheet.
    pub fn write(self, thumbnail: &Path, spritesheet: &Path) -> Result<(), RenderError> {
        let thumb = self
            .thumb
            .ok_or_else(|| RenderError::invalid("video", "the clip has no frame to preview"))?;
        std::fs::write(thumbnail, thumbnail_webp(&thumb)?)?;
        let tiles: Vec<RgbFrame> = self.tiles.into_iter().flatten().collect();
        std::fs::write(spritesheet, spritesheet_jpeg(&tiles)?)?;
        Ok(())
    }
}

struct Drawn {
    frame: Picture,
    audio: Vec<f32>,
}

fn produce<S: FrameSource>(
    mut source: S,
    frames: Range<u32>,
    params: VideoParams,
    tx: SyncSender<Result<Drawn, RenderError>>,
    recycled: Receiver<Drawn>,
    cancel: &CancelToken,
) {
    for n in frames {
        if cancel.is_cancelled() {
            return;
        }
        let mut drawn = recycled.try_recv().unwrap_or_else(|_| Drawn {
            frame: Picture::canvas(params.width, params.height),
            audio: Vec::with_capacity(SAMPLES_PER_FRAME * 2),
        });
        drawn.audio.clear();
        let result = source
            .draw(n, &mut drawn.frame)
            .and_then(|()| source.audio(n, &mut drawn.audio))
            .map(|()| drawn);
        let failed = result.is_err();
        if tx.send(result).is_err() || failed {
            return;
        }
    }
}

/// Draws `frames` of `source` and pushes them into `encoder`; output frame indices start at
/// `first_output`. Progress runs from `progress.0` to `progress.1` percent.
#[allow(clippy::too_many_arguments)]
pub fn encode<S: FrameSource>(
    encoder: &mut Mp4Encoder,
    source: S,
    frames: Range<u32>,
    first_output: u32,
    previews: &mut Previews,
    progress: &Progress<'_>,
    span: (u8, u8),
    cancel: &CancelToken,
) -> Result<(), RenderError> {
    let params = encoder.params();
    let total = frames.len().max(1) as u32;
    let (tx, rx) = sync_channel::<Result<Drawn, RenderError>>(QUEUE);
    let (back_tx, back_rx) = sync_channel::<Drawn>(QUEUE + 2);
    std::thread::scope(|scope| {
        let frames_for_producer = frames.clone();
        scope.spawn(move || produce(source, frames_for_producer, params, tx, back_rx, cancel));
        // `rx` moves into the consumer and is dropped when it returns, even early, so a
        // producer blocked on a full queue wakes up and ends before the scope joins it.
        let sink = Sink {
            encoder,
            previews,
            progress,
            span,
            total,
            first_output,
        };
        sink.consume(rx, back_tx, cancel)
    })
}

struct Sink<'a, 'p> {
    encoder: &'a mut Mp4Encoder,
    previews: &'a mut Previews,
    progress: &'a Progress<'p>,
    span: (u8, u8),
    total: u32,
    first_output: u32,
}

impl Sink<'_, '_> {
    fn consume(
        self,
        rx: Receiver<Result<Drawn, RenderError>>,
        back: SyncSender<Drawn>,
        cancel: &CancelToken,
    ) -> Result<(), RenderError> {
        let (lo, hi) = (u32::from(self.span.0), u32::from(self.span.1));
        for done in 0..self.total {
            if cancel.is_cancelled() {
                return Err(RenderError::Cancelled);
            }
            let drawn = match rx.recv() {
                Ok(result) => result?,
                Err(_) if cancel.is_cancelled() => return Err(RenderError::Cancelled),
                Err(_) => break,
            };
            let index = self.first_output + done;
            match &drawn.frame {
                Picture::Rgb(frame) => {
                    self.previews.offer(index, frame)?;
                    self.encoder.push_frame(frame)?;
                }
                Picture::Yuv(frame) => {
                    if self.previews.wants(index) {
                        self.previews.offer(index, &frame.to_rgb()?)?;
                    }
                    self.encoder.push_yuv(frame)?;
                }
            }
            self.encoder.push_audio(&drawn.audio)?;
            self.progress
                .report(lo + (hi - lo) * (done + 1) / self.total);
            let _ = back.try_send(drawn);
        }
        Ok(())
    }
}

/// Creates an encoder for `width`x`height` at the engine's frame rate, with `audio` audio.
pub fn new_encoder(
    path: &Path,
    width: u32,
    height: u32,
    audio: AudioCodec,
) -> Result<Mp4Encoder, RenderError> {
    new_encoder_with(path, width, height, audio, Effort::Standard)
}

/// [`new_encoder`] with OpenH264's search set by `effort` ([`Effort::Footage`] for output that
/// is mostly re-encoded footage).
pub fn new_encoder_with(
    path: &Path,
    width: u32,
    height: u32,
    audio: AudioCodec,
    effort: Effort,
) -> Result<Mp4Encoder, RenderError> {
    let params = VideoParams::new(width, height, FPS);
    Ok(Mp4Encoder::create_with_effort(
        path,
        params,
        Some(audio),
        effort,
    )?)
}

/// Finishes `encoder`, turning its summary into the clip info.
pub fn finish(encoder: Mp4Encoder) -> Result<ClipInfo, RenderError> {
    Ok(encoder.finish()?)
}

/// Lives beside `Previews` so the request types stay a leaf that imports nothing of the engine.
impl OutFiles {
    /// Writes previews and the scene, and returns the outputs.
    pub fn complete(
        &self,
        previews: Previews,
        scene: &Scene,
        info: ClipInfo,
    ) -> Result<RenderOutputs, RenderError> {
        let out = RenderOutputs::in_dir(&self.dir, info);
        previews.write(&out.thumbnail, &out.spritesheet)?;
        let json = serde_json::to_vec_pretty(scene).map_err(std::io::Error::other)?;
        std::fs::write(&out.scene, json)?;
        Ok(out)
    }
}

/// Draws every frame of `scene`'s timeline into the output video, with previews and scene.json.
pub fn render_scene(
    scene: &Scene,
    still: Option<&RgbImage>,
    audio: AudioCodec,
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    let spec = scene
        .frame
        .ok_or_else(|| RenderError::invalid("video", "the scene has no frame size"))?;
    let total = scene.total_frames();
    let painter = scene_painter(scene, still, spec)?;
    let source = SceneSource {
        painter,
        synth: AudioSynth::new(scene),
    };
    let mut encoder = new_encoder(&files.video(), spec.width, spec.height, audio)?;
    let mut previews = Previews::for_clip(total);
    encode(
        &mut encoder,
        source,
        0..total,
        0,
        &mut previews,
        progress,
        (0, 98),
        cancel,
    )?;
    let info = finish(encoder)?;
    let out = files.complete(previews, scene, info)?;
    progress.report(100);
    Ok(out)
}

/// A painter for `scene`, with its backdrop drawn (or fitted from `still`).
pub fn scene_painter(
    scene: &Scene,
    still: Option<&RgbImage>,
    spec: FrameSpec,
) -> Result<Painter, RenderError> {
    let cutouts = character::cutouts(scene)?;
    let backdrop = match still {
        Some(image) => Backdrop::still(image, spec.width, spec.height),
        None => Backdrop::procedural(scene, spec.width, spec.height),
    };
    Ok(Painter::new(
        scene,
        spec.width,
        spec.height,
        backdrop,
        &cutouts,
    ))
}
