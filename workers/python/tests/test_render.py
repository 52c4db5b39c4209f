"""Every mode through the real diffusers pipeline classes (tiny random weights, CPU)."""

import threading

import numpy as np
import pytest
from PIL import Image

from kinora_worker import media
from kinora_worker.pipelines import ModelUnavailable
from kinora_worker.render import Cancelled, Renderer, Request, Unsupported, frame_count, plan, v2v_steps


class Recorder:
    """Hands out the host's real pipelines, remembering each call's role and arguments."""

    def __init__(self, host, model):
        self.host, self.model, self.calls = host, model, []

    def __call__(self, role):
        pipe = self.host.get(self.model, role)
        rec = self

        class Spy:
            def __getattr__(self, name):
                return getattr(pipe, name)

            def __call__(self, **kw):
                out = pipe(**kw)
                rec.calls.append((role, kw, out))
                return out

        return Spy()


def render(config, host, model_id, req, progress=None, cancel=None):
    model = config.models[model_id]
    rec = Recorder(host, model)
    seen = []
    r = Renderer(model, rec, progress or seen.append, cancel)
    return r.render(req), rec, seen


def mp4(tmp_path, result, w, h, name="v.mp4"):
    path = tmp_path / name
    media.write_mp4(result.frames, str(path), result.fps, w, h)
    return media.probe(str(path))


def src_frames(n, h, w):
    f = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        f[i] = (10 * i % 256, 80, 200 - 5 * i % 200)
    return f


def test_plan_covers_the_length_with_valid_frame_counts():
    assert frame_count(16, 4, 81) == 17 and frame_count(1, 4, 81) == 5 and frame_count(500, 4, 81) == 81
    p = plan(24, 0, 3, 4, 9)
    assert all((n - 1) % 4 == 0 for n, _ in p)
    assert p[0][1] == 0 and all(pre == 3 for _, pre in p[1:])
    assert sum(n - pre for n, pre in p) >= 24
    with pytest.raises(ValueError):
        plan(10, 9, 9, 4, 9)


def test_text_to_video_single_pass(config, host, tmp_path):
    req = Request("create", "a red robot dances", width=48, height=32, seconds=1.0, seed=7)
    res, rec, progress = render(config, host, "wan-tiny", req)
    assert [c[0] for c in rec.calls] == ["t2v"]
    assert res.frames.shape == (8, 32, 48, 3) and res.passes == 1
    p = mp4(tmp_path, res, 48, 32)
    assert (p.codec, p.profile, p.width, p.height, p.frames) == ("h264", "Constrained Baseline", 48, 32, 8)
    assert progress == sorted(progress) and progress[-1] == 99 and len(progress) == 2
    # Same seed, same frames; another seed, other frames.
    again, _, _ = render(config, host, "wan-tiny", req)
    assert np.array_equal(again.frames, res.frames)
    other, _, _ = render(config, host, "wan-tiny", Request("create", "a red robot dances", 48, 32, 1.0, seed=8))
    assert not np.array_equal(other.frames, res.frames)


def test_long_clip_chains_passes_on_the_last_frames(config, host, tmp_path):
    # 3 s at 8 fps = 24 frames, 9 a pass with 3 overlap: t2v then VACE continuations.
    req = Request("create", "a cat walks", width=40, height=24, seconds=3.0, seed=1)
    res, rec, progress = render(config, host, "wan-tiny", req)
    roles = [c[0] for c in rec.calls]
    assert roles[0] == "t2v" and set(roles[1:]) == {"vace"} and len(roles) == res.passes >= 3
    assert res.frames.shape[0] == 24
    made = [to8(rec.calls[0][2].frames[0])]
    for role, kw, out in rec.calls[1:]:
        # Each continuation is conditioned on the previous pass's last 3 frames, kept by the mask.
        prev = np.concatenate(made)[-3:]
        cond = np.stack([np.asarray(im) for im in kw["video"][:3]])
        assert np.array_equal(cond, prev)
        assert [np.asarray(m).max() for m in kw["mask"][:3]] == [0, 0, 0]
        assert np.asarray(kw["mask"][3]).min() == 255
        made.append(to8(out.frames[0])[3:])
    assert np.array_equal(np.concatenate(made)[:24], res.frames)
    p = mp4(tmp_path, res, 40, 24)  # generated at 48x32 (multiple of 16), scaled to the job's size
    assert (p.width, p.height, p.frames) == (40, 24, 24) and p.duration == pytest.approx(3.0, abs=0.01)
    assert progress == sorted(progress) and progress[-1] == 99


