"""The GPU worker's benchmark: the real architectures (configs in `configs/`, weights random,
nothing downloaded), timed on this machine's GPU, written as a markdown table.

    python workers/python/bench/gpu_bench.py --out bench.md            # one GPU: ~6-7 min on an H200
    python workers/python/bench/gpu_bench.py --tiny --device cpu       # the same code on tiny configs (seconds)

Measures: seconds per denoising step (two transformer calls: classifier-free guidance) and peak
GPU memory of Wan 2.1 1.3B / 14B (T2V and VACE) at 480p and 720p for 81 frames and LTX-2 for 121
frames; each speed-up's effect (attention backend, FP8 weight storage, First Block Cache at its
ceiling, regional compilation); 2-rank context-parallel scaling when two GPUs are present; and
the worker's overhead, lease to complete against a bare pipeline call of the same job. Random
weights time the same kernels as trained ones, with one exception: how often a step cache hits
depends on the weights, so its row is the ceiling (every step after the first reuses the cache).

A time budget (`--budget-s`, default 400 s) keeps the whole run under 8 minutes: a case that
would start after it is listed as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import torch  # noqa: E402

GIB = 1024**3

# name: (transformer config, family, [(label, width, height, frames)])
FULL = {
    "Wan 2.1 T2V 1.3B": ("wan2.1-t2v-1.3b", "wan", [("480p", 832, 480, 81)]),
    "Wan 2.1 T2V 14B": ("wan2.1-t2v-14b", "wan", [("480p", 832, 480, 81), ("720p", 1280, 720, 81)]),
    "Wan 2.1 VACE 14B": ("wan2.1-vace-14b", "vace", [("480p", 832, 480, 81)]),
    "LTX-2": ("ltx-2", "ltx2", [("480p", 832, 480, 121), ("720p", 1280, 704, 121)]),
}
TINY_WAN = dict(patch_size=[1, 2, 2], num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
                text_dim=32, freq_dim=32, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads")
TINY = {
    "wan-tiny": ({"_class_name": "WanTransformer3DModel", **TINY_WAN}, "wan", [("tiny", 64, 48, 9)]),
    "vace-tiny": ({"_class_name": "WanVACETransformer3DModel", **TINY_WAN, "num_layers": 3, "vace_layers": [0, 2],
                   "vace_in_channels": 96}, "vace", [("tiny", 64, 48, 9)]),
    "ltx2-tiny": ({"_class_name": "LTX2VideoTransformer3DModel", "in_channels": 4, "out_channels": 4,
                   "num_attention_heads": 2, "attention_head_dim": 8, "cross_attention_dim": 16, "audio_in_channels": 4,
                   "audio_out_channels": 4, "audio_num_attention_heads": 2, "audio_attention_head_dim": 4,
                   "audio_cross_attention_dim": 8, "num_layers": 2, "caption_channels": 32, "rope_type": "split",
                   "rope_double_precision": False}, "ltx2", [("tiny", 64, 64, 9)]),
}
TEXT_TOKENS = 512  # Wan's max_sequence_length; LTX-2's connectors give the same order


def config(spec) -> dict:
    return dict(spec) if isinstance(spec, dict) else json.loads((CONFIGS / f"{spec}.transformer.json").read_text())


def build(spec, device: str, dtype) -> torch.nn.Module:
    """The transformer of `spec` with random weights, on `device` in `dtype`."""
    import diffusers

    cfg = config(spec)
    cls = getattr(diffusers, cfg.pop("_class_name"))
    torch.manual_seed(0)
    with torch.device(device):
        model = cls.from_config(cfg)
    return model.to(dtype).eval()


def params(spec_file: str, kind: str) -> int:
    """Parameter count of a committed config, built on the meta device (no memory)."""
    cfg = json.loads((CONFIGS / f"{spec_file}.{kind}.json").read_text())
    name = cfg.pop("_class_name")
    with torch.device("meta"):
        if kind == "text_encoder":
            from transformers import UMT5Config, UMT5EncoderModel

            m = UMT5EncoderModel(UMT5Config(**cfg))
        elif kind == "image_encoder":
            from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

            m = CLIPVisionModelWithProjection(CLIPVisionConfig(**cfg))
        else:
            import diffusers

            m = getattr(diffusers, name).from_config(cfg)
    return sum(p.numel() for p in m.parameters())


class Inputs:
    """One denoising step's transformer inputs for a family at a size."""

    def __init__(self, family: str, cfg: dict, w: int, h: int, frames: int, device: str, dtype):
        g = torch.Generator("cpu").manual_seed(0)

        def rnd(*shape):
            return torch.randn(*shape, generator=g).to(device, dtype)

        self.kwargs = {}
        if family in ("wan", "vace"):
            lat = (1, cfg["in_channels"], (frames - 1) // 4 + 1, h // 8, w // 8)
            self.kwargs = dict(hidden_states=rnd(*lat), timestep=torch.tensor([500.0], device=device),
                               encoder_hidden_states=rnd(1, TEXT_TOKENS, cfg["text_dim"]))
            if family == "vace":
                self.kwargs["control_hidden_states"] = rnd(1, cfg["vace_in_channels"], *lat[2:])
            self.tokens = lat[2] * lat[3] * lat[4] // 4
        else:
            f, hh, ww = (frames - 1) // 8 + 1, h // 32, w // 32
            audio = round(frames / 24 * 16000 / 160 / 4)
            cap = cfg["caption_channels"]
            self.kwargs = dict(hidden_states=rnd(1, f * hh * ww, cfg["in_channels"]),
                               audio_hidden_states=rnd(1, audio, cfg["audio_in_channels"]),
                               encoder_hidden_states=rnd(1, TEXT_TOKENS, cap),
                               audio_encoder_hidden_states=rnd(1, TEXT_TOKENS, cap),
                               timestep=torch.tensor([500.0], device=device), num_frames=f, height=hh, width=ww,
                               fps=24.0, audio_num_frames=audio)
            self.tokens = f * hh * ww

    def step(self, model) -> None:
        """One denoising step: the conditional and the unconditional call."""
        for ctx in ("cond", "uncond"):
            with model.cache_context(ctx) if hasattr(model, "cache_context") else _null():
                model(**self.kwargs, return_dict=False)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed_steps(model, inputs: Inputs, device: str, steps: int) -> tuple[float, float]:
    """(seconds per step after one warm-up step, peak GiB)."""
    with torch.no_grad():
        inputs.step(model)  # warm-up: kernels chosen, compiled, caches filled
        sync(device)
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(steps):
            inputs.step(model)
        sync(device)
        dt = (time.perf_counter() - t0) / steps
    peak = torch.cuda.max_memory_allocated() / GIB if device.startswith("cuda") else float("nan")
    return dt, peak


class Bench:
    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.rows: list[tuple] = []  # (case, size, frames, tokens, s/step, peak GiB, note)
        self.skipped: list[str] = []

    def left(self) -> float:
        return self.args.budget_s - (time.monotonic() - self.t0)

    def room(self, name: str, need_s: float) -> bool:
        if self.left() < need_s:
            self.skipped.append(f"{name} (time budget)")
            return False
        return True

    def row(self, case, label, frames, tokens, dt, peak, note="") -> None:
        self.rows.append((case, label, frames, tokens, dt, peak, note))
        print(f"{case:28s} {label:5s} {frames:4d} f {tokens:6d} tok {dt:8.3f} s/step {peak:6.1f} GiB {note}", flush=True)

    # ------------------------------------------------------------------ cases
    def models(self) -> None:
        a = self.args
        dtype = getattr(torch, a.dtype)
        for name, (spec, family, sizes) in (TINY if a.tiny else FULL).items():
            if not self.room(name, 0 if a.tiny else 30):
                continue
            model = build(spec, a.device, dtype)
            cfg = config(spec)
            for label, w, h, frames in sizes:
                # A 14B step at 720p takes tens of seconds: start it only with time for three.
                if not self.room(f"{name} {label}", 0 if a.tiny else (90 if label == "720p" else 30)):
                    continue
                inputs = Inputs(family, cfg, w, h, frames, a.device, dtype)
                dt, peak = timed_steps(model, inputs, a.device, a.steps)
                self.row(name, label, frames, inputs.tokens, dt, peak)
                if family == "wan" and label == sizes[0][0] and name == ("wan-tiny" if a.tiny else "Wan 2.1 T2V 14B"):
                    self.speedups(name, model, inputs, dt)
                    model = None  # the speed-ups changed it (fp8 weights): rebuilt for later sizes
                    model = build(spec, a.device, dtype) if len(sizes) > 1 else None
            del model
            if a.device.startswith("cuda"):
                torch.cuda.empty_cache()

    def speedups(self, name: str, model, inputs: Inputs, base: float) -> None:
        from diffusers.hooks import FirstBlockCacheConfig

        a = self.args
        frames = inputs.kwargs["hidden_states"].shape[2] * 4 - 3
        label = self.rows[-1][1]

        def gain(dt):
            return f"{(base / dt - 1) * 100:+.0f}% speed vs the plain step"

        if a.device.startswith("cuda") and self.room(f"{name} attention _native_cudnn", 30):
            model.set_attention_backend("_native_cudnn")
            dt, peak = timed_steps(model, inputs, a.device, a.steps)
            self.row(f"{name} + cuDNN attention", label, frames, inputs.tokens, dt, peak, gain(dt))
            model.reset_attention_backend()
        if self.room(f"{name} First Block Cache", 30):
            model.enable_cache(FirstBlockCacheConfig(threshold=1e9))
            dt, peak = timed_steps(model, inputs, a.device, a.steps)
            self.row(f"{name} + First Block Cache", label, frames, inputs.tokens, dt, peak,
                     f"ceiling (every step cached): {gain(dt)}")
            model.disable_cache()
        if self.room(f"{name} FP8 weight storage", 30):
            model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=getattr(torch, a.dtype))
            dt, peak = timed_steps(model, inputs, a.device, a.steps)
            self.row(f"{name} + FP8 weight storage", label, frames, inputs.tokens, dt, peak, gain(dt))

    def compiled(self) -> None:
        """Regional compilation on the smallest Wan: compile time and the step after it."""
        a = self.args
        name, (spec, family, sizes) = next(iter((TINY if a.tiny else FULL).items()))
        if not self.room(f"{name} regional compile", 0 if a.tiny else 120):
            return
        dtype = getattr(torch, a.dtype)
        model = build(spec, a.device, dtype)
        label, w, h, frames = sizes[0]
        inputs = Inputs(family, config(spec), w, h, frames, a.device, dtype)
        base = next((r[4] for r in self.rows if r[0] == name and r[1] == label), None)
        model.compile_repeated_blocks(fullgraph=True)
        t0 = time.perf_counter()
        with torch.no_grad():
            inputs.step(model)
        sync(a.device)
        first = time.perf_counter() - t0
        dt, peak = timed_steps(model, inputs, a.device, a.steps)
        speed = f"{(base / dt - 1) * 100:+.0f}% speed vs the plain step, " if base else ""
        self.row(f"{name} + regional compile", label, frames, inputs.tokens, dt, peak,
                 f"{speed}after a {first:.0f} s first step (compilation)")
        del model

    def context_parallel(self) -> None:
        """The 14B (tiny: wan-tiny) at 720p split across 2 ranks (torchrun), against one GPU."""
        a = self.args
        if not a.cp and not (a.device.startswith("cuda") and torch.cuda.device_count() >= 2):
            self.skipped.append("2-rank context parallelism (one GPU)")
            return
        name = "wan-tiny" if a.tiny else "Wan 2.1 T2V 14B"
        label = "tiny" if a.tiny else "720p"
        if not self.room(f"{name} 2-rank context parallelism", 0 if a.tiny else 90):
            return
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "cp.json"
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                   str(Path(__file__)), "--cp-rank", str(out), "--dtype", a.dtype, "--steps", str(a.steps),
                   "--device", a.device] + (["--tiny"] if a.tiny else [])
            subprocess.run(cmd, check=True, timeout=max(60, self.left()),
                           env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1")))
            r = json.loads(out.read_text())
        base = next((row[4] for row in self.rows if row[0] == name and row[1] == label), None)
        note = f"{base / r['dt']:.2f}x one GPU (Ulysses)" if base else "Ulysses"
        self.row(f"{name}, 2 ranks", label, r["frames"], r["tokens"], r["dt"], r["peak"], note)

    def worker_overhead(self) -> None:
        """A create job through the worker (lease, render, encode, upload, complete against a
        local fake node) against the bare pipeline call of the same request."""
        a = self.args
        if not self.room("worker overhead", 0 if a.tiny else 90):
            return
        import dataclasses

        from fake_server import FakeNode, job
        from kinora_worker.config import parse
        from kinora_worker.pipelines import ModelHost
        from kinora_worker.protocol import Client, Schema
        from kinora_worker.render import Renderer, Request
        from kinora_worker.worker import Worker

        token = "bench-worker-token-0123456789"
        w, h, seconds, fps, fpp = (48, 32, 1, 8, 9) if a.tiny else (832, 480, 5, 16, 81)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "wan"
            overhead_pipeline(a.tiny).save_pretrained(str(path))
            table = dict(family="wan", t2v=str(path), dtype=a.dtype, device=a.device, steps=a.steps, fps=fps,
                         frames_per_pass=fpp, max_sequence_length=16, memory="resident")
            cfg = parse({"server": "http://127.0.0.1:9", "token": token, "pool": "bench", "work_dir": d,
                         "schema": str(HERE.parents[2] / "docs" / "worker-protocol.schema.json"),
                         "models": {"m": table}})
            host = ModelHost()
            model = cfg.models["m"]
            req = Request("create", "a red robot dances", w, h, seconds, 1)
            Renderer(model, lambda role: host.get(model, role)).render(req)  # load and warm up
            sync(a.device)
            t0 = time.perf_counter()
            Renderer(model, lambda role: host.get(model, role)).render(req)
            sync(a.device)
            bare = time.perf_counter() - t0
            with FakeNode(token) as node:
                node.push("lease", 200, job(model="m", width=w, height=h, seconds=seconds))
                worker = Worker(dataclasses.replace(cfg, server=node.url),
                                client=Client(node.url, token, schema=Schema(cfg.schema)), host=host)
                worker.register()
                t0 = time.perf_counter()
                outcome = worker.tick()
                full = time.perf_counter() - t0
            assert outcome == "completed", outcome
        frames = round(seconds * fps)
        self.overhead = (w, h, frames, bare, full)
        print(f"worker overhead: {full - bare:.2f} s ({full:.2f} s lease to complete, {bare:.2f} s pipeline)",
              flush=True)

    # ------------------------------------------------------------------ report
    def markdown(self) -> str:
        a = self.args
        card = torch.cuda.get_device_name() if a.device.startswith("cuda") else "CPU"
        out = [f"GPU worker benchmark, {time.strftime('%Y-%m-%d')}, {card}, torch {torch.__version__}, "
               f"{a.dtype}, {a.steps} timed step(s) after one warm-up, random weights"
               + (" (--tiny: tiny configs, a smoke run, not a measurement)" if a.tiny else ""), "",
               "| model | size | frames | tokens | s / step | peak GiB | note |", "|---|---|---|---|---|---|---|"]
        for case, label, frames, tokens, dt, peak, note in self.rows:
            mem = "–" if peak != peak else f"{peak:.1f}"  # NaN: no GPU
            out.append(f"| {case} | {label} | {frames} | {tokens} | {dt:.3f} | {mem} | {note} |")
        if getattr(self, "overhead", None):
            w, h, frames, bare, full = self.overhead
            out += ["", f"Worker overhead ({w}x{h}, {frames} frames, {a.steps} steps): lease to complete "
                        f"{full:.2f} s, the bare pipeline call {bare:.2f} s: **{full - bare:.2f} s** of download, "
                        f"encode, upload and protocol."]
        if self.skipped:
            out += ["", "Not measured: " + "; ".join(self.skipped) + "."]
        out += ["", f"Total time: {time.monotonic() - self.t0:.0f} s."]
        return "\n".join(out) + "\n"


def overhead_pipeline(tiny: bool):
    """A Wan pipeline for the overhead case: the real 1.3B transformer and VAE (tiny: the test
    models), with a one-layer text encoder of the right width (its cost is the pipeline's, not
    the worker's, and the same on both sides of the comparison)."""
    import tiny_models

    if tiny:
        return tiny_models.wan_t2v()
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline
    from transformers import UMT5Config, UMT5EncoderModel

    tok = tiny_models.t5_tokenizer()
    torch.manual_seed(0)
    te = UMT5EncoderModel(UMT5Config(vocab_size=len(tok), d_model=4096, d_ff=1024, d_kv=64, num_layers=1,
                                     num_heads=64, feed_forward_proj="gated-gelu", dropout_rate=0.0))
    vae_cfg = json.loads((CONFIGS / "wan2.1.vae.json").read_text())
    vae_cfg.pop("_class_name")
    return WanPipeline(tokenizer=tok, text_encoder=te, vae=AutoencoderKLWan(**vae_cfg),
                       transformer=build("wan2.1-t2v-1.3b", "cpu", torch.float32),
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0))


