//! Painting single frames of a prompt without encoding, and finding a subject's pixels by
//! painting the same frame again without it: what differs is what the subject covers.

use crate::FPS;
use crate::backdrop::Backdrop;
use crate::camera::View;
use crate::caption::caption_last_segment;
use crate::painter::Painter;
use crate::scene::{FrameSpec, Scene};

pub struct Shot {
    pub scene: Scene,
    pub painter: Painter,
    /// The same shot with no subjects.
    pub empty: Painter,
    pub backdrop: Backdrop,
    pub width: u32,
    pub height: u32,
}

impl Shot {
    pub fn new(prompt: &str, width: u32, height: u32, seconds: u32, captions: bool) -> Shot {
        let mut scene = Scene::from_prompt(prompt, 3, &[]);
        scene.frame = Some(FrameSpec {
            width,
            height,
            fps: FPS,
        });
        let (camera, weather) = (scene.camera, scene.weather);
        scene.push_segment(seconds * FPS, prompt, camera, weather, &[]);
        if captions {
            let ignored = scene.ignored_words.clone();
            caption_last_segment(&mut scene, &ignored);
        }
        let backdrop = Backdrop::procedural(&scene, width, height);
        let painter = Painter::new(&scene, width, height, backdrop.clone(), &Default::default());
        let mut bare = scene.clone();
        bare.subjects.clear();
        let empty = Painter::new(&bare, width, height, backdrop.clone(), &Default::default());
        Shot {
            scene,
            painter,
            empty,
            backdrop,
            width,
            height,
        }
    }

    /// The part of the world frame `n` shows.
    pub fn view(&self, n: u32) -> View {
        let b = &self.backdrop;
        View::new(
            self.scene.camera_pose(n),
            (b.width, b.height),
            (self.width, self.height),
        )
    }

    pub fn frame(&mut self, n: u32) -> Vec<u8> {
        let mut out = vec![0u8; (self.width * self.height * 3) as usize];
        self.painter.paint(n, &mut out);
        out
    }

    pub fn backdrop_frame(&mut self, n: u32) -> Vec<u8> {
        let mut out = vec![0u8; (self.width * self.height * 3) as usize];
        self.empty.paint(n, &mut out);
        out
    }

    /// Which pixels of frame `n` the subjects cover, row-major.
    pub fn subject_mask(&mut self, n: u32) -> Vec<bool> {
        let (a, b) = (self.frame(n), self.backdrop_frame(n));
        a.chunks_exact(3)
            .zip(b.chunks_exact(3))
            .map(|(p, q)| p.iter().zip(q).any(|(x, y)| x.abs_diff(*y) > 24))
            .collect()
    }

    /// The box (x0, y0, x1, y1), inclusive, around `mask`'s pixels.
    pub fn bbox(&self, mask: &[bool]) -> Option<[u32; 4]> {
        let w = self.width as usize;
        let mut b: Option<[u32; 4]> = None;
        for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
            let (x, y) = ((i % w) as u32, (i / w) as u32);
            let e = b.get_or_insert([x, y, x, y]);
            *e = [e[0].min(x), e[1].min(y), e[2].max(x), e[3].max(y)];
        }
        b
    }

    /// Writes frame `n` to `path` as a PNG, for looking at while a test is written.
    #[allow(dead_code)]
    pub fn save(&mut self, n: u32, path: &str) {
        let rgb = self.frame(n);
        image::RgbImage::from_raw(self.width, self.height, rgb)
            .expect("frame size")
            .save(path)
            .expect("png written");
    }
}