def to8(frames):
    return media.to_uint8(frames)


def test_input_reference_uses_image_to_video(config, host, tmp_path):
    image = Image.new("RGB", (48, 32), (220, 20, 20))
    res, rec, _ = render(config, host, "wan-tiny",
                         Request("create", "a robot", 48, 32, 1.0, 3, image=image))
    assert [c[0] for c in rec.calls] == ["i2v"] and rec.calls[0][1]["image"] is image
    assert res.frames.shape[0] == 8
    assert mp4(tmp_path, res, 48, 32).frames == 8


def test_input_reference_without_i2v_keeps_the_first_frame_in_vace(config, host):
    image = Image.new("RGB", (48, 32), (20, 220, 20))
    res, rec, _ = render(config, host, "wan-tiny-vace", Request("create", "a robot", 48, 32, 1.0, 3, image=image))
    role, kw, _ = rec.calls[0]
    assert role == "vace" and kw["video"][0] is image
    assert np.asarray(kw["mask"][0]).max() == 0 and np.asarray(kw["mask"][1]).min() == 255
    assert res.frames.shape[0] == 8


def test_characters_become_vace_reference_images(config, host, tmp_path):
    refs = [Image.new("RGB", (48, 32), (0, 200, 0)), Image.new("RGB", (48, 32), (0, 0, 200))]
    res, rec, _ = render(config, host, "wan-tiny", Request("create", "two friends", 48, 32, 1.0, 5, references=refs))
    role, kw, out = rec.calls[0]
    assert role == "vace" and kw["reference_images"] == refs
    # The reference frames condition the clip but are not part of it.
    assert out.frames[0].shape[0] == kw["num_frames"] and res.frames.shape[0] == 8
    assert mp4(tmp_path, res, 48, 32).frames == 8


def test_extend_returns_only_the_new_segment(config, host, tmp_path):
    source = src_frames(16, 32, 48)
    res, rec, _ = render(config, host, "wan-tiny", Request("extend", "keep walking", 48, 32, 2.0, 9, source=source))
    role, kw, out = rec.calls[0]
    assert role == "vace"
    cond = np.stack([np.asarray(im) for im in kw["video"][:3]])
    assert np.array_equal(cond, source[-3:])  # conditioned on the source's last frames
    assert [np.asarray(m).max() for m in kw["mask"][:3]] == [0, 0, 0]
    assert res.frames.shape[0] == 16  # seconds (2) x fps (8): the new segment only
    assert np.array_equal(res.frames[:6], to8(out.frames[0])[3:])  # the source's frames are dropped
    assert mp4(tmp_path, res, 48, 32).frames == 16


def test_edit_denoises_the_source_towards_the_prompt(config, host, tmp_path):
    """Edits run WanVideoToVideoPipeline on the t2v weights: the source frames, noised to
    `edit_strength`, are the starting point (not a VACE control video)."""
    source = src_frames(12, 32, 48)
    res, rec, _ = render(config, host, "wan-tiny", Request("edit", "make it snowy", 48, 32, 1.5, 2, source=source))
    assert {c[0] for c in rec.calls} == {"v2v"}
    pipe = host.get(config.models["wan-tiny"], "v2v")
    assert type(pipe).__name__ == "WanVideoToVideoPipeline"
    assert pipe.transformer is host.get(config.models["wan-tiny"], "t2v").transformer  # no second copy
    first = rec.calls[0][1]
    assert first["strength"] == config.models["wan-tiny"].edit_strength == 0.7
    assert "mask" not in first and "num_frames" not in first
    video = np.stack([np.asarray(im) for im in first["video"]])
    assert np.array_equal(video, source[: len(video)]) and (len(video) - 1) % 4 == 0
    # Every pass starts from its own stretch of the source; together they cover it.
    covered = sum(len(c[1]["video"]) for c in rec.calls)
    assert covered >= 12
    assert res.frames.shape == (12, 32, 48, 3)
    p = mp4(tmp_path, res, 48, 32)
    assert (p.width, p.height, p.frames) == (48, 32, 12)


