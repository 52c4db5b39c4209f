"""Run by test_group.py under torchrun (2 ranks, CPU): the group's messages and agreement, a
cancel heard by rank 0 only, and a render split across the ranks. Writes rank_<r>.json and
frames_<r>.npy into the directory given as the second argument."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpu_group import cpu_as_accelerator  # noqa: E402

cpu_as_accelerator()

import numpy as np  # noqa: E402

from kinora_worker.config import parse  # noqa: E402
from kinora_worker.group import Group  # noqa: E402
from kinora_worker.pipelines import ModelHost  # noqa: E402
from kinora_worker.render import Cancelled, Renderer, Request  # noqa: E402

table, out_dir = json.loads(sys.argv[1]), Path(sys.argv[2])
group = Group.from_env()
out: dict = {"rank": group.rank, "world": group.world}
out["shared"] = group.share({"from": group.rank})
out["agree_none"] = group.agree(False)
out["agree_one"] = group.agree(group.rank == 1)

cfg = parse({"server": "http://x", "token": "probe-token-0123456789", "pool": "p", "models": {"m": table}})
model = cfg.models["m"]
host = ModelHost(prepare=group.parallelize)
cancel, steps = threading.Event(), []


def progress(p: int) -> None:
    steps.append(p)
    if group.leader and len(steps) == 2:
        cancel.set()  # as rank 0's heartbeat would, while step 2 runs


try:
    Renderer(model, lambda role: host.get(model, role), progress, cancel, group.agree).render(
        Request("create", "x", 48, 32, 1.0, 1))
    out["cancelled"] = False
except Cancelled:
    out["cancelled"] = True
out["steps"] = len(steps)
out["parallel"] = host.get(model, "t2v").transformer._parallel_config is not None

res = Renderer(model, lambda role: host.get(model, role), agree=group.agree).render(
    Request("create", "a red robot dances", 48, 32, 1.0, 7))
np.save(out_dir / f"frames_{group.rank}.npy", res.frames)
(out_dir / f"rank_{group.rank}.json").write_text(json.dumps(out))
group.close()
