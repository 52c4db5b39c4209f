"""Loading diffusers pipelines from local checkpoint directories, one model kept hot.

Every pipeline is loaded with `from_pretrained(dir, local_files_only=True)`: the worker never
downloads weights; they are the operator's to provide (see README). Roles:

| family | role | pipeline |
|---|---|---|
| wan  | t2v  | `WanPipeline` |
| wan  | i2v  | `WanImageToVideoPipeline` (Wan 2.1 with CLIP, or Wan 2.2 two-expert) |
| wan  | vace | `WanVACEPipeline` (reference images, prefix-frame continuation, edits) |
| ltx2 | t2v  | `LTX2Pipeline` (video + audio) |
| ltx2 | i2v  | `LTX2ImageToVideoPipeline`, sharing the t2v weights (`from_pipe`) |
| ltx2 | condition | `LTX2ConditionPipeline`, sharing the t2v weights (`from_pipe`) |

Only the model of the current job stays loaded: a job for another model unloads the previous one
first (and empties the CUDA cache), so one GPU never holds two models.
"""

from __future__ import annotations

import gc
import logging
import threading

from .config import ModelConfig

log = logging.getLogger("kinora_worker.pipelines")


class ModelUnavailable(RuntimeError):
    """The job needs a role this model has no checkpoint for (not retryable on this worker)."""


def _classes():
    import diffusers

    return {
        ("wan", "t2v"): diffusers.WanPipeline,
        ("wan", "i2v"): diffusers.WanImageToVideoPipeline,
        ("wan", "vace"): diffusers.WanVACEPipeline,
        ("ltx2", "t2v"): diffusers.LTX2Pipeline,
        ("ltx2", "i2v"): diffusers.LTX2ImageToVideoPipeline,
        ("ltx2", "condition"): diffusers.LTX2ConditionPipeline,
    }


def roles(model: ModelConfig) -> set[str]:
    """The roles a model can serve with the checkpoints it was given."""
    if model.family == "ltx2":
        return {"t2v", "i2v", "condition"}
    return set(model.dirs)


class ModelHost:
    def __init__(self, prepare=None):
        # Applied to each pipeline once loaded: a torchrun group splits its transformer here.
        self._prepare = prepare
        self._model_id: str | None = None
        self._pipes: dict[str, object] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times a checkpoint was read from disk (tests check reuse)

    def unload(self) -> None:
        self._pipes.clear()
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

    def _load(self, model: ModelConfig, role: str):
        import torch

        if role not in roles(model):
            raise ModelUnavailable(f"model {model.id} has no `{role}` checkpoint configured")
        cls = _classes()[(model.family, role)]
        if model.family == "ltx2" and role != "t2v":
            base = self._pipes.get("t2v") or self._load(model, "t2v")
            self._pipes["t2v"] = base
            log.info("%s: %s shares the LTX-2 weights", model.id, cls.__name__)
            pipe = cls.from_pipe(base)
        else:
            path = model.dirs["path" if model.family == "ltx2" else role]
            dtype = getattr(torch, model.dtype)
            if model.component_dtypes:
                dtype = {"default": dtype, **{k: getattr(torch, v) for k, v in model.component_dtypes.items()}}
            log.info("%s: loading %s from %s (%s)", model.id, cls.__name__, path, model.dtype)
            pipe = cls.from_pretrained(str(path), local_files_only=True, dtype=dtype)
            self.loads += 1
            if model.cpu_offload and model.device.startswith("cuda"):
                pipe.enable_model_cpu_offload(device=model.device)
            else:
                pipe.to(model.device)
        pipe.set_progress_bar_config(disable=True)
        if self._prepare is not None:
            self._prepare(pipe)
        return pipe