def test_an_edits_own_strength_replaces_the_models_default(config, host):
    """A request's `edit_strength` goes to the pipeline. On a 2-step schedule diffusers would run
    int(2 * 0.35) = 0 steps and fail in the VAE, so the schedule is lengthened until one runs."""
    source = src_frames(12, 32, 48)
    req = Request("edit", "make it snowy", 48, 32, 1.5, 2, source=source, edit_strength=0.35)
    res, rec, _ = render(config, host, "wan-tiny", req)
    assert {(c[1]["strength"], c[1]["num_inference_steps"]) for c in rec.calls} == {(0.35, 3)}
    assert res.frames.shape == (12, 32, 48, 3)
    _, rec, _ = render(config, host, "wan-tiny", Request("edit", "make it snowy", 48, 32, 1.5, 2, source=source))
    assert {(c[1]["strength"], c[1]["num_inference_steps"]) for c in rec.calls} == {(0.7, 2)}
    assert v2v_steps(50, 0.7) == 50 and v2v_steps(2, 0.35) == 3 and v2v_steps(4, 0.25) == 4
    assert all(int(v2v_steps(s, f) * f) >= 1 for s in (1, 2, 30) for f in (0.01, 0.1, 0.33, 0.5, 1.0))


def test_edit_needs_a_text_to_video_checkpoint(config, host):
    with pytest.raises(ModelUnavailable, match="edits need a `t2v` checkpoint"):
        render(config, host, "wan-tiny-vace", Request("edit", "x", 48, 32, 1.0, 1, source=src_frames(8, 32, 48)))


def test_ltx2_makes_audio(config, host, tmp_path):
    res, rec, _ = render(config, host, "ltx2-tiny", Request("create", "a robot sings", 32, 32, 2.0, 4))
    roles = [c[0] for c in rec.calls]
    assert roles[0] == "t2v" and set(roles[1:]) == {"condition"} and len(roles) >= 2
    assert res.frames.shape[0] == 16
    assert res.audio is not None and res.audio.ndim == 2 and res.audio.shape[1] > 0 and res.sample_rate == 16000
    assert np.isfinite(res.audio).all()
    # Each pass's audio minus the part under its conditioning frame, trimmed to the clip.
    per_pass = [c[2].audio[0].shape[-1] for c in rec.calls]
    assert res.audio.shape[1] <= sum(per_pass)
    media.write_wav(res.audio, str(tmp_path / "audio.wav"), res.sample_rate)
    p = mp4(tmp_path, res, 32, 32)
    assert (p.codec, p.frames) == ("h264", 16)
    import wave
    with wave.open(str(tmp_path / "audio.wav")) as w:
        assert (w.getsampwidth(), w.getnchannels(), w.getnframes()) == (2, 2, res.audio.shape[1])


def test_ltx2_image_and_extend(config, host):
    image = Image.new("RGB", (32, 32), (200, 0, 0))
    res, rec, _ = render(config, host, "ltx2-tiny", Request("create", "a robot", 32, 32, 1.0, 4, image=image))
    assert [c[0] for c in rec.calls] == ["i2v"] and res.frames.shape[0] == 8
    source = src_frames(10, 32, 32)
    res, rec, _ = render(config, host, "ltx2-tiny", Request("extend", "more", 32, 32, 1.0, 4, source=source))
    assert rec.calls[0][0] == "condition"
    cond = rec.calls[0][1]["conditions"][0]
    assert cond.index == 0 and np.array_equal(np.asarray(cond.frames[0]), source[-1])
    assert res.frames.shape[0] == 8 and res.audio is not None