def resident_table() -> str:
    """The weights each Wan configuration keeps loaded, with the worker's shared components and
    without (each role its own text encoder and VAE): bf16, the VAE in fp32."""
    n = {k: params(f, kind) for k, f, kind in [
        ("t2v", "wan2.1-t2v-14b", "transformer"), ("i2v", "wan2.1-i2v-14b", "transformer"),
        ("vace", "wan2.1-vace-14b", "transformer"), ("t2v-1.3b", "wan2.1-t2v-1.3b", "transformer"),
        ("te", "umt5-xxl", "text_encoder"), ("clip", "clip-vit-h-14", "image_encoder"), ("vae", "wan2.1", "vae")]}
    shared = 2 * n["te"] + 4 * n["vae"]
    rows = [("Wan 2.1 1.3B: t2v", [n["t2v-1.3b"]]), ("Wan 2.1 14B: t2v", [n["t2v"]]),
            ("Wan 2.1 14B: vace", [n["vace"]]), ("Wan 2.1 14B: t2v + vace", [n["t2v"], n["vace"]]),
            ("Wan 2.1 14B: t2v + i2v + vace", [n["t2v"], n["i2v"] + n["clip"], n["vace"]])]
    out = ["| configuration (roles loaded) | transformers | shared: one UMT5-XXL + VAE | each role its own |",
           "|---|---|---|---|"]
    for name, tr in rows:
        t = 2 * sum(tr)
        out.append(f"| {name} | {t / 1e9:.1f} GB | **{(t + shared) / 1e9:.1f} GB** | {(t + len(tr) * shared) / 1e9:.1f} GB |")
    return "\n".join(out) + "\n"


