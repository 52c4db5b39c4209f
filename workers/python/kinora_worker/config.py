"""The worker's TOML config: which server, which pool, which models from which directories.

```toml
server = "http://kinora:8080"
token = "worker-secret"           # or env KINORA_WORKER_TOKEN
pool = "wan"
name = "gpu-box-3"                # default: host name
work_dir = "/var/tmp/kinora-worker"
# schema = "/opt/kinora/docs/worker-protocol.schema.json"

[models."wan-2.1"]
family = "wan"                    # "wan" or "ltx2"
t2v = "/models/Wan2.1-T2V-14B-Diffusers"
i2v = "/models/Wan2.1-I2V-14B-720P-Diffusers"
vace = "/models/Wan2.1-VACE-14B-diffusers"
dtype = "bfloat16"
device = "cuda"
steps = 30
guidance = 5.0
fps = 16
frames_per_pass = 81
```
Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

FAMILIES = {
    # family: (roles it knows, frame count rule `k*m + 1`, default fps, default frames per pass,
    #          default overlap frames used to condition a continuation)
    "wan": (("t2v", "i2v", "vace"), 4, 16, 81, 5),
    # LTX-2: one checkpoint serves text-to-video (+audio), image-to-video and video condition.
    "ltx2": (("path",), 8, 24, 121, 9),
}
DTYPES = ("float32", "bfloat16", "float16")


class ConfigError(ValueError):
    pass


@dataclass
class ModelConfig:
    id: str
    family: str
    dirs: dict[str, Path]  # role -> local checkpoint directory
    dtype: str = "bfloat16"
    device: str = "cuda"
    steps: int = 30
    guidance: float = 5.0
    fps: int = 16
    frames_per_pass: int = 81
    overlap_frames: int = 5
    negative_prompt: str = ""
    max_sequence_length: int = 512
    # Extra keyword arguments passed to every pipeline call (model-specific knobs).
    call_kwargs: dict = field(default_factory=dict)
    # Per-component dtypes over `dtype`, e.g. {"vae": "float32"} (Wan's VAE is meant to run in fp32).
    component_dtypes: dict[str, str] = field(default_factory=dict)
    # diffusers' enable_model_cpu_offload(): components wait in CPU memory, one on the GPU at a time.
    cpu_offload: bool = False
    # Frames are generated at width/height rounded up to this (VAE stride x patch size), then
    # scaled to the job's exact size.
    size_multiple: int = 16

    @property
    def frame_multiple(self) -> int:
        return FAMILIES[self.family][1]


@dataclass
class Config:
    server: str
    token: str
    pool: str
    name: str
    models: dict[str, ModelConfig]
    work_dir: Path
    schema: Path | None
    wait_seconds: int = 20
    # How a torchrun group splits attention across its GPUs (group.py): "ulysses" or "ring".
    parallel: str = "ulysses"

    def __repr__(self) -> str:  # never print the token
        return (f"Config(server={self.server!r}, token='***', pool={self.pool!r}, name={self.name!r}, "
                f"models={list(self.models)!r}, work_dir={str(self.work_dir)!r})")


def default_schema_path() -> Path | None:
    """The repository's copy of the protocol schema, when the worker runs from a checkout."""
    p = Path(__file__).resolve().parents[3] / "docs" / "worker-protocol.schema.json"
    return p


_TOP = {"server", "token", "pool", "name", "work_dir", "schema", "wait_seconds", "models", "parallel"}
_MODEL = {"family", "dtype", "device", "steps", "guidance", "fps", "frames_per_pass", "overlap_frames",
          "negative_prompt", "max_sequence_length", "call_kwargs", "cpu_offload", "size_multiple",
          "component_dtypes"}


