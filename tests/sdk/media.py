"""Validates downloaded assets with the real decoders: ffprobe/ffmpeg for MP4, Pillow for images."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image

FFPROBE = "/usr/bin/ffprobe"
FFMPEG = "/usr/bin/ffmpeg"
FPS = 24


@dataclass(frozen=True)
class Mp4Facts:
    codec: str
    width: int
    height: int
    frames: int
    frame_rate: Fraction
    video_duration: float
    audio_codec: str | None
    audio_duration: float | None
    format_names: str
    raw: dict


def _write_temp(data: bytes, suffix: str) -> Path:
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
        handle.write(data)
    return Path(handle.name)


def probe_mp4(data: bytes) -> Mp4Facts:
    """ffprobe with -count_frames so the frame count is what a decoder really sees."""
    path = _write_temp(data, ".mp4")
    try:
        result = subprocess.run(
            [FFPROBE, "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    assert result.returncode == 0, f"ffprobe rejected the file ({len(data)} bytes): {result.stderr}"
    info = json.loads(result.stdout)
    streams = info.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video"]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    assert len(video) == 1, f"expected exactly one video stream, got {len(video)}: {streams}"
    v = video[0]
    format_duration = float(info.get("format", {}).get("duration", "nan"))
    a = audio[0] if audio else None
    return Mp4Facts(
        codec=v.get("codec_name", ""),
        width=int(v["width"]),
        height=int(v["height"]),
        frames=int(v.get("nb_read_frames", -1)),
        frame_rate=Fraction(v.get("avg_frame_rate", "0/1")) if v.get("avg_frame_rate", "0/0") != "0/0" else Fraction(0),
        video_duration=float(v.get("duration", format_duration)),
        audio_codec=a.get("codec_name") if a else None,
        audio_duration=float(a.get("duration", format_duration)) if a else None,
        format_names=info.get("format", {}).get("format_name", ""),
        raw=info,
    )


def decode_errors(data: bytes) -> str:
    """Full decode of every stream; returns what ffmpeg complained about (empty when clean)."""
    path = _write_temp(data, ".mp4")
    try:
        result = subprocess.run(
            [FFMPEG, "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    if result.returncode != 0:
        return f"ffmpeg exit {result.returncode}: {result.stderr}"
    return result.stderr.strip()


def assert_valid_mp4(data: bytes, width: int, height: int, seconds: int) -> Mp4Facts:
    """H.264 at the requested size, 24 fps, exactly seconds*24 frames, with audio, decoding cleanly."""
    facts = probe_mp4(data)
    assert "mp4" in facts.format_names, f"not an MP4 container: {facts.format_names}"
    assert facts.codec == "h264", f"video codec {facts.codec!r}, want h264"
    assert (facts.width, facts.height) == (width, height), f"{facts.width}x{facts.height}, want {width}x{height}"
    assert facts.frame_rate == FPS, f"frame rate {facts.frame_rate}, want {FPS}"
    assert facts.frames == seconds * FPS, f"{facts.frames} decoded frames, want {seconds * FPS}"
    assert abs(facts.video_duration - seconds) < 0.05, f"video duration {facts.video_duration}, want {seconds}"
    assert facts.audio_codec is not None, "no audio stream"
    assert facts.audio_duration is not None and abs(facts.audio_duration - seconds) < 0.25, (
        f"audio lasts {facts.audio_duration} s for a {seconds} s video"
    )
    errors = decode_errors(data)
    assert errors == "", f"ffmpeg decode reported: {errors}"
    return facts


def first_frame(data: bytes) -> Image.Image:
    """The first decoded video frame as an RGB image."""
    path = _write_temp(data, ".mp4")
    try:
        result = subprocess.run(
            [
                FFMPEG,
                "-v",
                "error",
                "-nostdin",
                "-i",
                str(path),
                "-frames:v",
                "1",
                "-f",
                "image2pipe",
                "-c:v",
                "png",
                "-",
            ],
            capture_output=True,
            check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    assert result.returncode == 0, f"ffmpeg could not extract the first frame: {result.stderr!r}"
    return Image.open(io.BytesIO(result.stdout)).convert("RGB")


def decode_image(data: bytes, expected_format: str) -> Image.Image:
    """Opens and fully decodes an image, checking Pillow's idea of its format."""
    image = Image.open(io.BytesIO(data))
    assert image.format == expected_format, f"image format {image.format}, want {expected_format}"
    image.load()
    assert image.width > 0 and image.height > 0
    return image


def reference_png(width: int, height: int) -> bytes:
    """A face-free reference frame with coarse structure that survives H.264: red left, blue right."""
    image = Image.new("RGB", (width, height), (200, 40, 40))
    image.paste((40, 60, 200), (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def mean_rgb(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float, float]:
    region = image.crop(box).resize((16, 16))
    pixels = list(region.getdata())
    n = len(pixels)
    return tuple(sum(p[i] for p in pixels) / n for i in range(3))  # type: ignore[return-value]
