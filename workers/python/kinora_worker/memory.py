"""How a model's weights sit in memory: sizes read from the checkpoints without loading them, the
memory plan (`memory` in the config), and the resident set of loaded pipelines.

Plans, fastest first (what `auto` tries in this order):
- `resident`: every component on the device (`pipe.to(device)`).
- `model_offload`: components wait in host memory; the one running moves to the device
  (`enable_model_cpu_offload`); the device holds the largest component at a time.
- `group_offload`: block-level group offloading (`enable_group_offload`, one transformer block a
  group, prefetched on a CUDA stream): the device holds a few blocks at a time.
- `sequential_offload`: every leaf module moves in for its own forward (leaf-level group
  offloading): the least device memory, the slowest.

The sizes are estimates: weights from the safetensors headers (element counts times the dtype the
worker loads them in), plus `memory_headroom_gb` for activations, which depend on the job's size.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("kinora_worker.memory")

PLANS = ("resident", "model_offload", "group_offload", "sequential_offload")
GIB = 1024**3
_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# Components that are models (weights); the rest are tokenizers, schedulers, processors.
_SKIP_DIRS = {"tokenizer", "tokenizer_2", "scheduler", "image_processor", "feature_extractor"}


class MemoryPlanError(RuntimeError):
    """No plan fits the device (or host) memory: the model cannot be served here."""


def _safetensors_header(path: Path) -> dict:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


def component_numels(pipeline_dir: Path) -> dict[str, int]:
    """Parameter (and buffer) element counts per weight component of a diffusers checkpoint."""
    out: dict[str, int] = {}
    for sub in sorted(p for p in Path(pipeline_dir).iterdir() if p.is_dir() and p.name not in _SKIP_DIRS):
        total = 0
        for f in sub.glob("*.safetensors"):
            for name, meta in _safetensors_header(f).items():
                if name != "__metadata__":
                    n = 1
                    for d in meta["shape"]:
                        n *= d
                    total += n
        if total:
            out[sub.name] = total
    return out


def component_signature(comp_dir: Path) -> str:
    """Identifies a component's files without reading gigabytes: small files whole, each
    safetensors file by its size and header (tensor names, shapes, dtypes, offsets)."""
    h = hashlib.sha256()
    for f in sorted(p for p in Path(comp_dir).rglob("*") if p.is_file()):
        h.update(str(f.relative_to(comp_dir)).encode())
        size = f.stat().st_size
        h.update(str(size).encode())
        if f.suffix == ".safetensors":
            with open(f, "rb") as fh:
                n = struct.unpack("<Q", fh.read(8))[0]
                h.update(fh.read(n))
                # A sample of the tensor data too, so two checkpoints with equal layouts but
                # different weights are told apart.
                fh.seek(max(8 + n, size - (1 << 20)))
                h.update(fh.read(1 << 20))
        elif size <= (4 << 20):
            h.update(f.read_bytes())
    return h.hexdigest()


def dtype_bytes(model, component: str) -> float:
    if component == "transformer" or component == "transformer_2":
        if getattr(model, "quantize", "off") == "fp8_storage":
            return 1
    return _BYTES[model.component_dtypes.get(component, model.dtype)]


@dataclass
class Footprint:
    """A model's weights by component (shared components counted once), in bytes."""
    components: dict[str, int]  # "<role or shared>/<component>" -> bytes
    layers: int  # the transformer's block count (group offload moves one at a time)

    @property
    def total(self) -> int:
        return sum(self.components.values())

    @property
    def largest(self) -> int:
        return max(self.components.values(), default=0)


def footprint(model, roles=None) -> Footprint:
    """The weights the configured roles of `model` (or those of `roles`) keep loaded, from the
    checkpoint headers."""
    from .pipelines import checkpoint_dirs

    seen: dict[str, str] = {}
    comps: dict[str, int] = {}
    layers = 1
    for role, d in checkpoint_dirs(model).items():
        if roles is not None and role not in roles:
            continue
        for comp, numel in component_numels(d).items():
            sig = component_signature(d / comp) if model.share_components else f"{role}/{comp}"
            if sig in seen:
                continue
            seen[sig] = comp
            comps[f"{role}/{comp}"] = int(numel * dtype_bytes(model, comp))
            if comp.startswith("transformer"):
                cfg = json.loads((d / comp / "config.json").read_text())
                layers = max(layers, int(cfg.get("num_layers", 1)))
    return Footprint(comps, layers)


def need(plan: str, fp: Footprint, headroom: int) -> int:
    """Device bytes a plan needs for this footprint."""
    if plan == "resident":
        return fp.total + headroom
    if plan == "model_offload":
        return fp.largest + headroom
    block = fp.largest // max(1, fp.layers)
    if plan == "group_offload":
        return 2 * block + headroom  # one block running, the next prefetched
    return block + headroom


