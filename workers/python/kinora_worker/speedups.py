"""Speed-ups diffusers 0.42.1 ships, switched on per model in the config (all off by default: none
has been measured on a GPU here yet; `bench/gpu_bench.py` measures them).

- `cache = "first_block"`: First Block Cache (`diffusers.hooks.FirstBlockCacheConfig`): when the
  first block's residual barely changes from the previous step, the other blocks are skipped and
  their cached residual reused. `cache_threshold` trades quality for speed.
- `cache = "taylorseer"`: TaylorSeer (`TaylorSeerCacheConfig`): full steps at an interval, the
  steps between predicted by a Taylor expansion of the blocks' outputs.
- `compile = "regional"`: `compile_repeated_blocks()` compiles the transformer block class once
  and reuses it for every block (seconds, not minutes, of compilation); `"full"`: `torch.compile`
  of the whole transformer.
- `attention = "<backend>"`: `set_attention_backend` (e.g. `flash`, `_flash_3`, `sage`,
  `_native_cudnn`); the backend's package must be installed.
- `quantize = "fp8_storage"`: `enable_layerwise_casting(storage_dtype=float8_e4m3fn)`: the
  transformer's weights are stored in FP8 (half of bf16) and cast up layer by layer for compute.
"""

from __future__ import annotations

import logging

log = logging.getLogger("kinora_worker.speedups")

TRANSFORMERS = ("transformer", "transformer_2")
# The block submodules whose outputs TaylorSeer predicts. Its default patterns (`^blocks.*attn`,
# matched whole) name no module of Wan's blocks (`attn1`, `attn2`, `ffn`), so it would do nothing.
TAYLORSEER_MODULES = r"^(blocks|transformer_blocks)\.\d+\.(attn\d*|audio_attn\d*|ffn?|audio_ff)$"


def transformers(pipe) -> list:
    return [t for t in (getattr(pipe, n, None) for n in TRANSFORMERS) if t is not None]


def before_placement(pipe, model, done: set[int]) -> None:
    """What changes the weights themselves: applied once per transformer, before it is placed."""
    import torch

    if model.quantize != "fp8_storage":
        return
    compute = getattr(torch, model.dtype)
    for tr in transformers(pipe):
        if id(tr) in done:
            continue
        tr.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute)
        log.info("%s: %s weights stored in fp8", model.id, type(tr).__name__)


def after_placement(pipe, model, done: set[int]) -> None:
    """Caches, attention backend and compilation: once per transformer, on the device."""
    for tr in transformers(pipe):
        if id(tr) in done:
            continue
        done.add(id(tr))
        if model.attention:
            tr.set_attention_backend(model.attention)
        if model.cache != "off":
            from diffusers.hooks import FirstBlockCacheConfig, TaylorSeerCacheConfig

            config = (FirstBlockCacheConfig(threshold=model.cache_threshold) if model.cache == "first_block"
                      else TaylorSeerCacheConfig(cache_identifiers=[TAYLORSEER_MODULES]))
            tr.enable_cache(config)
        if model.compile == "regional":
            tr.compile_repeated_blocks(fullgraph=True)
        elif model.compile == "full":
            tr.compile(fullgraph=True)
        if model.attention or model.cache != "off" or model.compile != "off":
            log.info("%s: %s attention=%s cache=%s compile=%s", model.id, type(tr).__name__,
                     model.attention or "default", model.cache, model.compile)
