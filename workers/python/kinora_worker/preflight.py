"""`kinora-gpu-worker check --config worker.toml`: everything the worker needs, checked without
rendering, one line per problem with its fix.

Checks, in order: the TOML (every mistake, not just the first); each model's attention backend
(known, local, its package installed); each checkpoint directory (a
diffusers `model_index.json` naming the pipeline class the role needs, and every component folder
it lists); the node (reachable, the token accepted, every model routed to this pool: a
registration, see below); each model's memory plan against this machine's free memory.

The node has no dry-run registration: the check registers once, as `<name>-check` (and, when
that is refused, once per model to tell which ones the node does not route). Such an entry never
leases and lapses like any idle worker. Exit status 0 when nothing is wrong, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from . import config as cfgmod
from .memory import MemoryPlanError, choose
from .pipelines import checkpoint_dirs

# The pipeline class each checkpoint directory must hold.
NEEDS = {("wan", "t2v"): ("WanPipeline",), ("wan", "i2v"): ("WanImageToVideoPipeline",),
         ("wan", "vace"): ("WanVACEPipeline",), ("ltx2", "t2v"): ("LTX2Pipeline",)}


def check_checkpoints(model) -> list[str]:
    problems = []
    for role, d in checkpoint_dirs(model).items():
        key = "path" if model.family == "ltx2" else role
        where = f"models.{model.id}.{key} = {str(d)!r}"
        index = d / "model_index.json"
        if not d.is_dir():
            problems.append(f"{where}: no such directory. Fix: download the diffusers-format checkpoint there "
                            f"(e.g. `huggingface-cli download <repo> --local-dir {d}`) or correct the path")
            continue
        if not index.is_file():
            problems.append(f"{where}: no model_index.json, so not a diffusers pipeline directory. Fix: use the "
                            f"`-Diffusers` release of the checkpoint (or `save_pretrained` output)")
            continue
        try:
            meta = json.loads(index.read_text())
        except ValueError as e:
            problems.append(f"{where}: model_index.json is not JSON ({e}). Fix: download it again")
            continue
        want = NEEDS[(model.family, role)]
        got = meta.get("_class_name")
        if got not in want:
            problems.append(f"{where}: holds {got}, the `{key}` role needs {' or '.join(want)}. Fix: point "
                            f"`{key}` at a {want[0]} checkpoint")
        for comp, spec in meta.items():
            if comp.startswith("_") or not isinstance(spec, list) or spec[0] is None:
                continue
            if not (d / comp).is_dir():
                problems.append(f"{where}: component folder `{comp}` ({spec[1]}) is missing. Fix: download "
                                f"the checkpoint completely")
    return problems


def check_attention(model) -> list[str]:
    """The configured attention backend exists, is not fetched from the Hub (the worker runs
    offline) and has its package installed."""
    if not model.attention:
        return []
    from diffusers.models.attention_dispatch import AttentionBackendName, _check_attention_backend_requirements

    where = f"models.{model.id}.attention = {model.attention!r}"
    try:
        backend = AttentionBackendName(model.attention)
    except ValueError:
        names = ", ".join(b.value for b in AttentionBackendName if not b.value.endswith("_hub"))
        return [f"{where}: no such diffusers attention backend. Fix: one of {names}, or remove the key"]
    if backend.value.endswith("_hub"):
        return [f"{where}: downloads its kernels from the Hugging Face Hub, and the worker runs offline. "
                f"Fix: install the kernel's package and use its local backend"]
    try:
        _check_attention_backend_requirements(backend)
    except RuntimeError as e:
        return [f"{where}: {e} Fix: install it in the worker's environment, or remove the key"]
    return []


def check_node(cfg) -> list[str]:
    from .protocol import Backoff, Client, ProtocolError, Schema
    from .worker import worker_name

    client = Client(cfg.server, cfg.token, schema=Schema(cfg.schema), backoff=Backoff(attempts=0), timeout=10.0)
    name = worker_name(cfg.name)[:58] + "-check"
    try:
        client.register(name, cfg.pool, sorted(cfg.models))
        return []
    except ProtocolError as e:
        if e.status in (401, 403):
            return [f"node {cfg.server}: the token is refused ({e}). Fix: set `token` (or KINORA_WORKER_TOKEN) "
                    f"to one of the node's worker_tokens"]
        if e.status != 400:
            return [f"node {cfg.server}: registration failed ({e}). Fix: check the node's logs"]
    except OSError as e:
        return [f"node {cfg.server}: unreachable ({e}). Fix: correct `server`, or start the node"]
    problems = []
    for mid in sorted(cfg.models):
        try:
            client.register(name, cfg.pool, [mid])
        except ProtocolError as e:
            problems.append(f"node refuses model {mid!r} for pool {cfg.pool!r}: {e}. Fix: route it on the node "
                            f"([[remote_models]] id = \"{mid}\", pool = \"{cfg.pool}\"), or serve it from a "
                            f"worker of its own pool")
    return problems or [f"node {cfg.server}: registration refused for the models together but not one by one. "
                        f"Fix: check the node's logs"]


def run(path: str, out=None) -> int:
    out = out or sys.stdout
    problems: list[str] = []
    notes: list[str] = []
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except OSError as e:
        problems.append(f"{path}: cannot read ({e}). Fix: give the config's path with --config")
        raw = None
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: not valid TOML ({e}). Fix: correct the syntax at that line")
        raw = None
    cfg = None
    if raw is not None:
        bad: list[str] = []
        cfg = cfgmod.parse(raw, base=Path(path).resolve().parent, problems=bad)
        problems += [f"{path}: {p}. Fix: see the README's Config section" for p in bad]
        if cfg is None:
            # Check what can be checked of the models that did parse.
            models = {}
            for mid, m in (raw.get("models") or {}).items():
                try:
                    models[mid] = cfgmod._model(mid, m if isinstance(m, dict) else {}, Path(path).resolve().parent)
                except (cfgmod.ConfigError, TypeError, ValueError):
                    pass
        else:
            models = cfg.models
        ready = []
        for model in models.values():
            problems += check_attention(model)
            found = check_checkpoints(model)
            problems += found
            if not found:
                ready.append(model)
        for model in ready:
            try:
                notes.append(f"models.{model.id}: {choose(model).describe()}")
            except MemoryPlanError as e:
                problems.append(str(e))
        if cfg is not None:
            problems += check_node(cfg)
    for n in notes:
        print(f"ok: {n}", file=out)
    for p in problems:
        print(f"problem: {p}", file=out)
    print(f"{len(problems)} problem(s)" if problems else "ok: ready to serve", file=out, flush=True)
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="kinora-gpu-worker check",
                                 description="check a worker config without rendering (see README)")
    ap.add_argument("--config", required=True)
    args = ap.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    return run(args.config)
