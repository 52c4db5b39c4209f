"""Rendering one job with a diffusers pipeline: which pipeline serves which mode, how long clips
are chained from passes, and how progress and cancellation reach the denoising loop.

Modes (the lease's `mode`, plus its inputs):
- create, prompt only: text-to-video (`t2v`).
- create with `input_reference`: image-to-video (`i2v`; Wan falls back to VACE with the image as
  a kept first frame when no I2V checkpoint is configured).
- create with characters: Wan VACE with the characters' pictures as `reference_images`.
- extend: continue from the source's last frames (Wan VACE prefix frames + mask; LTX-2 video
  condition) and return ONLY the new frames; the server stitches them after the source.
- edit: `WanVideoToVideoPipeline` (the t2v weights) over the source's frames at the source size:
  the source, noised to `edit_strength`, is denoised towards the prompt (diffusers' documented
  video-to-video use, strength 0.7 in its example); same length as the source. VACE is not used:
  given raw RGB as its control video with an all-regenerate mask it has no cue for what to keep.

A clip longer than one pass is made of passes, each conditioned on the previous pass's last
frames (`overlap_frames`), which are then dropped from its output so no frame is repeated.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image

from .config import ModelConfig
from .media import to_uint8
from .pipelines import ModelUnavailable, roles


class Cancelled(Exception):
    """The cancel flag was raised; the pipeline stopped at its next step."""


class Unsupported(ModelUnavailable):
    """The model's family cannot do what the job asks (not retryable on this worker)."""


@dataclass
class Request:
    mode: str  # create | extend | edit
    prompt: str
    width: int
    height: int
    seconds: float
    seed: int
    image: Image.Image | None = None  # input_reference
    references: list[Image.Image] = field(default_factory=list)  # characters
    # extend: the source's last frames; edit: all the source's frames at the model's fps
    source: np.ndarray | None = None
    # edit: the request's `edit_strength` in (0, 1]; None = the model's configured default
    edit_strength: float | None = None

    def strength(self, model: ModelConfig) -> float:
        return model.edit_strength if self.edit_strength is None else self.edit_strength


@dataclass
class Result:
    frames: np.ndarray  # uint8 (F, gen_h, gen_w, 3)
    fps: int
    audio: np.ndarray | None = None  # float (channels, samples)
    sample_rate: int | None = None
    passes: int = 0


def v2v_steps(steps: int, strength: float) -> int:
    """The schedule length for a video-to-video pass: the model's steps, or more where
    diffusers' `int(steps * strength)` would otherwise run no step at all (a light edit on a
    short schedule fails inside the VAE with an empty latent). More steps refine the schedule;
    the strength, the noise the source gets, is kept as asked."""
    return max(steps, math.ceil(1.0 / strength - 1e-9))


def gen_size(model: ModelConfig, width: int, height: int) -> tuple[int, int]:
    """The size frames are generated at: the job's, rounded up to what the model accepts."""
    m = model.size_multiple
    return (max(m, math.ceil(width / m) * m), max(m, math.ceil(height / m) * m))


def frame_count(wanted: int, mult: int, cap: int) -> int:
    """Smallest `mult*k + 1` frames holding `wanted`, at least `mult + 1`, at most `cap`."""
    n = max(1, math.ceil((wanted - 1) / mult)) * mult + 1
    return min(n, cap)


def plan(total: int, first_prefix: int, overlap: int, mult: int, cap: int) -> list[tuple[int, int]]:
    """Passes as (num_frames, prefix frames) producing at least `total` new frames.

    The first pass is conditioned on `first_prefix` frames (0 for a create, the source's tail for
    an extension); every later pass on the previous pass's last `overlap` frames.
    """
    passes, made, prefix = [], 0, first_prefix
    while made < total:
        n = frame_count(total - made + prefix, mult, cap)
        if n <= prefix:
            raise ValueError(f"frames_per_pass {cap} leaves no new frames after {prefix} conditioning frames")
        passes.append((n, prefix))
        made += n - prefix
        prefix = overlap
    return passes


def _pil(frames: np.ndarray) -> list[Image.Image]:
    return [Image.fromarray(f) for f in to_uint8(frames)]


def _grey(n: int, w: int, h: int) -> list[Image.Image]:
    return [Image.new("RGB", (w, h), (127, 127, 127)) for _ in range(n)]


def _mask(n: int, w: int, h: int, value: int) -> list[Image.Image]:
    return [Image.new("L", (w, h), value) for _ in range(n)]