def cp_rank(args) -> None:
    """One rank of the context-parallel case (run under torchrun by Bench.context_parallel)."""
    import torch.distributed as dist
    from diffusers import ContextParallelConfig

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if args.device.startswith("cuda"):
        torch.cuda.set_device(rank)
        device, backend = f"cuda:{rank}", "nccl"
    else:
        from cpu_group import cpu_as_accelerator

        cpu_as_accelerator()
        device, backend = "cpu", "gloo"
    dist.init_process_group(backend)
    dtype = getattr(torch, args.dtype)
    spec, family, sizes = TINY["wan-tiny"] if args.tiny else FULL["Wan 2.1 T2V 14B"]
    label, w, h, frames = sizes[-1]
    model = build(spec, device, dtype)
    model.enable_parallelism(config=ContextParallelConfig(ulysses_degree=world))
    inputs = Inputs(family, config(spec), w, h, frames, device, dtype)
    dt, peak = timed_steps(model, inputs, device, args.steps)
    if rank == 0:
        Path(args.cp_rank).write_text(json.dumps({"dt": dt, "peak": peak, "frames": frames, "tokens": inputs.tokens}))
    dist.barrier()
    dist.destroy_process_group()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny configs: a smoke run of this script (CPU: seconds)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--steps", type=int, default=1, help="timed steps per case, after one warm-up step")
    ap.add_argument("--budget-s", type=float, default=400.0, help="start no case after this many seconds")
    ap.add_argument("--cp", action="store_true", help="run the 2-rank case even without two GPUs (CPU: gloo)")
    ap.add_argument("--out", default="gpu-bench.md", help="the markdown table")
    ap.add_argument("--skip", default="", help="comma-separated: compile, cp, overhead")
    ap.add_argument("--resident", action="store_true", help="print the resident-set table (no GPU, no weights)")
    ap.add_argument("--cp-rank", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.resident:
        print(resident_table(), end="")
        return 0
    if args.cp_rank:
        cp_rank(args)
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_bench: no CUDA device (use --tiny --device cpu for a smoke run)", file=sys.stderr)
        return 2
    bench = Bench(args)
    skip = set(filter(None, args.skip.split(",")))
    bench.models()
    if "compile" not in skip:
        bench.compiled()
    if "cp" not in skip:
        bench.context_parallel()
    if "overhead" not in skip:
        bench.worker_overhead()
    text = bench.markdown()
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
