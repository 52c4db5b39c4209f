"""torchrun entry point for the tests: the worker's torchrun group (group.py) on CPUs, over gloo.

diffusers takes the device for context parallelism from the accelerator, and a machine without
one has none; here the CPU stands in. A test rig only: real groups run on GPUs over NCCL.
"""

from __future__ import annotations

import sys
from pathlib import Path


def cpu_as_accelerator() -> None:
    import torch

    torch.accelerator.device_count = lambda: 1
    torch._C._get_accelerator = lambda: torch.device("cpu")
    torch.set_num_threads(1)


def rank_0_fails_at_step(step: int) -> None:
    """Rank 0's render raises at denoising step `step`, while the other ranks carry on into that
    step's collective: what a CUDA out-of-memory error on one GPU does."""
    from kinora_worker.render import Renderer

    real = Renderer._callback

    def callback(self, pipe, i, t, kwargs):
        if self.steps_done + 1 == step:
            raise RuntimeError("CUDA out of memory (simulated on rank 0)")
        return real(self, pipe, i, t, kwargs)

    Renderer._callback = callback


if __name__ == "__main__":
    import os

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    cpu_as_accelerator()
    if os.environ.get("KINORA_TEST_RANK_0_FAILS_AT_STEP") and os.environ.get("RANK") == "0":
        rank_0_fails_at_step(int(os.environ["KINORA_TEST_RANK_0_FAILS_AT_STEP"]))
    from kinora_worker.__main__ import main

    sys.exit(main(sys.argv[1:]))
