"""The worker loop: register, lease, render, upload, complete — one job at a time.

`Worker.tick()` handles at most one lease and returns what happened, so tests drive it directly;
`Worker.run()` is the loop around it.

Stopping (`Worker.stop`, set on SIGTERM): the loop leases no further job, and a job being rendered
stops at the next denoising step and goes back to the queue at once (`fail`, code
`worker_stopping`, retryable) instead of running on until the process is killed and its lease
lapses. A job already past rendering (encoding, uploading, completing) is finished.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
from pathlib import Path

from PIL import Image, ImageOps

from .memory import MemoryPlanError, choose

from . import media
from .config import Config, ModelConfig
from .pipelines import ModelHost, ModelUnavailable
from .protocol import Backoff, Client, Heartbeat, Job, LeaseLost, ProtocolError, Registration, Schema
from .group import IDLE, RENDER, GroupBroken, in_step
from .render import Cancelled, Renderer, Request, gen_size

log = logging.getLogger("kinora_worker")


def worker_name(name: str) -> str:
    """The protocol accepts 1-64 of `A-Za-z0-9._-`."""
    return (re.sub(r"[^A-Za-z0-9._-]", "-", name) or "gpu-worker")[:64]


def _is_oom(e: BaseException) -> bool:
    try:
        import torch

        return isinstance(e, torch.cuda.OutOfMemoryError)
    except (ImportError, AttributeError):
        return False


class RegistrationRefused(RuntimeError):
    """The node refused this worker (4xx): a config mistake that retrying cannot fix."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Worker:
    def __init__(self, config: Config, client: Client | None = None, host: ModelHost | None = None,
                 group=None):
        self.config = config
        self.client = client or Client(config.server, config.token, schema=Schema(config.schema))
        # Rank 0 of a torchrun group (group.py) shares each request with the other ranks.
        self.group = group
        self.host = host or ModelHost(prepare=group.parallelize if group else None)
        self.registration: Registration | None = None
        self.stop = threading.Event()
        self.last_progress: list[int] = []  # progress values reported, for logs and tests
        # Set when a render of the group failed out of step (see run_job).
        self._group_broken: BaseException | None = None

    def plan_memory(self) -> None:
        """Each model's memory plan, before registering: a model that cannot fit this device is
        refused here (MemoryPlanError), not after the node has routed a job to it."""
        for model in self.config.models.values():
            if model.id not in self.host.plans:
                self.host.plans[model.id] = choose(model)

    def register(self) -> Registration:
        self.plan_memory()
        try:
            self.registration = self.client.register(worker_name(self.config.name), self.config.pool,
                                                     sorted(self.config.models))
        except ProtocolError as e:
            if 400 <= e.status < 500 and e.status not in (408, 429):
                # A wrong pool, model or token never heals by retrying: the operator must act.
                raise RegistrationRefused(e.status, str(e)) from None
            raise
        log.info("registered as %s for %s", self.registration.worker_id, self.registration.models)
        return self.registration

    def run(self) -> None:
        """Tick until stopped; a node that is down or restarted is waited out, never fatal."""
        delays = Backoff(first=1.0, cap=30.0, attempts=None).delays()
        while not self.stop.is_set():
            try:
                if self.tick() == "idle" and self.group is not None:
                    self.group.share((IDLE,))  # the other ranks wait in step
                delays = Backoff(first=1.0, cap=30.0, attempts=None).delays()
            except ProtocolError as e:
                if e.status in (400, 404) and self.registration is not None:
                    # e.g. a node that lost its worker table: register again.
                    log.warning("lease refused (%s); registering again", e)
                    self.registration = None
                    continue
                if e.status in (401, 403):
                    raise RegistrationRefused(e.status, str(e)) from None  # a wrong token never heals
                self._wait_out(e, next(delays))
            except OSError as e:
                self._wait_out(e, next(delays))

    def _wait_out(self, err: BaseException, delay: float) -> None:
        log.warning("node unreachable (%s); retrying in %.0fs", err, delay)
        self.stop.wait(delay)
        if self.group is not None:
            self.group.share((IDLE,))

    def tick(self) -> str:
        """Lease and run at most one job: 'idle', 'completed', 'requeued', 'failed', 'dropped'."""
        reg = self.registration or self.register()
        wait = min(self.config.wait_seconds, reg.max_wait_seconds)
        job = self.client.lease(reg.worker_id, reg.models, wait)
        if job is None:
            return "idle"
        return self.run_job(job)

    # ------------------------------------------------------------------ one job
    def run_job(self, job: Job) -> str:
        reg = self.registration
        interval = (reg.heartbeat_interval_ms / 1000.0) if reg else 10.0
        interval = min(interval, max(1.0, job.lease_seconds / 3))
        work = Path(tempfile.mkdtemp(prefix=f"{job.video_id}-", dir=self._work_dir()))
        log.info("%s: %s %s %sx%s %ss (attempt %s)", job.video_id, job.mode, job.model, job.width, job.height,
                 job.seconds, job.attempt)
        self._group_broken = None
        try:
            return self._attempt(job, work, interval)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            if self._group_broken is not None:
                # The job was handed back (retryable), even if that call itself failed, the group
                # cannot go on: other ranks may still be inside the pipeline's collectives, where
                # the next `share` would wait for hours while this rank's heartbeats kept a new
                # job's lease alive. The process exits, so torchrun stops the group (group.py).
                e, self._group_broken = self._group_broken, None
                raise GroupBroken(f"{job.video_id}: the render failed out of step with the group "
                                  f"({type(e).__name__}: {e})") from e

    def _attempt(self, job: Job, work: Path, interval: float) -> str:
        with Heartbeat(self.client, job, interval) as hb:
            try:
                if hb.cancel.is_set() or self.stop.is_set():
                    raise Cancelled()
                outcome = self._render_and_upload(job, work, hb)
            except LeaseLost:
                log.warning("%s: lease lost; dropping the job", job.video_id)
                return "dropped"
            except Cancelled:
                if hb.lost.is_set():
                    return "dropped"
                if hb.cancel.is_set():
                    return self._fail(job, "cancelled", "cancelled by the user", False)
                # Only the worker's stop is left: hand the job back for another worker now.
                return self._fail(job, "worker_stopping", "the worker is shutting down", True)
            except ModelUnavailable as e:
                return self._fail(job, "unsupported", str(e), False)
            except media.MediaError as e:
                if self._group_broken is not None:  # raised by the render: not the input's fault
                    return self._fail(job, "worker_error", f"{type(e).__name__}: {e}", True)
                return self._fail(job, "invalid_input", str(e), False)
            except Exception as e:  # noqa: BLE001 - every failure is reported, then the loop goes on
                if _is_oom(e):
                    self.host.unload()
                    return self._fail(job, "out_of_memory", str(e), True)
                log.exception("%s: render failed", job.video_id)
                return self._fail(job, "worker_error", f"{type(e).__name__}: {e}", True)
            return outcome

    def _fail(self, job: Job, code: str, message: str, retryable: bool) -> str:
        try:
            r = self.client.fail(job, code, message, retryable)
        except LeaseLost:
            return "dropped"
        log.info("%s: failed (%s): %s -> %s", job.video_id, code, message, r.get("outcome"))
        return r.get("outcome", "failed")

    def _work_dir(self) -> str:
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        return str(self.config.work_dir)

    def _render_and_upload(self, job: Job, work: Path, hb: Heartbeat) -> str:
        model = self.config.models.get(job.model)
        if model is None:
            raise ModelUnavailable(f"this worker has no model {job.model!r} configured")
        req = self._request(job, model, work)

        def progress(p: int) -> None:
            hb.report(p)
            self.last_progress.append(p)

        agree = None
        if self.group is not None:
            self.group.share((RENDER, model.id, req))
            agree = self.group.agree
        renderer = Renderer(model, lambda role: self.host.get(model, role), progress, hb.cancel, agree,
                            stop=self.stop)
        try:
            result = renderer.render(req)
        except Exception as e:
            if self.group is not None and not in_step(e):
                self._group_broken = e  # reported as usual, then run_job raises GroupBroken
            raise
        mp4 = work / "video.mp4"
        media.write_mp4(result.frames, str(mp4), result.fps, job.width, job.height)
        self.client.upload(job, "video.mp4", mp4)
        if result.audio is not None:
            wav = work / "audio.wav"
            media.write_wav(result.audio, str(wav), result.sample_rate)
            self.client.upload(job, "audio.wav", wav)
        hb.report(100)
        hb.beat()
        if hb.lost.is_set():
            return "dropped"
        r = self.client.complete(job)
        outcome = r.get("outcome", "completed")
        if outcome != "completed":
            log.warning("%s: server refused the artifacts (%s): %s", job.video_id, outcome, r.get("error"))
        return outcome

    def _request(self, job: Job, model: ModelConfig, work: Path) -> Request:
        """Download the job's inputs and turn them into a render request at the generation size."""
        gw, gh = gen_size(model, job.width, job.height)
        names = set(job.input_names)
        strength = job.raw.get("edit_strength")
        req = Request(mode=job.mode, prompt=job.prompt, width=job.width, height=job.height,
                      seconds=float(job.seconds), seed=int(job.seed),
                      edit_strength=None if strength is None else float(strength))
        if "input_reference" in names:
            path = self.client.download(job, "input_reference", work / "input_reference")
            req.image = _image(path, fit=(gw, gh))
        for ch in job.raw.get("characters", []):
            files = list(ch.get("inputs", []))
            # The cutout (alpha) composited on white is what VACE's reference images look like;
            # without one, the character's first reference frame.
            cutouts = [f for f in files if "cutout" in f.rsplit("/", 1)[-1]]
            pick = cutouts[0] if cutouts else (files[0] if files else None)
            if pick is None:
                continue
            path = self.client.download(job, pick, work / pick)
            # Whole, at its own size and aspect: the VACE pipeline itself scales each reference
            # into the frame and pads it with white, so nothing of the character is cut off.
            req.references.append(_image(path, on_white=True))
        if job.mode in ("extend", "edit"):
            src = self.client.download(job, "source.mp4", work / "source.mp4")
            if job.mode == "extend":
                # A second of the source's tail holds more than the overlap frames at any fps.
                tail_s = max(1.0, 2.0 * model.overlap_frames / model.fps)
                req.source = media.read_frames(str(src), gw, gh, fps=model.fps, last_seconds=tail_s)
            else:
                req.source = media.read_frames(str(src), gw, gh, fps=model.fps)
                # The edit keeps the source's length (the lease's seconds).
                want = max(1, round(float(job.seconds) * model.fps))
                req.source = req.source[:want]
        return req


def _image(path: Path, fit: tuple[int, int] | None = None, on_white: bool = False) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
    except Exception as e:  # noqa: BLE001
        raise media.MediaError(f"{path.name}: not a readable image ({e})") from None
    if on_white and im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    im = im.convert("RGB")
    # An input reference is the clip's first frame: it takes the frame's exact size.
    return ImageOps.fit(im, fit, Image.Resampling.BICUBIC) if fit else im


__all__ = ["Worker", "Backoff", "RegistrationRefused"]
