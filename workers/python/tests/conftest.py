"""Shared fixtures: offline environment, tiny pipelines on disk, a config that points at them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny_models  # noqa: E402
from kinora_worker.config import parse  # noqa: E402
from kinora_worker.pipelines import ModelHost  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
TOKEN = "test-worker-token-0123456789"


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory) -> dict[str, Path]:
    """The tiny pipelines, saved once per session (KINORA_TINY_MODELS keeps them across runs)."""
    root = os.environ.get("KINORA_TINY_MODELS") or tmp_path_factory.mktemp("tiny-models")
    return tiny_models.build(root)


def model_tables(tiny_dirs, steps: int = 2) -> dict:
    common = dict(dtype="float32", device="cpu", steps=steps, max_sequence_length=16)
    return {
        # Wan: 8 fps, 9 frames a pass (4k+1), 3 overlap frames -> a 3 s clip takes 4 passes.
        "wan-tiny": dict(family="wan", t2v=str(tiny_dirs["wan_t2v"]), i2v=str(tiny_dirs["wan22_i2v"]),
                         vace=str(tiny_dirs["wan_vace"]), fps=8, frames_per_pass=9, overlap_frames=3,
                         guidance=5.0, **common),
        "wan-tiny-vace": dict(family="wan", vace=str(tiny_dirs["wan_vace"]), fps=8, frames_per_pass=9,
                              overlap_frames=3, **common),
        "wan-tiny-i2v": dict(family="wan", i2v=str(tiny_dirs["wan22_i2v"]), fps=8, frames_per_pass=9, **common),
        "wan-tiny-t2v": dict(family="wan", t2v=str(tiny_dirs["wan_t2v"]), fps=8, frames_per_pass=9, **common),
        # LTX-2: 8k+1 frames, joint audio.
        "ltx2-tiny": dict(family="ltx2", path=str(tiny_dirs["ltx2"]), fps=8, frames_per_pass=9, overlap_frames=1,
                          guidance=1.0, **common),
    }


@pytest.fixture(scope="session")
def config(tiny_dirs, tmp_path_factory):
    return parse({"server": "http://127.0.0.1:9", "token": TOKEN, "pool": "tiny", "name": "pytest",
                  "work_dir": str(tmp_path_factory.mktemp("work")), "schema": str(REPO / "docs" / "none.json"),
                  "models": model_tables(tiny_dirs)})


@pytest.fixture(scope="session")
def host() -> ModelHost:
    """One host for the session, like one worker process: models load once and stay hot."""
    return ModelHost()
