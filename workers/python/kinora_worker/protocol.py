"""HTTP client of the worker protocol (docs/worker-protocol.md), stdlib only.

Every message sent and received is validated against docs/worker-protocol.schema.json (the JSON
Schema generated from the server's Rust types) when that file is present, so a drift between the
two sides fails loudly instead of silently misreading a field.

Status handling:
- 204 on lease: no job came; the caller polls again.
- 409 on any job call: the lease is lost (expired, cancelled, completed); raises `LeaseLost` and
  the worker drops the job.
- 5xx, 408, 429, timeouts and connection errors: retried with exponential backoff (`Backoff`).
- other 4xx: raises `ProtocolError` (a bug or a misconfiguration; retrying cannot help).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("kinora_worker.protocol")

VERSION = "kinora-gpu-worker 0.1.0"

# The node's limit on one worker call (docs/worker-protocol.md, "Time limits"): it may take up to
# 300 s to answer, and `complete` on a long clip needs that time (it decodes, normalises, stitches
# and stores the whole clip). `complete` waits this long for its answer; the client's default
# timeout would give up first and start `complete` over from scratch.
NODE_CALL_LIMIT_S = 300.0


class ProtocolError(RuntimeError):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.code = code


class LeaseLost(ProtocolError):
    """409 `lease_lost`: the job is no longer ours; drop it."""


class SchemaMismatch(RuntimeError):
    pass


class Schema:
    """Validates messages against `$defs/<TypeName>` of the generated protocol schema."""

    def __init__(self, path: Path | None):
        self.path = path
        self._validators: dict[str, Any] = {}
        self.document = None
        if path is not None and Path(path).is_file():
            import jsonschema

            self.document = json.loads(Path(path).read_text(encoding="utf-8"))
            defs = self.document.get("$defs") or self.document.get("definitions") or {}
            cls = jsonschema.validators.validator_for(self.document)
            for name in defs:
                ref = {"$ref": f"#/$defs/{name}" if "$defs" in self.document else f"#/definitions/{name}"}
                root = dict(self.document)
                root.update(ref)
                self._validators[name] = cls(root)

    @property
    def active(self) -> bool:
        return self.document is not None

    def check(self, type_name: str, message: Any) -> None:
        if not self.active:
            return
        v = self._validators.get(type_name)
        if v is None:
            raise SchemaMismatch(f"{self.path}: no definition for {type_name}")
        errors = sorted(v.iter_errors(message), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.path) or "(root)"
            raise SchemaMismatch(f"{type_name} does not match the protocol schema at {where}: {e.message}")


@dataclass
class Backoff:
    """Exponential backoff with jitter; `attempts=None` retries forever."""

    first: float = 0.5
    cap: float = 15.0
    attempts: int | None = 8
    sleep: Callable[[float], None] = time.sleep

    def delays(self):
        n = 0
        delay = self.first
        while self.attempts is None or n < self.attempts:
            yield delay * (0.5 + random.random() / 2)
            delay = min(delay * 2, self.cap)
            n += 1


@dataclass
class Job:
    """A leased job, as the lease call returned it."""

    raw: dict

    def __getattr__(self, name):
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def input_names(self) -> list[str]:
        return [i["name"] for i in self.raw.get("inputs", [])]


@dataclass
class Registration:
    worker_id: str
    models: list[str]
    lease_seconds: int
    heartbeat_interval_ms: int
    max_wait_seconds: int


@dataclass
class Client:
    server: str
    token: str
    schema: Schema = field(default_factory=lambda: Schema(None))
    backoff: Backoff = field(default_factory=Backoff)
    timeout: float = 60.0

    # ------------------------------------------------------------------ transport
    def _url(self, path: str, query: dict | None = None) -> str:
        url = self.server.rstrip("/") + "/internal/v1" + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def _request(self, method: str, path: str, *, body: bytes | None = None, query: dict | None = None,
                 content_type: str = "application/json", timeout: float | None = None,
                 retry: bool = True, stream_to: Path | None = None, body_file: Path | None = None):
        """One call with retries on 5xx/429/connection errors. Returns (status, bytes)."""
        delays = self.backoff.delays() if retry else iter(())
        while True:
            data = body
            fh = None
            headers = {"Authorization": f"Bearer {self.token}"}
            if body_file is not None:
                fh = open(body_file, "rb")
                data = fh
                headers["Content-Length"] = str(Path(body_file).stat().st_size)
            if data is not None:
                headers["Content-Type"] = content_type
            req = urllib.request.Request(self._url(path, query), data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                    if stream_to is not None and resp.status == 200:
                        tmp = Path(str(stream_to) + ".part")
                        with open(tmp, "wb") as out:
                            shutil.copyfileobj(resp, out, 1 << 20)
                        tmp.replace(stream_to)
                        return resp.status, b""
                    return resp.status, resp.read()
            except urllib.error.HTTPError as e:
                status, payload = e.code, e.read()
                if status >= 500 or status in (408, 429):
                    delay = next(delays, None)
                    if delay is not None:
                        log.warning("%s %s: HTTP %s, retrying in %.1fs", method, path, status, delay)
                        self.backoff.sleep(delay)
                        continue
                raise self._error(status, payload) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                delay = next(delays, None)
                if delay is None:
                    raise
                log.warning("%s %s: %s, retrying in %.1fs", method, path, e, delay)
                self.backoff.sleep(delay)
            finally:
                if fh is not None:
                    fh.close()

    @staticmethod
    def _error(status: int, payload: bytes) -> ProtocolError:
        message, code = payload.decode("utf-8", "replace")[:500], None
        try:
            err = json.loads(payload)["error"]
            message, code = err.get("message", message), err.get("code")
        except (ValueError, KeyError, TypeError):
            pass
        cls = LeaseLost if status == 409 else ProtocolError
        return cls(status, message, code)

    def _json(self, path: str, send_type: str, message: dict, recv_type: str | None, **kw):
        self.schema.check(send_type, message)
        status, payload = self._request("POST", path, body=json.dumps(message).encode(), **kw)
        if status == 204:
            return None
        reply = json.loads(payload) if payload else {}
        if recv_type:
            self.schema.check(recv_type, reply)
        return reply

    # ------------------------------------------------------------------ calls
    def register(self, name: str, pool: str, models: list[str]) -> Registration:
        r = self._json("/workers/register", "RegisterRequest",
                       {"name": name, "pool": pool, "models": models, "version": VERSION}, "RegisterResponse")
        return Registration(r["worker_id"], r["models"], r["lease_seconds"], r["heartbeat_interval_ms"],
                            r["max_wait_seconds"])

    def lease(self, worker_id: str, models: list[str], wait_seconds: int) -> Job | None:
        """Long-poll for a job; None on 204 (poll again)."""
        r = self._json("/lease", "LeaseRequest",
                       {"worker_id": worker_id, "models": models, "wait_seconds": wait_seconds}, "Job",
                       timeout=wait_seconds + self.timeout)
        return None if r is None else Job(r)

    def heartbeat(self, job: Job, progress: int, retry: bool = True) -> bool:
        """Extends the lease and reports progress; returns True when the user cancelled.

        The heartbeat thread calls it with `retry=False`: its next beat is the retry, and a beat
        stuck in backoff for longer than the lease would let the lease lapse.
        """
        r = self._json(f"/jobs/{job.video_id}/heartbeat", "HeartbeatRequest",
                       {"lease_id": job.lease_id, "progress": int(max(0, min(100, progress)))},
                       "HeartbeatResponse", retry=retry)
        return bool(r.get("cancel"))

    def download(self, job: Job, name: str, dest: Path) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._request("GET", f"/jobs/{job.video_id}/inputs/{name}", query={"lease_id": job.lease_id},
                      stream_to=dest)
        return dest

    def upload(self, job: Job, name: str, path: Path) -> dict:
        _, payload = self._request("PUT", f"/jobs/{job.video_id}/artifacts/{name}",
                                   query={"lease_id": job.lease_id}, body_file=Path(path),
                                   content_type="application/octet-stream")
        r = json.loads(payload)
        self.schema.check("ArtifactReceipt", r)
        return r

    def complete(self, job: Job) -> dict:
        return self._json(f"/jobs/{job.video_id}/complete", "CompleteRequest", {"lease_id": job.lease_id},
                          "OutcomeResponse", timeout=max(self.timeout, NODE_CALL_LIMIT_S))

    def fail(self, job: Job, code: str, message: str, retryable: bool) -> dict:
        return self._json(f"/jobs/{job.video_id}/fail", "FailRequest",
                          {"lease_id": job.lease_id, "code": code, "message": message[:2000],
                           "retryable": retryable}, "OutcomeResponse")


class Heartbeat:
    """Background heartbeats for one job: reports the latest progress, raises the cancel flag.

    `cancel` is set when the server says the user cancelled, and also when the lease is lost (a
    409): in both cases rendering must stop at the next step. `lost` tells the two apart.
    """

    def __init__(self, client: Client, job: Job, interval_s: float):
        self.client = client
        self.job = job
        self.interval_s = max(0.05, interval_s)
        self.cancel = threading.Event()
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._progress = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.video_id}", daemon=True)

    def report(self, progress: int) -> None:
        with self._lock:
            self._progress = max(self._progress, int(progress))

    @property
    def progress(self) -> int:
        with self._lock:
            return self._progress

    def beat(self) -> None:
        """One heartbeat now (also used by the loop)."""
        try:
            if self.client.heartbeat(self.job, self.progress, retry=False):
                log.info("%s: cancelled by the user", self.job.video_id)
                self.cancel.set()
        except LeaseLost:
            log.warning("%s: lease lost; dropping the job", self.job.video_id)
            self.lost.set()
            self.cancel.set()
        except Exception as e:  # a missed heartbeat is not fatal; the next one may land
            log.warning("%s: heartbeat failed: %s", self.job.video_id, e)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()
            if self.lost.is_set():
                return

    def __enter__(self) -> "Heartbeat":
        # One heartbeat before any work: it records that the job started, and a job cancelled
        # (or lost) while it waited in the queue is dropped before a model is even loaded.
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
