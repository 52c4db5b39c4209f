"""Run by test_group.py under torchrun (2 ranks, CPU): renders the requests given as JSON (every
mode, `group_modes_probe.request` builds them) split across the ranks, and writes
frames_<rank>_<i>.npy and plans_<rank>.json into the output directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def request(spec: dict):
    """A render request from a JSON spec, its images and source frames made deterministically."""
    from kinora_worker.render import Request

    w, h = spec["w"], spec["h"]
    refs = [Image.new("RGB", (w // 2 + 8 * i, h), (40 * i, 200, 90)) for i in range(spec.get("refs", 0))]
    source = None
    if spec.get("source"):
        source = np.zeros((spec["source"], h, w, 3), np.uint8)
        for i in range(spec["source"]):
            source[i] = (12 * i % 256, 90, 180)
    return Request(spec["mode"], spec["prompt"], w, h, spec["seconds"], spec["seed"], references=refs, source=source)


if __name__ == "__main__":
    from cpu_group import cpu_as_accelerator

    cpu_as_accelerator()
    from kinora_worker.config import parse
    from kinora_worker.group import Group
    from kinora_worker.pipelines import ModelHost
    from kinora_worker.render import Renderer

    table, out_dir, specs = json.loads(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    group = Group.from_env()
    cfg = parse({"server": "http://x", "token": "probe-token-0123456789", "pool": "p", "models": {"m": table}})
    model = cfg.models["m"]
    host = ModelHost(prepare=group.parallelize)
    split = {}
    for i, spec in enumerate(specs):
        res = Renderer(model, lambda role: host.get(model, role), agree=group.agree).render(request(spec))
        np.save(out_dir / f"frames_{group.rank}_{i}.npy", res.frames)
    for role, pipe in host._pipes.items():
        split[role] = getattr(pipe.transformer, "_parallel_config", None) is not None
    (out_dir / f"plans_{group.rank}.json").write_text(json.dumps(split))
    group.close()
