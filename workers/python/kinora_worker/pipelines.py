"""Loading diffusers pipelines from local checkpoint directories, one model kept hot.

Every pipeline is loaded with `from_pretrained(dir, local_files_only=True)`: the worker never
downloads weights; they are the operator's to provide (see README). Roles:

| family | role | pipeline |
|---|---|---|
| wan  | t2v  | `WanPipeline` |
| wan  | v2v  | `WanVideoToVideoPipeline`, sharing the t2v weights (`from_pipe`): edits |
| wan  | i2v  | `WanImageToVideoPipeline` (Wan 2.1 with CLIP, or Wan 2.2 two-expert) |
| wan  | vace | `WanVACEPipeline` (reference images, prefix-frame continuation) |
| ltx2 | t2v  | `LTX2Pipeline` (video + audio) |
| ltx2 | i2v  | `LTX2ImageToVideoPipeline`, sharing the t2v weights (`from_pipe`) |
| ltx2 | condition | `LTX2ConditionPipeline`, sharing the t2v weights (`from_pipe`) |

Wan roles loaded from separate checkpoints share every component whose files are the same
(`memory.component_signature`): the text encoder, tokenizer and VAE of Wan 2.1 T2V, I2V and VACE
are one copy, so t2v + VACE costs one UMT5-XXL.

Only the model of the current job stays loaded: a job for another model unloads the previous one
first (and empties the CUDA cache), so one GPU never holds two models.
"""

from __future__ import annotations

import gc
import logging
import threading
from pathlib import Path

from . import memory, speedups
from .config import ModelConfig

log = logging.getLogger("kinora_worker.pipelines")

# Components two Wan checkpoints may have in common (the transformers never are).
SHAREABLE = ("text_encoder", "tokenizer", "vae", "image_encoder", "image_processor")


class ModelUnavailable(RuntimeError):
    """The job needs a role this model has no checkpoint for (not retryable on this worker)."""


def _classes():
    import diffusers

    return {
        ("wan", "t2v"): diffusers.WanPipeline,
        ("wan", "v2v"): diffusers.WanVideoToVideoPipeline,
        ("wan", "i2v"): diffusers.WanImageToVideoPipeline,
        ("wan", "vace"): diffusers.WanVACEPipeline,
        ("ltx2", "t2v"): diffusers.LTX2Pipeline,
        ("ltx2", "i2v"): diffusers.LTX2ImageToVideoPipeline,
        ("ltx2", "condition"): diffusers.LTX2ConditionPipeline,
    }


# Roles served by another role's weights (`from_pipe`): role -> the role it borrows from.
DERIVED = {("wan", "v2v"): "t2v", ("ltx2", "i2v"): "t2v", ("ltx2", "condition"): "t2v"}


def roles(model: ModelConfig) -> set[str]:
    """The roles a model can serve with the checkpoints it was given."""
    if model.family == "ltx2":
        return {"t2v", "i2v", "condition"}
    have = set(model.dirs)
    return have | ({"v2v"} if "t2v" in have else set())


def checkpoint_dirs(model: ModelConfig) -> dict[str, Path]:
    """The checkpoint directory of each role that is read from disk."""
    if model.family == "ltx2":
        return {"t2v": model.dirs["path"]}
    return dict(model.dirs)


class ModelHost:
    def __init__(self, prepare=None):
        # Applied to each pipeline once loaded: a torchrun group splits its transformer here.
        self._prepare = prepare
        self._model_id: str | None = None
        self._pipes: dict[str, object] = {}
        self._placed: set[int] = set()  # modules already placed by the memory plan
        self._sped: set[int] = set()  # transformers already given their speed-ups
        self._quantized: set[int] = set()
        self._lock = threading.Lock()
        self.plans: dict[str, memory.Choice] = {}  # model id -> its memory plan (worker.py sets them)
        self.loads = 0  # how many times a checkpoint was read from disk (tests check reuse)

    def unload(self) -> None:
        self._pipes.clear()
        self._placed.clear()
        self._sped.clear()
        self._quantized.clear()
        self._model_id = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def get(self, model: ModelConfig, role: str):
        with self._lock:
            if self._model_id != model.id:
                self.unload()
                self._model_id = model.id
            pipe = self._pipes.get(role)
            if pipe is None:
                pipe = self._load(model, role)
                self._pipes[role] = pipe
            return pipe

    def loaded(self) -> list:
        return list(self._pipes.values())

    def resident_bytes(self) -> int:
        """Bytes of weights the loaded pipelines hold, shared components counted once."""
        return memory.resident_bytes(self.loaded())

    def plan(self, model: ModelConfig) -> str:
        if model.id not in self.plans:
            self.plans[model.id] = memory.choose(model)
        return self.plans[model.id].plan

    def _shared(self, model: ModelConfig, path: Path) -> dict:
        """Components of the checkpoint at `path` already loaded by another role of the model."""
        if not model.share_components:
            return {}
        out = {}
        for comp in SHAREABLE:
            if not (path / comp).is_dir():
                continue
            sig = memory.component_signature(path / comp)
            for role, other in self._pipes.items():
                d = checkpoint_dirs(model).get(role)
                if d is not None and (d / comp).is_dir() and getattr(other, comp, None) is not None \
                        and memory.component_signature(d / comp) == sig:
                    out[comp] = getattr(other, comp)
                    break
        return out

    def _load(self, model: ModelConfig, role: str):
        import torch

        if role not in roles(model):
            raise ModelUnavailable(f"model {model.id} has no `{role}` checkpoint configured")
        cls = _classes()[(model.family, role)]
        plan = self.plan(model)
        base_role = DERIVED.get((model.family, role))
        if base_role is not None:
            base = self._pipes.get(base_role) or self._load(model, base_role)
            self._pipes[base_role] = base
            log.info("%s: %s shares the %s weights", model.id, cls.__name__, base_role)
            pipe = cls.from_pipe(base)
            if plan == "model_offload":
                memory.apply(pipe, plan, model.device, set())  # the offload order of this pipeline
        else:
            path = checkpoint_dirs(model)[role]
            dtype = getattr(torch, model.dtype)
            if model.component_dtypes:
                dtype = {"default": dtype, **{k: getattr(torch, v) for k, v in model.component_dtypes.items()}}
            shared = self._shared(model, path)
            log.info("%s: loading %s from %s (%s%s)", model.id, cls.__name__, path, model.dtype,
                     f"; shares {', '.join(shared)}" if shared else "")
            pipe = cls.from_pretrained(str(path), local_files_only=True, dtype=dtype, **shared)
            self.loads += 1
            speedups.before_placement(pipe, model, self._quantized)
            self._quantized.update(id(t) for t in speedups.transformers(pipe))
            if plan == "model_offload":
                # Offload hooks chain one pipeline's components in its own order: every
                # pipeline sets up its own, shared components included.
                memory.apply(pipe, plan, model.device, set())
                self._placed.update(id(m) for m in pipe.components.values())
            else:
                memory.apply(pipe, plan, model.device, self._placed)
        pipe.set_progress_bar_config(disable=True)
        if self._prepare is not None:
            self._prepare(pipe)  # context parallelism first: compilation then sees its hooks
        speedups.after_placement(pipe, model, self._sped)
        return pipe