class Renderer:
    """Renders one request; `get_pipe(role)` hands out the loaded pipeline for a role."""

    def __init__(self, model: ModelConfig, get_pipe: Callable[[str], object],
                 progress: Callable[[int], None] = lambda p: None,
                 cancel: threading.Event | None = None,
                 agree: Callable[[bool], bool] | None = None,
                 stop: threading.Event | None = None):
        self.model = model
        self.get_pipe = get_pipe
        self.progress = progress
        self.cancel = cancel or threading.Event()
        # The worker is shutting down (SIGTERM): stop like a cancel, but the caller tells them
        # apart (a stop hands the job back, a cancel ends it), so `cancel` is never set for it.
        self.stop = stop or threading.Event()
        # In a torchrun group every rank must stop at the same check: `agree` turns this rank's
        # flag into the group's (see group.py). Alone, the flag is the decision.
        self.agree = agree
        self.steps_done = 0
        self.steps_total = 1

    # ------------------------------------------------------------------ roles
    def _first_role(self, req: Request) -> str:
        have = roles(self.model)
        fam = self.model.family
        if req.mode == "edit":
            if fam != "wan":
                raise Unsupported(f"{self.model.id}: edits need a Wan text-to-video checkpoint")
            if "v2v" not in have:
                raise ModelUnavailable(f"model {self.model.id}: edits need a `t2v` checkpoint "
                                       "(WanVideoToVideoPipeline runs on its weights)")
            return "v2v"
        if req.mode == "extend":
            if fam == "wan" and "vace" not in have and "i2v" in have:
                return "i2v"  # continue from the source's last frame
            return self._need("vace" if fam == "wan" else "condition", have)
        if req.references:
            if fam != "wan":
                raise Unsupported(f"{self.model.id}: characters need a Wan VACE checkpoint")
            return self._need("vace", have)
        if req.image is not None:
            return "i2v" if "i2v" in have else self._need("vace", have)
        return "t2v" if "t2v" in have else self._need("vace", have)

    def _continue_role(self, first: str) -> str:
        """The role of passes after the first: one that can condition on previous frames."""
        have = roles(self.model)
        if first in ("vace", "condition", "v2v"):
            return first
        for r in ("vace", "condition", "i2v"):
            if r in have:
                return r
        raise ModelUnavailable(f"{self.model.id}: a clip longer than one pass needs a VACE or I2V checkpoint")

    def _need(self, role: str, have: set[str]) -> str:
        if role not in have:
            raise ModelUnavailable(f"model {self.model.id} has no `{role}` checkpoint configured")
        return role

    def _overlap(self, role: str) -> int:
        # An edit's passes each follow their own stretch of the source: no conditioning frames.
        return {"i2v": 1, "v2v": 0}.get(role, self.model.overlap_frames)

    # ------------------------------------------------------------------ progress / cancel
    def _stopped(self) -> bool:
        flag = self.cancel.is_set() or self.stop.is_set()
        if self.agree is not None and self.agree(flag) and not flag:
            self.cancel.set()  # another rank's flag (rank 0's): the group stops together
            return True
        return flag

    def _callback(self, pipe, step, timestep, kwargs):
        self.steps_done += 1
        self.progress(min(99, self.steps_done * 100 // self.steps_total))
        if self._stopped():
            pipe._interrupt = True
        return {}

    # ------------------------------------------------------------------ render
    def render(self, req: Request) -> Result:
        m = self.model
        gw, gh = gen_size(m, req.width, req.height)
        fps = m.fps
        if req.mode == "edit":
            if req.source is None or len(req.source) == 0:
                raise ValueError("an edit needs the source's frames")
            total = len(req.source)
        else:
            total = max(1, round(req.seconds * fps))
        first = self._first_role(req)
        if req.mode == "extend":
            if req.source is None or len(req.source) == 0:
                raise ValueError("an extension needs the source's last frames")
            tail = to_uint8(req.source)[-self._overlap(first):]
        else:
            tail = None
        first_prefix = 0 if tail is None else len(tail)
        later = self._continue_role(first) if frame_count(total + first_prefix, m.frame_multiple,
                                                          m.frames_per_pass) < total + first_prefix else first
        passes = plan(total, first_prefix, self._overlap(later), m.frame_multiple, m.frames_per_pass)
        steps = m.steps
        if first == "v2v":  # diffusers runs int(steps * strength) of them, from the noised source
            steps = int(v2v_steps(m.steps, req.strength(m)) * req.strength(m))
        self.steps_total = len(passes) * steps
        self.steps_done = 0

        made: list[np.ndarray] = []
        audio_parts: list[np.ndarray] = []
        sample_rate = None
        count = 0
        audio_frames = 0
        for i, (n, prefix) in enumerate(passes):
            if self._stopped():
                raise Cancelled()
            role = first if i == 0 else later
            if i > 0:
                tail = np.concatenate(made)[-prefix:]
            pipe = self.get_pipe(role)
            kwargs = self._inputs(role, req, i, n, tail if prefix else None, count, gw, gh)
            common = self._common(req, i, n, gw, gh)
            if role == "v2v":
                del common["num_frames"]  # the source video's length is the pass's
            out = pipe(**{**common, **kwargs})  # a role's own inputs win (v2v's schedule)
            if self._stopped():
                raise Cancelled()
            frames = to_uint8(out.frames[0])
            # The i2v pass starts from the given image: its first frame is the previous last
            # frame (dropped as overlap) or, on the first pass, the input reference (kept).
            new = frames[prefix:]
            made.append(new)
            count += len(new)
            audio = getattr(out, "audio", None)
            if audio is not None:
                sample_rate = int(pipe.vocoder.config.output_sampling_rate)
                a = audio[0]
                a = a.float().cpu().numpy() if hasattr(a, "cpu") else np.asarray(a, dtype=np.float32)
                if a.ndim == 1:
                    a = a[None, :]
                # The audio spans the pass's frames: drop the part under the conditioning frames.
                per_frame = a.shape[1] / max(1, len(frames))
                audio_parts.append(a[:, int(round(prefix * per_frame)):])
                audio_frames += len(new)
        video = np.concatenate(made)[:total]
        if len(video) < total:  # a pipeline returned fewer frames than asked: hold the last one
            video = np.concatenate([video, np.repeat(video[-1:], total - len(video), axis=0)])
        audio = None
        if audio_parts:
            audio = np.concatenate(audio_parts, axis=1)
            audio = audio[:, : int(round(audio.shape[1] * min(1.0, total / max(1, audio_frames))))]
        return Result(frames=video, fps=fps, audio=audio, sample_rate=sample_rate, passes=len(passes))

    def _common(self, req: Request, i: int, n: int, gw: int, gh: int) -> dict:
        import torch

        m = self.model
        kw = dict(prompt=req.prompt, negative_prompt=m.negative_prompt, height=gh, width=gw, num_frames=n,
                  num_inference_steps=m.steps, guidance_scale=m.guidance,
                  generator=torch.Generator("cpu").manual_seed((int(req.seed) + i) % (2**63)),
                  output_type="np", callback_on_step_end=self._callback,
                  max_sequence_length=m.max_sequence_length)
        if m.family == "ltx2":
            kw["frame_rate"] = float(m.fps)
        kw.update(m.call_kwargs)
        return kw

    def _inputs(self, role: str, req: Request, i: int, n: int, prefix: np.ndarray | None, made: int,
                gw: int, gh: int) -> dict:
        """The conditioning arguments of pass `i` (n frames, conditioned on `prefix`)."""
        p = 0 if prefix is None else len(prefix)
        if role == "t2v":
            return {}
        if role == "v2v":
            src = to_uint8(req.source)[made: made + n]
            if len(src) < n:  # the last pass may reach past the source's end: hold its last frame
                src = np.concatenate([src, np.repeat(to_uint8(req.source)[-1:], n - len(src), axis=0)])
            strength = req.strength(self.model)
            return {"video": _pil(src), "strength": strength,
                    "num_inference_steps": v2v_steps(self.model.steps, strength)}
        if role == "i2v":
            image = _pil(prefix[-1:])[0] if prefix is not None else req.image
            return {"image": image}
        if role == "condition":
            from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

            if prefix is None:
                if req.image is None:
                    return {}
                return {"conditions": [LTX2VideoCondition(frames=req.image, index=0, strength=1.0)]}
            return {"conditions": [LTX2VideoCondition(frames=_pil(prefix), index=0, strength=1.0)]}
        # vace
        video = _pil(prefix) if prefix is not None else []
        mask = _mask(p, gw, gh, 0)
        rest = n - p
        if i == 0 and prefix is None and req.image is not None:
            video += [req.image] + _grey(rest - 1, gw, gh)
            mask += _mask(1, gw, gh, 0) + _mask(rest - 1, gw, gh, 255)
        else:
            video += _grey(rest, gw, gh)
            mask += _mask(rest, gw, gh, 255)
        kw = {"video": video, "mask": mask}
        if req.references:
            kw["reference_images"] = req.references
        return kw
