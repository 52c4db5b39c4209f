"""A Kinora cluster on one machine: PostgreSQL and an S3 server started here on loopback, API
nodes (`kinora serve --workers 0`) sharing them, built-in workers (`kinora worker`) and the
Python GPU worker on tiny models, all as real processes.

Every test gets its own database and bucket prefix on the shared servers, so tests stay
independent; they run one at a time (a fault test restarts PostgreSQL under everything).
Processes learn addresses from the `kinora listening on URL` line printed after binding; nothing
sleeps to wait for a server.
"""

from __future__ import annotations

import glob
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "sdk"))  # media.py: the ffprobe checks of the SDK suite
sys.path.insert(0, str(REPO / "workers" / "python"))
sys.path.insert(0, str(REPO / "workers" / "python" / "tests"))  # tiny_models.py

from s3_proxy import S3Proxy  # noqa: E402

BIN = Path(os.environ.get("KINORA_BIN") or REPO / "target" / "debug" / "kinora")
API_KEY = "sk-cluster-test"
WORKER_TOKEN = "cluster-worker-token-0123456789"
TINY_MODEL = "wan-tiny-cluster"
LISTENING = re.compile(r"kinora listening on (http://\S+)")
# Short leases and backoffs so a lost worker or a failed attempt shows within seconds.
SETTINGS = f"""
lease_seconds = 4
max_attempts = 3
retry_backoff_seconds = 1

[[remote_models]]
id = "{TINY_MODEL}"
pool = "tiny"
like = "sora-2"
"""


class Proc:
    """A child process; its stdout lines are searchable while it runs, stderr goes to a log."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.lines: queue.Queue[str | None] = queue.Queue()
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - the child owns it
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                  text=True, bufsize=1, env=env)
        log.close()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 60.0) -> re.Match[str]:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise RuntimeError(f"{self.name} exited ({self.p.wait()}) before {pattern.pattern!r}:\n{self.tail()}")
            if m := pattern.search(line):
                return m

    def kill(self) -> None:
        """SIGKILL: no shutdown path runs, as when a machine dies."""
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class Services:
    pg_dir: Path
    admin_url: str
    psql: str
    s3_dir: Path
    s3_env: dict[str, str]
    bucket: str

    def restart_postgres(self) -> None:
        subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "restart", str(self.pg_dir)],
                       check=True, stdout=subprocess.DEVNULL)

    def new_database(self, name: str) -> str:
        subprocess.run([self.psql, "-q", "-v", "ON_ERROR_STOP=1", self.admin_url, "-c", f'CREATE DATABASE "{name}"'],
                       check=True, stdout=subprocess.DEVNULL)
        return self.admin_url.rsplit("/", 1)[0] + "/" + name


def _psql() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1:]), None)
    if not found:
        raise RuntimeError("psql not found; scripts/postgres.sh installs Debian's postgresql")
    return found


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    if not BIN.is_file():
        raise RuntimeError(f"kinora binary not built at {BIN} (cargo build -p kinora, or set KINORA_BIN)")
    # Outside pytest's private (0700) temp root: run as root, PostgreSQL runs as the postgres user,
    # which must reach its cluster directory.
    root = Path(tempfile.mkdtemp(prefix="kinora-cluster-"))
    root.chmod(0o755)
    pg_dir, s3_dir = root / "pg", root / "s3"
    started = subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "start", str(pg_dir)],
                             capture_output=True, text=True)
    if started.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr}")
    url = started.stdout.strip().splitlines()[-1]
    try:
        subprocess.run(["bash", str(REPO / "scripts" / "s3.sh"), "start", str(s3_dir)], check=True,
                       stdout=subprocess.DEVNULL)
        try:
            env = dict(line.split("=", 1) for line in (s3_dir / "env").read_text().split() if "=" in line)
            bucket = env.pop("KINORA_TEST_S3_BUCKET")
            yield Services(pg_dir, url, _psql(), s3_dir, env, bucket)
        finally:
            subprocess.run(["bash", str(REPO / "scripts" / "s3.sh"), "stop", str(s3_dir)], check=False)
    finally:
        subprocess.run(["bash", str(REPO / "scripts" / "postgres.sh"), "stop", str(pg_dir)], check=False)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Cluster:
    """The processes of one test, on its own database and prefix; stopped when the test ends."""

    services: Services
    dir: Path
    database_url: str
    blob_url: str
    s3: S3Proxy
    procs: list[Proc] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ, **self.services.s3_env)
        env["AWS_ENDPOINT"] = self.s3.endpoint  # through the switchable relay
        env.setdefault("KINORA_LOG", "info")
        return env

    def node(self, name: str, extra: tuple[str, ...] = ()) -> tuple[Proc, str]:
        settings = self.dir / "kinora.toml"
        settings.write_text(SETTINGS)
        argv = [str(BIN), "serve", "--config", str(settings), "--listen", "127.0.0.1:0",
                "--data-dir", str(self.dir / name), "--workers", "0", "--api-key", API_KEY,
                "--worker-token", WORKER_TOKEN, "--database-url", self.database_url,
                "--blob-url", self.blob_url, *extra]
        proc = self._spawn(name, argv)
        return proc, proc.wait_for(LISTENING).group(1)

    def builtin_worker(self, name: str, server: str) -> Proc:
        return self._spawn(name, [str(BIN), "worker", "--server", server, "--token", WORKER_TOKEN,
                                  "--name", name, "--scratch-dir", str(self.dir / name)])

    def python_worker(self, name: str, server: str, tiny: dict[str, Path]) -> Proc:
        cfg = self.dir / f"{name}.toml"
        # One step at 1 fps: the smallest honest render on a CPU (the node normalises to 24 fps).
        cfg.write_text(f"""
server = "{server}"
token = "{WORKER_TOKEN}"
pool = "tiny"
name = "{name}"
work_dir = "{self.dir / name}"
wait_seconds = 2

[models."{TINY_MODEL}"]
family = "wan"
t2v = "{tiny['wan_t2v']}"
dtype = "float32"
device = "cpu"
steps = 1
fps = 1
frames_per_pass = 9
overlap_frames = 1
max_sequence_length = 16
""")
        env = self.env()
        env.update(HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "workers" / "python"))
        return self._spawn(name, [sys.executable, "-m", "kinora_worker", "--config", str(cfg)], env)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, self.dir, env or self.env())
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.p.poll()}) ---\n{p.tail()}" for p in self.procs)


@pytest.fixture
def cluster(services: Services, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    tag = f"c{uuid.uuid4().hex[:12]}"
    host, port = services.s3_env["AWS_ENDPOINT"].removeprefix("http://").rsplit(":", 1)
    proxy = S3Proxy(host, int(port))
    c = Cluster(services, tmp_path, services.new_database(tag), f"s3://{services.bucket}/{tag}", proxy)
    try:
        yield c
    finally:
        for p in reversed(c.procs):
            p.stop()
        proxy.down()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(c.logs())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import tiny_models

    root = os.environ.get("KINORA_TINY_MODELS") or tmp_path_factory.mktemp("tiny-models")
    return tiny_models.build(root, names=("wan_t2v",))
