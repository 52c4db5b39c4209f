"""Shared components, the resident set and the memory plans, on the tiny pipelines (CPU)."""

import numpy as np
import pytest
import torch

from conftest import TOKEN, model_tables
from kinora_worker import memory
from kinora_worker.config import parse
from kinora_worker.pipelines import ModelHost
from kinora_worker.render import Renderer, Request


def model(tiny_dirs, name="wan-tiny", **over):
    table = dict(model_tables(tiny_dirs)[name], **over)
    return parse({"server": "http://x", "token": TOKEN, "pool": "p", "models": {"m": table}}).models["m"]


def render(m, host, req=None):
    req = req or Request("create", "a red robot dances", 48, 32, 2.0, 7)  # t2v, then VACE passes
    return Renderer(m, lambda role: host.get(m, role)).render(req)


def test_roles_share_one_text_encoder_tokenizer_and_vae(tiny_dirs):
    m = model(tiny_dirs)
    host = ModelHost()
    t2v, vace, i2v = (host.get(m, r) for r in ("t2v", "vace", "i2v"))
    for comp in ("text_encoder", "tokenizer", "vae"):
        assert getattr(t2v, comp) is getattr(vace, comp) is getattr(i2v, comp), comp
    assert t2v.transformer is not vace.transformer and host.loads == 3
    # The resident set counts each shared tensor once and is what the checkpoint headers predict.
    assert host.resident_bytes() == memory.footprint(m).total
    alone = ModelHost()
    unshared = model(tiny_dirs, share_components=False)
    for r in ("t2v", "vace", "i2v"):
        alone.get(unshared, r)
    assert alone.get(unshared, "t2v").text_encoder is not alone.get(unshared, "vace").text_encoder
    # Unshared, the I2V and VACE roles each hold their own text encoder and VAE as well.
    fp = memory.footprint(m).components
    assert alone.resident_bytes() - host.resident_bytes() == 2 * (fp["t2v/text_encoder"] + fp["t2v/vae"])
    assert memory.footprint(unshared).total == alone.resident_bytes()


def test_the_footprint_of_loaded_roles_matches_what_is_resident(tiny_dirs):
    m = model(tiny_dirs)
    host = ModelHost()
    render(m, host)
    assert set(host._pipes) == {"t2v", "vace"}
    assert host.resident_bytes() == memory.footprint(m, {"t2v", "vace"}).total


@pytest.mark.parametrize("plan", ["model_offload", "group_offload", "sequential_offload"])
def test_every_memory_plan_loads_and_renders_the_same_frames(tiny_dirs, host, plan):
    base = render(model(tiny_dirs, memory="resident"), host).frames
    h = ModelHost()
    m = model(tiny_dirs, memory=plan)
    frames = render(m, h).frames
    assert h.plans["m"].plan == plan
    assert frames.shape == base.shape == (16, 32, 48, 3)
    assert np.abs(frames.astype(int) - base.astype(int)).max() <= 1
    if plan != "model_offload":  # the VAE decodes in tiles where memory is tightest
        assert h.get(m, "t2v").vae.use_tiling


def test_auto_picks_the_fastest_plan_that_fits(tiny_dirs):
    m = model(tiny_dirs, memory_headroom_gb=0)
    fp = memory.footprint(m)
    big = 1 << 40
    assert memory.choose(m, free=fp.total, host=big).plan == "resident"
    assert memory.choose(m, free=fp.total - 1, host=big).plan == "model_offload"
    assert memory.choose(m, free=fp.largest - 1, host=big).plan == "group_offload"
    block = fp.largest // fp.layers
    assert memory.choose(m, free=2 * block - 1, host=big).plan == "sequential_offload"
    # Offloading to a GPU needs the whole model in host memory.
    gpu = model(tiny_dirs, memory_headroom_gb=0, device="cuda")
    assert memory.choose(gpu, free=fp.total - 1, host=fp.total).plan == "model_offload"
    with pytest.raises(memory.MemoryPlanError) as e:
        memory.choose(gpu, free=fp.total - 1, host=fp.total - 1)
    assert "host memory" in str(e.value)
    with pytest.raises(memory.MemoryPlanError) as e:
        memory.choose(m, free=block - 1, host=big)
    assert "does not fit" in str(e.value) and "sequential_offload needs" in str(e.value)
    # A configured plan is checked, not replaced.
    fixed = model(tiny_dirs, memory="resident", memory_headroom_gb=0)
    with pytest.raises(memory.MemoryPlanError):
        memory.choose(fixed, free=fp.total - 1, host=big)
    # The budget caps what the device offers.
    capped = model(tiny_dirs, memory_headroom_gb=0, memory_budget_gb=(fp.total - 1) / memory.GIB)
    assert memory.choose(capped, free=big, host=big).plan == "model_offload"


def test_fp8_storage_halves_what_the_plan_counts_for_transformers(tiny_dirs):
    m = model(tiny_dirs, quantize="fp8_storage")
    plain = memory.footprint(model(tiny_dirs))
    fp8 = memory.footprint(m)
    assert fp8.components["t2v/transformer"] * 4 == plain.components["t2v/transformer"]  # fp32 -> 1 byte
    assert fp8.components["t2v/text_encoder"] == plain.components["t2v/text_encoder"]


def test_a_gpu_model_on_a_machine_without_one_is_refused_clearly(tiny_dirs):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(memory.MemoryPlanError, match="no CUDA device is visible"):
        memory.choose(model(tiny_dirs, device="cuda"))
