"""The multi-GPU worker as a torchrun group (group.py), run here as two CPU ranks over gloo."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import TOKEN, model_tables
from fake_server import FakeNode, job
from kinora_worker.render import Renderer, Request
from kinora_worker.worker import Worker
from test_protocol import make_worker

HERE = Path(__file__).resolve().parent


def torchrun(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(HERE.parent), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_ranks_agree_share_rank_0_and_render_what_one_process_renders(tiny_dirs, host, tmp_path):
    table = model_tables(tiny_dirs, steps=6)["wan-tiny-t2v"]
    run = torchrun(str(HERE / "group_probe.py"), json.dumps(table), str(tmp_path))
    assert run.returncode == 0, run.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank_{r}.json").read_text()) for r in (0, 1)]
    for r in ranks:
        assert r["world"] == 2 and r["parallel"]
        assert r["shared"] == {"from": 0}  # rank 0's message, everywhere
        assert r["agree_none"] is False and r["agree_one"] is True
        # Only rank 0 heard the cancel; every rank stopped at the same step.
        assert r["cancelled"] is True and r["steps"] == 2
    split = [np.load(tmp_path / f"frames_{r}.npy") for r in (0, 1)]
    assert np.array_equal(split[0], split[1])
    # The same request in one process, without context parallelism: the same frames.
    from kinora_worker.config import parse

    cfg = parse({"server": "http://x", "token": TOKEN, "pool": "p", "models": {"m": table}})
    model = cfg.models["m"]
    alone = Renderer(model, lambda role: host.get(model, role)).render(Request("create", "a red robot dances",
                                                                             48, 32, 1.0, 7)).frames
    assert alone.shape == split[0].shape == (8, 32, 48, 3)
    assert np.abs(alone.astype(int) - split[0].astype(int)).max() <= 1


def test_a_torchrun_group_leases_renders_and_uploads_like_one_worker(tiny_dirs, config, host, tmp_path):
    table = {k: v for k, v in model_tables(tiny_dirs)["wan-tiny-t2v"].items()}
    lines = [f'{k} = {json.dumps(v)}' for k, v in table.items()]
    with FakeNode(TOKEN) as node:
        node.push("lease", 200, job(model="wan-tiny-t2v"))
        cfg = tmp_path / "worker.toml"
        cfg.write_text(f'server = "{node.url}"\ntoken = "{TOKEN}"\npool = "tiny"\nname = "group"\n'
                       f'work_dir = "{tmp_path / "work"}"\nwait_seconds = 1\n\n[models."wan-tiny-t2v"]\n'
                       + "\n".join(lines) + "\n")
        run = torchrun(str(HERE / "cpu_group.py"), "--config", str(cfg), "--once")
        assert run.returncode == 0, run.stderr[-4000:]
        assert run.stdout.split()[-1] == "completed"  # rank 0's tick; rank 1 followed, then stopped
        assert len(node.of("register")) == 1 and len(node.of("lease")) == 1  # one worker, not two
        grouped = node.artifacts["video.mp4"]
    with FakeNode(TOKEN) as node:
        node.push("lease", 200, job(model="wan-tiny-t2v"))
        assert make_worker(node, config, host).tick() == "completed"
        alone = node.artifacts["video.mp4"]
    assert grouped == alone, "the group's clip differs from one process's"


def test_a_single_process_worker_has_no_group(config, host):
    w = Worker(dataclasses.replace(config), host=host)
    assert w.group is None
