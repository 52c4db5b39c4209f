"""The speed-ups of the config on the tiny pipelines: each runs, keeps the output's shape, and
does what it claims (fewer transformer block calls with a cache, fewer weight bytes with fp8
storage, the chosen attention backend, compiled blocks)."""

import numpy as np
import pytest
import torch

from conftest import TOKEN, model_tables
from kinora_worker.config import parse
from kinora_worker.pipelines import ModelHost
from kinora_worker.render import Renderer, Request

REQ = Request("create", "a red robot dances", 48, 32, 1.0, 7)


def model(tiny_dirs, **over):
    table = dict(model_tables(tiny_dirs, steps=8)["wan-tiny-t2v"], **over)
    return parse({"server": "http://x", "token": TOKEN, "pool": "p", "models": {"m": table}}).models["m"]


def run(m, count=True):
    """Renders REQ; returns the frames, how many times transformer blocks' attention ran, and the pipeline."""
    host = ModelHost()
    pipe = host.get(m, "t2v")
    calls = []
    if not count:  # a hook in a compiled block would recompile it at every call
        return Renderer(m, lambda role: host.get(m, role)).render(REQ).frames, None, pipe
    # A projection inside the attention: a cache that skips or predicts the attention skips it too.
    handles = [b.attn1.to_q.register_forward_hook(lambda *a: calls.append(1)) for b in pipe.transformer.blocks]
    try:
        frames = Renderer(m, lambda role: host.get(m, role)).render(REQ).frames
    finally:
        for h in handles:
            h.remove()
    return frames, len(calls), pipe


@pytest.fixture(scope="module")
def baseline(tiny_dirs):
    frames, calls, _ = run(model(tiny_dirs))
    return frames, calls


@pytest.mark.parametrize("cache,extra", [("first_block", {"cache_threshold": 10.0}), ("taylorseer", {})])
def test_a_step_cache_skips_transformer_blocks(tiny_dirs, baseline, cache, extra):
    frames, calls, pipe = run(model(tiny_dirs, cache=cache, **extra))
    assert pipe.transformer.is_cache_enabled
    base_frames, base_calls = baseline
    assert base_calls == 8 * 2 * 2  # 8 steps x (cond + uncond) x 2 blocks
    assert frames.shape == base_frames.shape
    assert calls < base_calls, (cache, calls, base_calls)


def test_fp8_storage_stores_transformer_weights_in_one_byte(tiny_dirs, baseline):
    frames, _, pipe = run(model(tiny_dirs, quantize="fp8_storage"))
    dtypes = {p.dtype for n, p in pipe.transformer.named_parameters() if n.startswith("blocks.")}
    assert torch.float8_e4m3fn in dtypes
    plain = ModelHost().get(model(tiny_dirs), "t2v").transformer
    # The blocks' weights (all but their norms, which stay in fp32), a quarter of fp32's bytes.
    size = lambda tr: sum(p.numel() * p.element_size() for p in tr.blocks.parameters())  # noqa: E731
    assert size(pipe.transformer) < size(plain) / 3
    assert frames.shape == baseline[0].shape
    assert np.isfinite(frames.astype(float)).all()


def test_the_attention_backend_is_the_one_configured(tiny_dirs, baseline):
    frames, _, pipe = run(model(tiny_dirs, attention="_native_math"))
    backends = {getattr(b.attn1.processor, "_attention_backend", None) for b in pipe.transformer.blocks}
    assert {str(getattr(x, "value", x)) for x in backends} == {"_native_math"}
    # The same maths by another kernel: the same frames, to rounding.
    assert np.abs(frames.astype(int) - baseline[0].astype(int)).max() <= 1


def test_regional_compilation_compiles_each_block(tiny_dirs, baseline):
    frames, _, pipe = run(model(tiny_dirs, compile="regional"), count=False)
    assert all(b._compiled_call_impl is not None for b in pipe.transformer.blocks)
    assert np.abs(frames.astype(int) - baseline[0].astype(int)).max() <= 1