def _model(mid: str, raw: dict, base: Path) -> ModelConfig:
    family = raw.get("family")
    if family not in FAMILIES:
        raise ConfigError(f"models.{mid}.family must be one of {sorted(FAMILIES)}, got {family!r}")
    roles, _, fps, fpp, overlap = FAMILIES[family]
    unknown = set(raw) - _MODEL - set(roles)
    if unknown:
        raise ConfigError(f"models.{mid}: unknown keys {sorted(unknown)} (roles for {family}: {list(roles)})")
    dirs = {}
    for role in roles:
        if role in raw:
            d = Path(os.path.expanduser(str(raw[role])))
            dirs[role] = d if d.is_absolute() else (base / d)
    if not dirs:
        raise ConfigError(f"models.{mid}: give at least one checkpoint directory ({', '.join(roles)})")
    dtype = raw.get("dtype", "bfloat16")
    if dtype not in DTYPES:
        raise ConfigError(f"models.{mid}.dtype must be one of {DTYPES}, got {dtype!r}")
    m = ModelConfig(
        id=mid, family=family, dirs=dirs, dtype=dtype, device=str(raw.get("device", "cuda")),
        steps=int(raw.get("steps", 30)), guidance=float(raw.get("guidance", 5.0 if family == "wan" else 3.0)),
        fps=int(raw.get("fps", fps)), frames_per_pass=int(raw.get("frames_per_pass", fpp)),
        overlap_frames=int(raw.get("overlap_frames", overlap)),
        negative_prompt=str(raw.get("negative_prompt", "")),
        max_sequence_length=int(raw.get("max_sequence_length", 512)),
        call_kwargs=dict(raw.get("call_kwargs", {})),
        cpu_offload=bool(raw.get("cpu_offload", False)),
        component_dtypes={str(k): str(v) for k, v in (raw.get("component_dtypes") or {}).items()},
        size_multiple=int(raw.get("size_multiple", 16 if family == "wan" else 32)),
    )
    for comp, dt in m.component_dtypes.items():
        if dt not in DTYPES:
            raise ConfigError(f"models.{mid}.component_dtypes.{comp} must be one of {DTYPES}, got {dt!r}")
    mult = m.frame_multiple
    if m.frames_per_pass < mult + 1 or (m.frames_per_pass - 1) % mult:
        raise ConfigError(f"models.{mid}.frames_per_pass must be {mult}k+1, got {m.frames_per_pass}")
    if not 1 <= m.overlap_frames < m.frames_per_pass:
        raise ConfigError(f"models.{mid}.overlap_frames must be in 1..frames_per_pass-1")
    if m.size_multiple < 2 or m.size_multiple % 2:
        raise ConfigError(f"models.{mid}.size_multiple must be an even number")
    if m.steps < 1:
        raise ConfigError(f"models.{mid}.steps must be at least 1")
    return m


def parse(raw: dict, base: Path = Path(".")) -> Config:
    unknown = set(raw) - _TOP
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}")
    for key in ("server", "pool"):
        if not raw.get(key):
            raise ConfigError(f"`{key}` is required")
    token = raw.get("token") or os.environ.get("KINORA_WORKER_TOKEN")
    if not token:
        raise ConfigError("`token` is required (or set KINORA_WORKER_TOKEN)")
    models = {mid: _model(mid, m, base) for mid, m in (raw.get("models") or {}).items()}
    if not models:
        raise ConfigError("configure at least one model under [models.<id>]")
    schema = raw.get("schema")
    return Config(
        server=str(raw["server"]).rstrip("/"), token=str(token), pool=str(raw["pool"]),
        name=str(raw.get("name") or socket.gethostname()), models=models,
        work_dir=Path(raw.get("work_dir") or (Path(os.environ.get("TMPDIR", "/tmp")) / "kinora-worker")),
        schema=Path(schema) if schema else default_schema_path(),
        wait_seconds=int(raw.get("wait_seconds", 20)),
        parallel=_parallel(raw.get("parallel", "ulysses")),
    )


def _parallel(value) -> str:
    if value not in ("ulysses", "ring"):
        raise ConfigError(f"`parallel` must be \"ulysses\" or \"ring\", not {value!r}")
    return value


def load(path: str | os.PathLike) -> Config:
    p = Path(path)
    with open(p, "rb") as f:
        raw = tomllib.load(f)
    return parse(raw, base=p.resolve().parent)
