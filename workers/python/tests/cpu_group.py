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


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    cpu_as_accelerator()
    from kinora_worker.__main__ import main

    sys.exit(main(sys.argv[1:]))
