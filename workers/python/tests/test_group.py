"""The multi-GPU worker as a torchrun group (group.py), run here as two CPU ranks over gloo."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import TOKEN, model_tables
from fake_server import FakeNode, job
import pytest

from kinora_worker.group import RENDER, GroupBroken
from kinora_worker.render import Renderer, Request
from kinora_worker.worker import Worker
from test_protocol import make_worker

HERE = Path(__file__).resolve().parent


def torchrun(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    # C++ stack traces: a rank once aborted at teardown ("terminate called without an active
    # exception", 1 run in 50); if it comes back, the failure's stderr shows where.
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(HERE.parent), HF_HUB_OFFLINE="1",
               TORCH_SHOW_CPP_STACKTRACES="1", **(env or {}))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    # Its own session, so a group that hangs is killed whole (the ranks too), not left behind.
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


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


def group_config(tiny_dirs, tmp_path, server: str) -> Path:
    table = model_tables(tiny_dirs, steps=4)["wan-tiny-t2v"]
    lines = [f'{k} = {json.dumps(v)}' for k, v in table.items()]
    cfg = tmp_path / "worker.toml"
    cfg.write_text(f'server = "{server}"\ntoken = "{TOKEN}"\npool = "tiny"\nname = "group"\n'
                   f'work_dir = "{tmp_path / "work"}"\nwait_seconds = 1\n\n[models."wan-tiny-t2v"]\n'
                   + "\n".join(lines) + "\n")
    return cfg


def test_rank_0_failing_mid_render_hands_the_job_back_and_stops_the_group(tiny_dirs, tmp_path):
    """Rank 0 fails at step 2 while rank 1 waits in that step's collective: rank 0 reports the job
    (retryable) and exits, instead of leasing on and waiting for hours in its next `share`."""
    with FakeNode(TOKEN) as node:
        node.push("lease", 200, job(model="wan-tiny-t2v"))
        node.push("fail", 200, {"outcome": "requeued"})
        cfg = group_config(tiny_dirs, tmp_path, node.url)
        # Not --once: the loop itself must end. Before the fix it leased again and hung.
        run = torchrun(str(HERE / "cpu_group.py"), "--config", str(cfg), timeout=120,
                       env={"KINORA_TEST_RANK_0_FAILS_AT_STEP": "2"})
        assert run.returncode != 0, run.stderr[-4000:]
        assert "exiting so torchrun stops the group" in run.stderr
        fail = node.of("fail")
        assert len(fail) == 1 and fail[0]["json"]["retryable"] is True
        assert fail[0]["json"]["code"] == "worker_error" and "out of memory" in fail[0]["json"]["message"]
        assert len(node.of("lease")) == 1  # no job leased after the failure
        assert not node.of("complete") and not node.of("artifacts")


class FakeGroup:
    """Rank 0's view of a group: records what it shares; no other rank."""

    world = 2

    def __init__(self):
        self.shared = []

    def share(self, message=None):
        self.shared.append(message)
        return message

    def agree(self, flag: bool) -> bool:
        return flag

    def parallelize(self, pipe) -> None:
        pass


class BrokenHost:
    """Loads the real pipelines, whose every call fails as a CUDA error would, mid-render."""

    def __init__(self, host):
        self.host = host
        self.plans = host.plans

    def get(self, model, role):
        pipe = self.host.get(model, role)

        def call(**kw):
            kw["callback_on_step_end"](pipe, 0, 0, {})  # one step's collective, then the error
            raise RuntimeError("CUDA error: an illegal memory access was encountered")

        return call

    def unload(self):
        pass


@pytest.mark.parametrize("fail_answers", [[], [500] * 4])
def test_rank_0_exits_after_a_render_error_in_a_group(config, host, fail_answers):
    with FakeNode(TOKEN) as node:
        node.push("lease", 200, job(model="wan-tiny-t2v"))
        for status in fail_answers:  # `fail` itself may not get through: the group still exits
            node.push("fail", status, {"error": {"message": "down"}})
        w = make_worker(node, config, host)
        w.group, w.host = FakeGroup(), BrokenHost(host)
        with pytest.raises(GroupBroken, match="illegal memory access"):
            w.tick()  # out of run()'s loop too; __main__ then exits non-zero, skipping the STOP
        assert [m[0] for m in w.group.shared] == [RENDER]  # no `share` after the failure
        fail = node.of("fail")[0]["json"]
        assert fail["code"] == "worker_error" and fail["retryable"] is True
        assert len(node.of("lease")) == 1


