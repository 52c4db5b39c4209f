//! Running FFmpeg's tools on untrusted uploads out of process: a crash, a decoder bug or a
//! hostile file costs a child process, never the server. Each child gets a cleared environment,
//! no stdin, only the `file` and `pipe` protocols (no network, no playlists that name other
//! files: only the container demuxers in [`FORMATS`] may open the input), an address-space and
//! CPU-time limit through util-linux's `prlimit` (the workspace forbids `unsafe`, which setting
//! rlimits in-process before `exec` would need), and a wall-clock watchdog that kills it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::MediaError;

/// Demuxers a clip may be read with: MP4/MOV, Matroska/WebM, AVI, MPEG-TS.
pub(crate) const FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts";
/// Address space a decoder may map: a 4K HEVC decode with frame threads stays well inside.
const ADDRESS_SPACE_BYTES: u64 = 4 << 30;

/// What a child may use: CPU seconds (all threads together) and wall-clock seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub cpu_s: u64,
    pub wall_s: u64,
}

impl Limits {
    /// Generous for a clip of `seconds`: decoding is many times faster than real time, and the
    /// wall clock also covers a slow consumer reading the frames.
    pub fn for_clip(seconds: f64) -> Self {
        let seconds = seconds.clamp(0.0, 3600.0).ceil() as u64;
        Self {
            cpu_s: 60 + 20 * seconds,
            wall_s: 120 + 60 * seconds,
        }
    }
}

/// `ffmpeg` or `ffprobe` on the PATH, or the error that says what to install.
pub(crate) fn tool(name: &str) -> Result<PathBuf, MediaError> {
    find(name).ok_or_else(|| {
        MediaError::Unsupported(format!(
            "this clip is not an H.264 Constrained Baseline MP4, and reading other formats needs \
             FFmpeg's `{name}`, which is not installed on the server (install the `ffmpeg` package)"
        ))
    })
}

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A running child whose stdout is read by the caller; killed on drop or when its time is up.
pub(crate) struct Sandboxed {
    child: Arc<Mutex<Child>>,
    pub stdout: ChildStdout,
    stop: Option<Sender<()>>,
    watchdog: Option<JoinHandle<()>>,
}

impl Sandboxed {
    /// Starts `tool` reading `input` with `args` (placed after the input), stdout piped.
    pub fn spawn(
        tool: &Path,
        input: &Path,
        before_input: &[&str],
        args: &[String],
        limits: Limits,
    ) -> Result<Self, MediaError> {
        let mut cmd = match find("prlimit") {
            Some(prlimit) => {
                let mut c = Command::new(prlimit);
                c.arg(format!("--as={ADDRESS_SPACE_BYTES}"))
                    .arg(format!("--cpu={}", limits.cpu_s))
                    .arg("--core=0")
                    .arg("--")
                    .arg(tool);
                c
            }
            None => Command::new(tool),
        };
        // ffprobe never reads stdin and has no `-nostdin`; stdin is closed for both anyway.
        if tool.file_name().is_some_and(|n| n == "ffmpeg") {
            cmd.arg("-nostdin");
        }
        cmd.env_clear()
            .args(["-hide_banner", "-loglevel", "error"])
            .args(["-protocol_whitelist", "file,pipe"])
            .args(["-format_whitelist", FORMATS])
            .args(before_input)
            .arg("-i")
            .arg(input)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| MediaError::Codec("the decoder process has no output".into()))?;
        let child = Arc::new(Mutex::new(child));
        let (stop, stopped) = mpsc::channel::<()>();
        let watched = Arc::clone(&child);
        let wall = Duration::from_secs(limits.wall_s);
        let watchdog = std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wall)
                && let Ok(mut child) = watched.lock()
            {
                let _ = child.kill();
            }
        });
        Ok(Self {
            child,
            stdout,
            stop: Some(stop),
            watchdog: Some(watchdog),
        })
    }

    /// Reads all of stdout (at most `max_bytes`), then waits for a clean exit.
    pub fn output(mut self, max_bytes: u64) -> Result<Vec<u8>, MediaError> {
        let mut out = Vec::new();
        (&mut self.stdout)
            .take(max_bytes + 1)
            .read_to_end(&mut out)?;
        if out.len() as u64 > max_bytes {
            return Err(MediaError::InvalidInput(
                "the decoder produced more data than the clip can hold".into(),
            ));
        }
        self.finish()?;
        Ok(out)
    }

    /// Waits for the child; a non-zero exit (a decode error, a limit hit) is an invalid input.
    pub fn finish(mut self) -> Result<(), MediaError> {
        let status = self.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(MediaError::InvalidInput(
                "the file could not be decoded as a video (corrupt, truncated or not a video)"
                    .into(),
            ))
        }
    }

    fn wait(&mut self) -> Result<std::process::ExitStatus, MediaError> {
        let status = loop {
            let mut child = self
                .child
                .lock()
                .map_err(|_| MediaError::Codec("decoder watchdog failed".into()))?;
            if let Some(status) = child.try_wait()? {
                break status;
            }
            drop(child);
            std::thread::sleep(Duration::from_millis(5));
        };
        self.stop_watchdog();
        Ok(status)
    }

    fn stop_watchdog(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.watchdog.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Sandboxed {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock()
            && !matches!(child.try_wait(), Ok(Some(_)))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stop_watchdog();
    }
}
