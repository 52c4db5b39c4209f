"""Starts and stops a real `kinora serve` process for the SDK tests.

The server binds before it prints `kinora listening on http://127.0.0.1:PORT` on stdout, so the
tests learn the address from that line instead of sleeping or probing ports.

Storage: SQLite and files under the data directory by default. With `KINORA_SDK_POSTGRES_URL`
(an admin URL of a PostgreSQL server) and `KINORA_SDK_BLOB_URL` (an `s3://bucket/prefix`, with the
`AWS_*` variables set) the same suite runs unchanged against PostgreSQL + S3: each data directory
gets a database and a prefix of its own, reused when a test restarts a server on it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"kinora listening on (http://127\.0\.0\.1:\d+)")
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_GRACE_S = 10.0
API_KEYS = ("sk-test-1", "sk-test-2")


class ServerStartError(RuntimeError):
    """The server exited or stayed silent before announcing its address."""


_DATABASES: set[str] = set()


def storage_args(data_dir: Path) -> list[str]:
    """`--database-url`/`--blob-url` for `data_dir` when the suite runs on shared storage."""
    admin, blob = os.environ.get("KINORA_SDK_POSTGRES_URL"), os.environ.get("KINORA_SDK_BLOB_URL")
    if not admin and not blob:
        return []
    tag = "sdk_" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    args = []
    if admin:
        if tag not in _DATABASES:
            psql = shutil.which("psql") or (sorted(glob.glob("/usr/lib/postgresql/*/bin/psql")) or ["psql"])[-1]
            subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", admin, "-c", f'CREATE DATABASE "{tag}"'],
                           check=True, stdout=subprocess.DEVNULL)
            _DATABASES.add(tag)
        args += ["--database-url", admin.rsplit("/", 1)[0] + "/" + tag]
    if blob:
        args += ["--blob-url", blob.rstrip("/") + "/" + tag]
    return args


def kinora_bin() -> Path:
    return Path(os.environ.get("KINORA_BIN", REPO_ROOT / "target" / "debug" / "kinora"))


class KinoraServer:
    """One `kinora serve` child process with its captured output."""

    def __init__(self, data_dir: Path, workers: int = 2, extra_args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.extra_args = extra_args
        self.url = ""
        self.exit_code: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._lines_lock = threading.Lock()
        self._stderr_path = data_dir.parent / f"{data_dir.name}.stderr.log"

    @property
    def argv(self) -> list[str]:
        argv = [str(kinora_bin()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir)]
        for key in API_KEYS:
            argv += ["--api-key", key]
        argv += ["--workers", str(self.workers), *storage_args(self.data_dir), *self.extra_args]
        return argv

    def start(self) -> str:
        binary = kinora_bin()
        if not binary.is_file():
            raise ServerStartError(
                f"kinora binary not found at {binary}; build it (cargo build -p kinora) or set KINORA_BIN"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stderr = open(self._stderr_path, "w", encoding="utf-8")  # noqa: SIM115 - owned by the child
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
        )
        stderr.close()
        announced: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain_stdout, args=(announced,), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise ServerStartError(f"no listening line within {STARTUP_TIMEOUT_S:.0f} s\n{self.output()}")
            try:
                line = announced.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self._proc.wait()
                self.exit_code = code
                raise ServerStartError(f"kinora serve exited with {code} before listening\n{self.output()}")
            match = LISTENING.search(line)
            if match:
                self.url = match.group(1)
                return self.url

    def _drain_stdout(self, announced: queue.Queue[str | None]) -> None:
        # Keeps reading after the announcement so a chatty server never blocks on a full pipe.
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._lines_lock:
                self._lines.append(line.rstrip("\n"))
            announced.put(line)
        announced.put(None)

    def stop(self) -> int | None:
        """SIGTERM for a graceful shutdown; SIGKILL if it is still alive after the grace period."""
        proc = self._proc
        if proc is None:
            return self.exit_code
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=SHUTDOWN_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                with self._lines_lock:
                    self._lines.append(f"[tests] killed: still running {SHUTDOWN_GRACE_S:.0f} s after SIGTERM")
        self.exit_code = proc.returncode
        return self.exit_code

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def output(self, tail: int = 80) -> str:
        with self._lines_lock:
            stdout = self._lines[-tail:]
        try:
            stderr = self._stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-tail:]
        except OSError:
            stderr = []
        return "--- kinora stdout (tail) ---\n{}\n--- kinora stderr (tail) ---\n{}".format(
            "\n".join(stdout), "\n".join(stderr)
        )


LIVE_SERVERS: list[KinoraServer] = []
"""Servers currently running, so a failing test's report can include their logs."""


def start_server(data_dir: Path, workers: int = 2, extra_args: tuple[str, ...] = ()) -> KinoraServer:
    server = KinoraServer(data_dir, workers=workers, extra_args=extra_args)
    LIVE_SERVERS.append(server)
    try:
        server.start()
    except Exception:
        LIVE_SERVERS.remove(server)
        raise
    return server


def stop_server(server: KinoraServer) -> int | None:
    code = server.stop()
    if server in LIVE_SERVERS:
        LIVE_SERVERS.remove(server)
    return code
