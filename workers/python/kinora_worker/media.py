"""Media in and out, through the system `ffmpeg`/`ffprobe` CLIs and the stdlib `wave` module.

Frames are numpy arrays `(frames, height, width, 3)`, float in [0, 1] or uint8. Videos are
written as H.264 Constrained Baseline (no B-frames, yuv420p) because the server decodes uploads
with OpenH264, which only decodes that profile.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass

import numpy as np

FFMPEG = os.environ.get("KINORA_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("KINORA_FFPROBE", "ffprobe")


class MediaError(RuntimeError):
    pass


def _run(cmd: list[str], stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace")[-2000:]
        raise MediaError(f"{os.path.basename(cmd[0])} exited with {proc.returncode}: {tail}")
    return proc.stdout


def _failed(cmd: list[str], returncode: int, stderr) -> MediaError:
    stderr.seek(0)
    tail = stderr.read().decode("utf-8", "replace")[-2000:]
    return MediaError(f"{os.path.basename(cmd[0])} exited with {returncode}: {tail}")


def to_uint8(frames) -> np.ndarray:
    """(F, H, W, 3) float in [0, 1] or uint8 -> contiguous uint8."""
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise MediaError(f"expected frames shaped (F, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        arr = (np.clip(arr.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(arr)


def write_mp4(frames, path: str, fps: float, width: int, height: int) -> None:
    """Encode frames as H.264 Constrained Baseline MP4 at exactly width x height.

    Frames of another size are scaled (bicubic) to the requested size; width and height must be
    even (yuv420p). Frames go to ffmpeg one at a time (converted to uint8 one at a time), so a
    long clip is never copied whole.
    """
    if width % 2 or height % 2:
        raise MediaError(f"H.264 yuv420p needs even dimensions, got {width}x{height}")
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise MediaError(f"expected frames shaped (F, H, W, 3), got {arr.shape}")
    f, h, w, _ = arr.shape
    if f == 0:
        raise MediaError("no frames to encode")
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "pipe:0"]
    if (w, h) != (width, height):
        cmd += ["-vf", f"scale={width}:{height}:flags=bicubic"]
    cmd += ["-an", "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
            "-bf", "0", "-preset", "veryfast", "-crf", "18", "-movflags", "+faststart", path]
    # stderr goes to a file: a pipe nobody reads while frames are written could fill and block.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            for frame in arr:
                proc.stdin.write(to_uint8(frame[None])[0].data)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and stderr say why
        except BaseException:
            proc.kill()
            raise
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            returncode = proc.wait()
        if returncode != 0:
            raise _failed(cmd, returncode, err)


def write_wav(samples, path: str, sample_rate: int) -> None:
    """Write float samples in [-1, 1], shaped (n,), (channels, n) or (n, channels), as 16-bit PCM."""
    a = np.asarray(samples, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim == 2 and a.shape[0] in (1, 2) and a.shape[1] > a.shape[0]:
        a = a.T  # (channels, n) -> (n, channels)
    if a.ndim != 2 or a.shape[1] not in (1, 2):
        raise MediaError(f"expected mono or stereo samples, got shape {np.shape(samples)}")
    pcm = (np.clip(a, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(a.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())


@dataclass
class Probe:
    codec: str
    profile: str
    width: int
    height: int
    frames: int
    duration: float
    fps: float
    has_b_frames: int
    audio_codecs: list[str]


def probe(path: str) -> Probe:
    """ffprobe a video file, counting its frames by decoding them."""
    out = _run([FFPROBE, "-v", "error", "-count_frames", "-show_streams", "-show_format",
                "-of", "json", path])
    info = json.loads(out)
    video = [s for s in info.get("streams", []) if s.get("codec_type") == "video"]
    if not video:
        raise MediaError(f"{path}: no video stream")
    v = video[0]
    num, _, den = v.get("avg_frame_rate", "0/1").partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    return Probe(
        codec=v.get("codec_name", ""),
        profile=v.get("profile", ""),
        width=int(v["width"]),
        height=int(v["height"]),
        frames=int(v.get("nb_read_frames") or 0),
        duration=float(info.get("format", {}).get("duration") or 0.0),
        fps=fps,
        has_b_frames=int(v.get("has_b_frames") or 0),
        audio_codecs=[s.get("codec_name", "") for s in info["streams"] if s.get("codec_type") == "audio"],
    )


def read_frames(path: str, width: int, height: int, fps: float | None = None,
                last_seconds: float | None = None) -> np.ndarray:
    """Decode a clip to uint8 RGB frames (F, height, width, 3), scaled to width x height.

    `fps` resamples the clip to that frame rate (the model's) before returning it;
    `last_seconds` keeps only the clip's tail, decoded from `-sseof`.
    """
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error"]
    if last_seconds is not None:
        cmd += ["-sseof", f"-{last_seconds:.3f}"]
    cmd += ["-i", path, "-an"]
    filters = []
    if fps is not None:
        filters.append(f"fps={fps:g}")
    filters.append(f"scale={width}:{height}:flags=bicubic")
    cmd += ["-vf", ",".join(filters), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    # The frames are read into one growing, writable buffer that the returned array then uses
    # as is: no second copy of the whole clip.
    raw = bytearray()
    with tempfile.TemporaryFile() as err:
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err) as proc:
            while chunk := proc.stdout.read(1 << 20):
                raw += chunk
        if proc.returncode != 0:
            raise _failed(cmd, proc.returncode, err)
    size = width * height * 3
    if len(raw) == 0 or len(raw) % size:
        raise MediaError(f"{path}: decoded {len(raw)} bytes, not a whole number of {width}x{height} frames")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)