def device_free(device: str) -> int:
    """Free bytes on the device (host memory for `cpu`)."""
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise MemoryPlanError(f"device {device!r} is configured but no CUDA device is visible. Fix: check the "
                                  f"driver and CUDA_VISIBLE_DEVICES, or set `device = \"cpu\"`")
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    return host_available()


def host_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


@dataclass
class Choice:
    plan: str
    weights: int  # bytes of weights
    need: int  # device bytes the plan needs
    available: int  # device bytes it may use

    def describe(self) -> str:
        return (f"memory plan {self.plan}: weights {size(self.weights)}, needs ~{size(self.need)} "
                f"of {size(self.available)} available")


def choose(model, free: int | None = None, host: int | None = None) -> Choice:
    """The plan for `model`: the configured one, or under `auto` the fastest that fits.

    Raises MemoryPlanError when the configured plan (or, under `auto`, every plan) does not fit.
    """
    fp = footprint(model)
    headroom = int(model.memory_headroom_gb * GIB)
    available = free if free is not None else device_free(model.device)
    if model.memory_budget_gb is not None:
        available = min(available, int(model.memory_budget_gb * GIB))
    on_host = model.device == "cpu"
    host_free = host if host is not None else (available if on_host else host_available())
    candidates = PLANS if model.memory == "auto" else (model.memory,)
    tried = []
    for plan in candidates:
        n = need(plan, fp, headroom)
        # Offloaded weights wait in host memory: all of them must fit there.
        host_ok = plan == "resident" or on_host or fp.total <= host_free
        if n <= available and host_ok:
            c = Choice(plan, fp.total, n, available)
            log.info("%s: %s%s", model.id, c.describe(), " (auto)" if model.memory == "auto" else "")
            return c
        tried.append(f"{plan} needs ~{size(n)}" + ("" if host_ok else f" and {size(fp.total)} of host memory"))
    raise MemoryPlanError(
        f"model {model.id} does not fit: weights {size(fp.total)} ({model.dtype}); {', '.join(tried)}; "
        f"{size(available)} of {model.device} memory available (host {size(host_free)}). Fix: a smaller checkpoint or dtype, `quantize = \"fp8_storage\"`, "
        f"fewer roles, a larger card" + ("" if model.memory == "auto" else ", or `memory = \"auto\"`"))


def resident_bytes(pipes) -> int:
    """Bytes of the weights (state dicts) held by loaded pipelines, each tensor counted once:
    components shared between roles are one object, tied weights one tensor."""
    import torch

    seen: set[int] = set()
    total = 0
    for pipe in pipes:
        for comp in pipe.components.values():
            if not isinstance(comp, torch.nn.Module):
                continue
            for t in comp.state_dict(keep_vars=True).values():
                if id(t) in seen:
                    continue
                seen.add(id(t))
                total += t.numel() * t.element_size()
    return total


def size(n: float) -> str:
    return f"{n / GIB:.1f} GiB" if n >= GIB / 10 else f"{n / 2**20:.1f} MiB"


def apply(pipe, plan: str, device: str, prepared: set[int]) -> None:
    """Puts a loaded pipeline's components where `plan` says. `prepared` holds the ids of modules
    already placed (components shared with a role loaded earlier keep their placement)."""
    import torch

    modules = {k: v for k, v in pipe.components.items() if isinstance(v, torch.nn.Module)}
    fresh = {k: v for k, v in modules.items() if id(v) not in prepared}
    if plan == "resident":
        for m in fresh.values():
            m.to(device)
    elif plan == "model_offload":
        pipe.enable_model_cpu_offload(device=device)
    elif plan in ("group_offload", "sequential_offload"):
        from diffusers.hooks import apply_group_offloading

        # sequential_offload is leaf-level group offloading: each leaf module moves in for its
        # own forward, like enable_sequential_cpu_offload, whose accelerate hooks fail on
        # transformers 5's text encoders (accelerate 1.15 rebuilds their parameters wrongly).
        cuda = device.startswith("cuda")
        level = {"offload_type": "block_level", "num_blocks_per_group": 1} if plan == "group_offload" \
            else {"offload_type": "leaf_level"}
        for m in fresh.values():
            apply_group_offloading(m, onload_device=torch.device(device), use_stream=cuda, **level)
    else:
        raise ValueError(f"unknown memory plan {plan!r}")
    if plan in ("group_offload", "sequential_offload"):
        # The VAE decodes the whole clip at once; tiles keep its activations small where the
        # weights were squeezed too (tiling can leave faint seams: the faster plans do without).
        vae = getattr(pipe, "vae", None)
        if vae is not None and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
    prepared.update(id(m) for m in modules.values())
