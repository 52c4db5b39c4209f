"""Any clip in: ordinary footage (not made by Kinora) uploaded for extend, edit and characters.

The clips are made here by Debian's ffmpeg, 2 s at 320x180: High-profile H.264 with B-frames,
10-bit H.264, HEVC in a MOV rotated 90 degrees, VP9 WebM, AV1 in MKV, ProRes 422 in a MOV as an
editor exports it, and a variable-frame-rate clip; AAC, Opus, MP3 and PCM sound.
"""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
from pathlib import Path

import openai
import pytest
from openai import OpenAI
from PIL import Image

from api_errors import assert_sdk_error
from media import FFMPEG, FPS, decode_errors, probe_mp4
from video_jobs import assert_completed, wait

# (file name, codec arguments, extra filter, displayed width, height)
CLIPS = [
    ("high.mp4", ["-c:v", "libx264", "-profile:v", "high", "-bf", "3", "-c:a", "aac"], "", 320, 180),
    (
        "hevc.mov",
        ["-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-c:a", "aac"],
        "",
        180,
        320,
    ),
    ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"], "", 320, 180),
    ("av1.mkv", ["-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime", "-c:a", "libmp3lame"], "", 320, 180),
    ("high10.mp4", ["-c:v", "libx264", "-profile:v", "high10", "-c:a", "aac"], ",format=yuv420p10le", 320, 180),
    ("prores.mov", ["-c:v", "prores_ks", "-profile:v", "2", "-c:a", "pcm_s24le"], ",format=yuv422p10le", 320, 180),
    ("vfr.mov", ["-c:v", "libx264", "-fps_mode", "vfr", "-c:a", "pcm_s16le"], ",select='lt(mod(n\\,5)\\,3)'", 320, 180),
]


def assert_clip(data: bytes, width: int, height: int, seconds: int, name: str) -> None:
    """H.264 at the displayed size, within two frames of `seconds` (a VFR source that drops its
    last frames, or Matroska's rounded lengths, is a frame or two short or long), sound as long as
    the picture, decoding cleanly."""
    facts = probe_mp4(data)
    assert facts.codec == "h264" and (facts.width, facts.height) == (width, height), f"{name}: {facts}"
    assert abs(facts.frames - seconds * FPS) <= 2, f"{name}: {facts.frames} frames for {seconds} s"
    assert facts.audio_duration is not None, f"{name}: no audio"
    assert abs(facts.audio_duration - facts.video_duration) < 0.05, f"{name}: {facts}"
    assert decode_errors(data) == "", name


def make_clip(name: str, codec: list[str], extra: str, source: str = "testsrc2=size=320x180:rate=30:duration=2") -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        subprocess.run(
            [FFMPEG, "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi", "-i",
             "sine=frequency=440:sample_rate=44100:duration=2", "-vf", f"format=yuv420p{extra}", *codec, str(path)],
            check=True,
        )
        data = bytearray(path.read_bytes())
        if name == "hevc.mov":
            rotate_quarter_turn(data)
        return bytes(data)


def rotate_quarter_turn(data: bytearray) -> None:
    """A 90-degree display matrix in the first tkhd, as a phone held upright writes (Debian's
    ffmpeg 5.1 cannot set one while encoding)."""
    matrix = data.find(b"tkhd") + 4 + 40
    for i, value in enumerate([0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000]):
        data[matrix + 4 * i : matrix + 4 * i + 4] = struct.pack(">i", value)


@pytest.mark.parametrize(("name", "codec", "extra", "width", "height"), CLIPS, ids=[c[0] for c in CLIPS])
def test_extend_an_uploaded_foreign_clip(
    client: OpenAI, name: str, codec: list[str], extra: str, width: int, height: int
) -> None:
    clip = make_clip(name, codec, extra)
    job = client.videos.extend(prompt="A red balloon floats by", seconds="4", video=(name, clip, "video/mp4"))
    done = assert_completed(wait(client, job.id))
    assert done.size == f"{width}x{height}", f"{name}: the extension keeps the displayed size, got {done.size}"
    assert done.seconds == "6"
    assert_clip(client.videos.download_content(done.id).content, width, height, 6, name)


@pytest.mark.parametrize(("name", "codec", "extra", "width", "height"), CLIPS[:3], ids=[c[0] for c in CLIPS[:3]])
def test_edit_an_uploaded_foreign_clip(
    client: OpenAI, name: str, codec: list[str], extra: str, width: int, height: int
) -> None:
    clip = make_clip(name, codec, extra)
    job = client.videos.edit(prompt="Make it look like night", video=(name, clip, "video/mp4"),
                               extra_body={"model": "sora-2"})
    done = assert_completed(wait(client, job.id))
    assert (done.size, done.seconds) == (f"{width}x{height}", "2")
    assert_clip(client.videos.download_content(done.id).content, width, height, 2, name)


def test_a_file_that_is_not_a_video_is_a_400_without_paths(strict_client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.extend(prompt="More", seconds="4", video=("clip.mp4", b"not a video at all" * 100, "video/mp4"))
    assert_sdk_error(caught.value, openai.BadRequestError, "video")
    assert caught.value.code == "invalid_video"
    assert "/" not in caught.value.message, f"the message leaks a path: {caught.value.message}"


def test_a_clip_without_a_subject_is_character_not_found(strict_client: OpenAI) -> None:
    clip = make_clip("plain.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"], "",
                     source="color=c=0x5080a0:size=320x180:rate=30:duration=2")
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.create_character(name="Nobody", video=("plain.webm", clip, "video/webm"))
    assert_sdk_error(caught.value, openai.BadRequestError, "video")
    assert caught.value.code == "character_not_found"
    assert "single subject" in caught.value.message