def test_unsupported_modes_are_refused(config, host):
    with pytest.raises(Unsupported):
        render(config, host, "ltx2-tiny", Request("edit", "x", 32, 32, 1.0, 1, source=src_frames(8, 32, 32)))
    with pytest.raises(Unsupported):
        render(config, host, "ltx2-tiny", Request("create", "x", 32, 32, 1.0, 1,
                                                  references=[Image.new("RGB", (32, 32))]))
    with pytest.raises(ModelUnavailable):  # no VACE and no I2V: cannot chain past one pass
        render(config, host, "wan-tiny-t2v", Request("create", "x", 48, 32, 3.0, 1))


def test_cancel_stops_at_the_next_step(config, host, tiny_dirs):
    from kinora_worker.config import parse
    from conftest import TOKEN, model_tables

    tables = model_tables(tiny_dirs, steps=6)
    cfg = parse({"server": "http://x", "token": TOKEN, "pool": "p", "models": {"wan-tiny": tables["wan-tiny"]}})
    cancel = threading.Event()
    steps = []

    def progress(p):
        steps.append(p)
        if len(steps) == 2:
            cancel.set()  # the user cancels while step 2 runs

    with pytest.raises(Cancelled):
        render(cfg, host, "wan-tiny", Request("create", "x", 48, 32, 3.0, 1), progress=progress, cancel=cancel)
    # Step 2's callback raised the interrupt; no later step ran and no later pass started.
    assert len(steps) == 2


def test_extend_and_chain_with_only_image_to_video(config, host):
    """Without VACE, a Wan model continues from the last frame through its I2V pipeline."""
    source = src_frames(16, 32, 48)
    res, rec, _ = render(config, host, "wan-tiny-i2v", Request("extend", "on", 48, 32, 2.0, 9, source=source))
    assert {c[0] for c in rec.calls} == {"i2v"} and len(rec.calls) == res.passes == 2
    assert np.array_equal(np.asarray(rec.calls[0][1]["image"]), source[-1])
    # The second pass starts from the first pass's last frame, which is not repeated.
    first_out = to8(rec.calls[0][2].frames[0])
    assert np.array_equal(np.asarray(rec.calls[1][1]["image"]), first_out[-1])
    assert np.array_equal(res.frames[:8], first_out[1:9])
    assert res.frames.shape[0] == 16


def test_ltx2_continues_on_the_default_nine_frames(tiny_dirs, host):
    """LTX-2's default overlap (9 frames, one latent frame more than 8k) as a video condition."""
    from conftest import TOKEN, model_tables
    from kinora_worker.config import parse

    table = dict(model_tables(tiny_dirs)["ltx2-tiny"], frames_per_pass=17)
    table.pop("overlap_frames")  # the family's default
    model = parse({"server": "http://x", "token": TOKEN, "pool": "p", "models": {"l": table}}).models["l"]
    assert model.overlap_frames == 9
    rec = Recorder(host, model)
    res = Renderer(model, rec).render(Request("create", "a robot sings", 32, 32, 3.0, 4))
    assert [c[0] for c in rec.calls] == ["t2v", "condition"]  # 17 frames, then 9 kept + 8 new
    cond = rec.calls[1][1]["conditions"][0]
    first = to8(rec.calls[0][2].frames[0])
    assert len(cond.frames) == 9 and cond.index == 0 and rec.calls[1][1]["num_frames"] == 17
    assert np.array_equal(np.stack([np.asarray(f) for f in cond.frames]), first[-9:])
    assert res.frames.shape[0] == 24 and res.audio is not None
    assert np.array_equal(res.frames[17:], to8(rec.calls[1][2].frames[0])[9:16])
