import wave

import numpy as np
import pytest

from kinora_worker import media


def gradient(n, h, w):
    f = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        f[i, :, :, 0] = i * 255 // max(1, n - 1)
        f[i, :, :, 1] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    return f


def test_mp4_is_constrained_baseline_at_the_requested_size(tmp_path):
    out = tmp_path / "v.mp4"
    media.write_mp4(gradient(20, 32, 48), str(out), fps=8, width=64, height=40)
    p = media.probe(str(out))
    assert (p.codec, p.profile, p.has_b_frames) == ("h264", "Constrained Baseline", 0)
    assert (p.width, p.height, p.frames) == (64, 40, 20)
    assert p.duration == pytest.approx(2.5, abs=0.01)
    assert p.audio_codecs == []


def test_float_frames_and_odd_sizes(tmp_path):
    frames = np.random.default_rng(0).random((3, 16, 16, 3), dtype=np.float32)
    with pytest.raises(media.MediaError, match="even"):
        media.write_mp4(frames, str(tmp_path / "x.mp4"), fps=8, width=15, height=16)
    media.write_mp4(frames, str(tmp_path / "y.mp4"), fps=8, width=16, height=16)
    assert media.probe(str(tmp_path / "y.mp4")).frames == 3


def test_read_frames_resamples_and_takes_the_tail(tmp_path):
    src = tmp_path / "s.mp4"
    frames = gradient(48, 32, 48)  # 2 s at 24 fps, red ramps up
    media.write_mp4(frames, str(src), fps=24, width=48, height=32)
    every = media.read_frames(str(src), 48, 32, fps=8)
    assert every.shape == (16, 32, 48, 3)
    tail = media.read_frames(str(src), 24, 16, fps=8, last_seconds=0.5)
    assert tail.shape[1:] == (16, 24, 3) and 3 <= len(tail) <= 5
    # The tail is the end of the clip: its red is near the maximum, the clip's start near 0.
    assert tail[-1, :, :, 0].mean() > 200 and every[0, :, :, 0].mean() < 40


def test_wav_is_16_bit_pcm(tmp_path):
    t = np.linspace(0, 1, 16000, endpoint=False)
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), 2 * np.sin(2 * np.pi * 220 * t)])  # second clips
    media.write_wav(stereo, str(tmp_path / "a.wav"), 16000)
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 2, 16000, 16000)
        pcm = np.frombuffer(w.readframes(16000), "<i2").reshape(-1, 2)
    assert pcm[:, 1].max() == 32767 and abs(int(pcm[:, 0].max()) - 32767) < 50


def test_streamed_encode_is_byte_identical_to_one_write(tmp_path, monkeypatch):
    """Frames go to ffmpeg one by one; the file is the same as from the whole clip in one write."""
    import subprocess

    cmds = []
    real = subprocess.Popen

    def spy(cmd, *a, **kw):
        cmds.append(list(cmd))
        return real(cmd, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    floats = np.random.default_rng(1).random((12, 32, 48, 3), dtype=np.float32) * 1.2 - 0.1
    for name, frames in (("u8", gradient(20, 32, 48)), ("f32", floats)):
        out = tmp_path / f"{name}.mp4"
        media.write_mp4(frames, str(out), fps=8, width=64, height=40)
        whole = tmp_path / f"{name}-whole.mp4"
        cmd = cmds[-1][:-1] + [str(whole)]
        subprocess.run(cmd, input=media.to_uint8(frames).tobytes(), check=True)
        assert out.read_bytes() == whole.read_bytes()


def test_long_clips_are_not_copied_whole(tmp_path):
    """Encoding holds about one frame beside the clip; decoding, the clip once (not twice)."""
    import tracemalloc

    frames = np.random.default_rng(0).integers(0, 256, (60, 240, 320, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        media.write_mp4(frames, str(tmp_path / "v.mp4"), fps=24, width=320, height=240)
        assert tracemalloc.get_traced_memory()[1] - base < frames.nbytes / 4
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        back = media.read_frames(str(tmp_path / "v.mp4"), 320, 240)
        assert tracemalloc.get_traced_memory()[1] - base < back.nbytes * 1.5
    finally:
        tracemalloc.stop()
    assert back.shape == frames.shape and back.flags.writeable


def test_ffmpeg_errors_are_reported(tmp_path):
    with pytest.raises(media.MediaError, match="ffmpeg exited with"):
        media.write_mp4(gradient(4, 16, 16), str(tmp_path / "no" / "such" / "dir.mp4"), fps=8, width=16, height=16)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(media.MediaError, match="ffmpeg exited with"):
        media.read_frames(str(tmp_path / "bad.mp4"), 16, 16)