def test_a_stop_in_a_group_is_agreed_and_hands_the_job_back(config, host):
    """Rank 0's stop reaches the other ranks through `agree` like a cancel, but the job goes back
    to the queue (`worker_stopping`), not ends as cancelled by the user."""
    with FakeNode(TOKEN) as node:
        node.push("lease", 200, job(model="wan-tiny-t2v"))
        node.push("fail", 200, {"outcome": "requeued"})
        w = make_worker(node, config, host)
        w.group = FakeGroup()
        agreed = []
        w.group.agree = lambda flag: agreed.append(flag) or flag

        class StopAtFirstStep(list):
            def append(self, p):
                super().append(p)
                w.stop.set()

        w.last_progress = StopAtFirstStep()
        assert w.tick() == "requeued"  # no GroupBroken: every rank stopped at the same check
        assert agreed[-1] is True
        fail = node.of("fail")[0]["json"]
        assert fail["code"] == "worker_stopping" and fail["retryable"] is True


def test_errors_raised_alike_on_every_rank_keep_the_group_running(config, host):
    with FakeNode(TOKEN) as node:
        # 3 s with only a t2v checkpoint cannot be chained: refused before any collective.
        node.push("lease", 200, job(model="wan-tiny-t2v", seconds=3))
        w = make_worker(node, config, host)
        w.group = FakeGroup()
        assert w.tick() == "failed"
        assert node.of("fail")[0]["json"]["code"] == "unsupported"


def test_a_single_process_worker_reports_a_render_error_and_goes_on(config, host):
    with FakeNode(TOKEN) as node:
        node.push("lease", 200, job(model="wan-tiny-t2v"))
        w = make_worker(node, config, host)
        w.host = BrokenHost(host)
        assert w.tick() == "failed"
        fail = node.of("fail")[0]["json"]
        assert fail["code"] == "worker_error" and fail["retryable"] is True
        assert w.tick() == "idle"


def test_a_single_process_worker_has_no_group(config, host):
    w = Worker(dataclasses.replace(config), host=host)
    assert w.group is None


def test_characters_extension_and_edit_in_a_group_render_what_one_process_renders(tiny_dirs, host, tmp_path):
    """VACE (characters, extension) runs context-parallel with the worker's plan for its
    transformer; edits (WanVideoToVideoPipeline) with Wan's own."""
    from group_modes_probe import request
    from kinora_worker.config import parse

    table = model_tables(tiny_dirs, steps=3)["wan-tiny"]
    specs = [dict(mode="create", prompt="two friends", w=48, h=32, seconds=1.0, seed=3, refs=2),
             dict(mode="extend", prompt="keep walking", w=48, h=32, seconds=1.0, seed=4, source=8),
             dict(mode="edit", prompt="make it snowy", w=48, h=32, seconds=1.0, seed=5, source=8)]
    run = torchrun(str(HERE / "group_modes_probe.py"), json.dumps(table), str(tmp_path), json.dumps(specs))
    assert run.returncode == 0, run.stderr[-4000:]
    for r in (0, 1):
        assert json.loads((tmp_path / f"plans_{r}.json").read_text()) == {"vace": True, "t2v": True, "v2v": True}
    cfg = parse({"server": "http://x", "token": TOKEN, "pool": "p", "models": {"m": table}})
    model = cfg.models["m"]
    for i, spec in enumerate(specs):
        split = [np.load(tmp_path / f"frames_{r}_{i}.npy") for r in (0, 1)]
        assert np.array_equal(split[0], split[1])
        alone = Renderer(model, lambda role: host.get(model, role)).render(request(spec)).frames
        assert alone.shape == split[0].shape == (8, 32, 48, 3), spec["mode"]
        assert np.abs(alone.astype(int) - split[0].astype(int)).max() <= 1, spec["mode"]
