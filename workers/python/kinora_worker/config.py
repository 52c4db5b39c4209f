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
    # Where the weights live (memory.py): auto | resident | model_offload | group_offload |
    # sequential_offload. `auto` picks the fastest plan that fits the device's free memory.
    memory: str = "auto"
    memory_budget_gb: float | None = None  # use at most this much of the device (a shared card)
    memory_headroom_gb: float = 10.0  # kept free for activations
    # Roles of one model whose text encoder, tokenizer and VAE are the same files share one copy.
    share_components: bool = True
    # Speed-ups (speedups.py), all off by default until measured on a GPU.
    cache: str = "off"  # off | first_block | taylorseer
    cache_threshold: float = 0.05  # First Block Cache's residual threshold
    compile: str = "off"  # off | regional | full
    attention: str | None = None  # a diffusers attention backend, e.g. "flash", "_native_cudnn"
    quantize: str = "off"  # off | fp8_storage
    # Edits: how far WanVideoToVideoPipeline moves away from the source (0 keeps it, 1 ignores it).
    edit_strength: float = 0.7
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
          "negative_prompt", "max_sequence_length", "call_kwargs", "size_multiple", "component_dtypes",
          "memory", "memory_budget_gb", "memory_headroom_gb", "share_components", "cache", "cache_threshold",
          "compile", "attention", "quantize", "edit_strength"}
CHOICES = {
    "memory": ("auto", "resident", "model_offload", "group_offload", "sequential_offload"),
    "cache": ("off", "first_block", "taylorseer"),
    "compile": ("off", "regional", "full"),
    "quantize": ("off", "fp8_storage"),
}


def _model(mid: str, raw: dict, base: Path) -> ModelConfig:
    family = raw.get("family")
    if family not in FAMILIES:
        raise ConfigError(f"models.{mid}.family must be one of {sorted(FAMILIES)}, got {family!r}")
    roles, _, fps, fpp, overlap = FAMILIES[family]
    if "cpu_offload" in raw:
        raise ConfigError(f"models.{mid}.cpu_offload is now `memory = \"model_offload\"` (or \"auto\")")
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
        memory=str(raw.get("memory", "auto")),
        memory_budget_gb=None if raw.get("memory_budget_gb") is None else float(raw["memory_budget_gb"]),
        memory_headroom_gb=float(raw.get("memory_headroom_gb",
                                         10.0 if str(raw.get("device", "cuda")).startswith("cuda") else 1.0)),
        share_components=bool(raw.get("share_components", True)),
        cache=str(raw.get("cache", "off")), cache_threshold=float(raw.get("cache_threshold", 0.05)),
        compile=str(raw.get("compile", "off")),
        attention=None if raw.get("attention") is None else str(raw["attention"]),
        quantize=str(raw.get("quantize", "off")), edit_strength=float(raw.get("edit_strength", 0.7)),
        component_dtypes={str(k): str(v) for k, v in (raw.get("component_dtypes") or {}).items()},
        size_multiple=int(raw.get("size_multiple", 16 if family == "wan" else 32)),
    )
    for comp, dt in m.component_dtypes.items():
        if dt not in DTYPES:
            raise ConfigError(f"models.{mid}.component_dtypes.{comp} must be one of {DTYPES}, got {dt!r}")
    for key, allowed in CHOICES.items():
        if getattr(m, key) not in allowed:
            raise ConfigError(f"models.{mid}.{key} must be one of {allowed}, got {getattr(m, key)!r}")
    if not 0.0 < m.edit_strength <= 1.0:
        raise ConfigError(f"models.{mid}.edit_strength must be in (0, 1]")
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


def parse(raw: dict, base: Path = Path("."), problems: list[str] | None = None) -> Config | None:
    """The config from parsed TOML. With `problems`, every mistake is appended there (and None
    returned when there was any) instead of raising at the first."""
    found: list[str] = []

    def fail(msg: str) -> None:
        if problems is None:
            raise ConfigError(msg)
        found.append(msg)

    unknown = set(raw) - _TOP
    if unknown:
        fail(f"unknown keys {sorted(unknown)}")
    for key in ("server", "pool"):
        if not raw.get(key):
            fail(f"`{key}` is required")
    token = raw.get("token") or os.environ.get("KINORA_WORKER_TOKEN")
    if not token:
        fail("`token` is required (or set KINORA_WORKER_TOKEN)")
    models = {}
    for mid, m in (raw.get("models") or {}).items():
        try:
            models[mid] = _model(mid, m if isinstance(m, dict) else {}, base)
        except ConfigError as e:
            fail(str(e))
        except (TypeError, ValueError) as e:  # e.g. steps = "many"
            fail(f"models.{mid}: {e}")
    if not raw.get("models"):
        fail("configure at least one model under [models.<id>]")
    try:
        parallel = _parallel(raw.get("parallel", "ulysses"))
    except ConfigError as e:
        fail(str(e))
    if found:
        problems.extend(found)
        return None
    schema = raw.get("schema")
    return Config(
        server=str(raw["server"]).rstrip("/"), token=str(token), pool=str(raw["pool"]),
        name=str(raw.get("name") or socket.gethostname()), models=models,
        work_dir=Path(raw.get("work_dir") or (Path(os.environ.get("TMPDIR", "/tmp")) / "kinora-worker")),
        schema=Path(schema) if schema else default_schema_path(),
        wait_seconds=int(raw.get("wait_seconds", 20)),
        parallel=parallel,
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
