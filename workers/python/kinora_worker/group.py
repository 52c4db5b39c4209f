"""A multi-GPU worker: one `torchrun` group, rank 0 speaking the protocol.

    torchrun --nproc_per_node 8 -m kinora_worker --config worker.toml

Rank 0 is an ordinary worker (register, lease, heartbeat, upload, complete). For every request it
renders, it first shares the request with the other ranks; then every rank runs the same
pipeline call together, the transformer's attention split across the group by diffusers' context
parallelism (Ulysses or ring, `parallel` in the config). Each pipeline call is therefore the same
on every rank and gives the same frames; only rank 0 encodes and uploads them.

Every rank takes the same decisions at the same points: cancellation, which only rank 0 hears
(from its heartbeat), is agreed at each check with an all-reduce, so no rank is left waiting in a
collective for one that stopped. A rank that fails mid-render exits; torchrun then stops the
whole group (restart it with `--max-restarts`). Rank 0 first hands the job back (`fail`,
retryable), so another worker takes it at once; a follower that fails leaves the job's lease to
lapse. Errors every rank raises alike, before any collective or at an agreed cancel (`in_step`),
leave the group in step and running.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

log = logging.getLogger("kinora_worker.group")

# Rank 0 may spend minutes between two collectives (a long-poll, an encode and upload, a model
# load), while the others wait in the next one: the default 10 min would abort them.
COLLECTIVE_TIMEOUT = timedelta(hours=2)
IDLE, STOP, RENDER = "idle", "stop", "render"


class Group:
    def __init__(self, parallel: str = "ulysses"):
        import torch
        import torch.distributed as dist

        self.dist = dist
        self.rank = int(os.environ["RANK"])
        self.world = int(os.environ["WORLD_SIZE"])
        self.local_rank = int(os.environ.get("LOCAL_RANK", self.rank))
        self.cuda = torch.cuda.is_available()
        if self.cuda:
            torch.cuda.set_device(self.local_rank)
        self.device = torch.device("cuda", self.local_rank) if self.cuda else torch.device("cpu")
        dist.init_process_group("nccl" if self.cuda else "gloo", timeout=COLLECTIVE_TIMEOUT)
        self.parallel = parallel
        log.info("rank %d of %d on %s (%s attention)", self.rank, self.world, self.device, parallel)

    @staticmethod
    def from_env(parallel: str = "ulysses") -> Group | None:
        """The group torchrun started this process in; None for a plain single-process worker."""
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return None
        return Group(parallel)

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def device_for(self, configured: str) -> str:
        """Each rank drives its own GPU, whatever one device the config names."""
        return str(self.device) if configured.startswith("cuda") and self.cuda else configured

    # ------------------------------------------------------------------ messages from rank 0
    def share(self, message=None):
        """Rank 0's `message`, on every rank (the others pass nothing and wait for it)."""
        box = [message if self.leader else None]
        self.dist.broadcast_object_list(box, src=0, device=self.device if self.cuda else None)
        return box[0]

    def agree(self, flag: bool) -> bool:
        """True on every rank when any rank passes True (rank 0's cancel flag)."""
        import torch

        t = torch.tensor([1 if flag else 0], device=self.device)
        self.dist.all_reduce(t, op=self.dist.ReduceOp.MAX)
        return bool(t.item())

    # ------------------------------------------------------------------ pipelines
    def parallelize(self, pipe) -> None:
        """Splits the pipeline's transformer(s) across the group (once per loaded weights)."""
        from diffusers import ContextParallelConfig

        for name in ("transformer", "transformer_2"):  # Wan 2.2 has two experts
            tr = getattr(pipe, name, None)
            if tr is None or getattr(tr, "_parallel_config", None) is not None:
                continue
            degree = {"ulysses_degree": self.world} if self.parallel == "ulysses" else {"ring_degree": self.world}
            plan = None if getattr(tr, "_cp_plan", None) else cp_plan_for(tr)
            tr.enable_parallelism(config=ContextParallelConfig(**degree), cp_plan=plan)

    def settle(self) -> None:
        """After `STOP`: every rank waits here until all have it, so rank 0 cannot tear its
        connections down while a follower is still reading the message (gloo aborts a process
        whose peer vanishes mid-transfer)."""
        self.dist.barrier()

    def close(self) -> None:
        if self.dist.is_initialized():
            self.dist.destroy_process_group()


def vace_cp_plan() -> dict:
    """A context-parallel plan for `WanVACETransformer3DModel`, which diffusers 0.42.1 ships
    without one. It is Wan's plan plus the control branch: the VACE blocks run first, on the
    patch-embedded latents and the control latents (padded to the same length), and their hints
    are added to the main blocks' hidden states token by token. So the control states are split
    along the sequence exactly like the hidden states (at `vace_blocks.0`, the only VACE block
    that reads `hidden_states`), every hint comes out split like the hidden states it is added
    to, and the output is gathered once after `proj_out`."""
    from diffusers.models._modeling_parallel import ContextParallelInput, ContextParallelOutput

    def split(dims: int, output: bool = False):
        return ContextParallelInput(split_dim=1, expected_dims=dims, split_output=output)

    return {
        "rope": {0: split(4, True), 1: split(4, True)},
        "vace_blocks.0": {"hidden_states": split(3), "control_hidden_states": split(3)},
        "blocks.0": {"hidden_states": split(3)},
        "proj_out": ContextParallelOutput(gather_dim=1, expected_dims=3),
    }


def cp_plan_for(transformer) -> dict | None:
    """The plan for a transformer diffusers has none for (None: let diffusers decide, or raise)."""
    if type(transformer).__name__ == "WanVACETransformer3DModel":
        return vace_cp_plan()
    return None


class GroupBroken(RuntimeError):
    """Rank 0's render failed where the other ranks may still be inside a collective: the group is
    out of step, and the process must exit (after handing the job back) so torchrun stops it."""


def in_step(e: BaseException) -> bool:
    """Whether every rank raises `e` alike, so the group is still in step after it: a cancel
    agreed by all, a role the model lacks, a bad input caught before any collective."""
    from .pipelines import ModelUnavailable
    from .render import Cancelled

    return isinstance(e, (Cancelled, ModelUnavailable, ValueError))


def follow(group: Group, config, host) -> None:
    """The loop of ranks 1..N-1: render what rank 0 shares, until it says stop."""
    from .render import Renderer

    while True:
        message = group.share()
        kind = message[0]
        if kind == STOP:
            group.settle()
            return
        if kind != RENDER:
            continue  # rank 0 was idle; the message keeps the group's collectives in step
        _, model_id, req = message
        model = config.models[model_id]
        renderer = Renderer(model, lambda role, m=model: host.get(m, role), agree=group.agree)
        try:
            renderer.render(req)
        except Exception as e:
            if not in_step(e):
                raise  # this rank exits; torchrun stops the group
            # Raised on every rank alike: rank 0 reports it; the group goes on.
            log.info("render ended early: %s", e or type(e).__name__)
