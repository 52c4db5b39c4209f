"""End to end: the real `kinora serve`, this worker as its own process, the official openai SDK.

The node routes a model id to this worker's pool (`[[remote_models]]`) and runs no in-process
workers (`--workers 0`), so the video can only complete if the GPU worker leased it, rendered it
through the tiny Wan pipeline, uploaded a clip the node could decode and completed the job.
Skipped when the kinora binary is not built (KINORA_BIN, default target/debug/kinora).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import REPO
from kinora_worker import media

BIN = Path(os.environ.get("KINORA_BIN") or (REPO / "target" / "debug" / "kinora"))
WORKER_TOKEN = "e2e-worker-token-0123456789"
API_KEY = "sk-e2e-test-key"
MODEL = "wan-tiny-e2e"
LISTENING = re.compile(r"kinora listening on (http://\S+)")

pytestmark = pytest.mark.skipif(not BIN.is_file(), reason=f"kinora binary not built at {BIN}")


class Proc:
    """A child process whose stdout lines are collected (and searchable while it runs)."""

    def __init__(self, argv, log_path: Path, env=None):
        self.lines: queue.Queue = queue.Queue()
        self.log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
                                  text=True, bufsize=1, env=env)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.p.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern, timeout: float = 120.0) -> re.Match:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise RuntimeError(f"process exited ({self.p.wait()}) before printing {pattern.pattern!r}")
            m = pattern.search(line)
            if m:
                return m

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


@pytest.fixture
def node(tmp_path):
    settings = tmp_path / "kinora.toml"
    # Routing a model id to a worker pool: the node's [[remote_models]] (crates/kinora-server/src/
    # worker/config.rs); `like` lends it sora-2's sizes, lengths and prices.
    settings.write_text(f'[[remote_models]]\nid = "{MODEL}"\npool = "tiny"\nlike = "sora-2"\n')
    srv = Proc([str(BIN), "serve", "--config", str(settings), "--listen", "127.0.0.1:0",
                "--data-dir", str(tmp_path / "data"), "--workers", "0", "--worker-token", WORKER_TOKEN,
                "--api-key", API_KEY], tmp_path / "kinora.log")
    try:
        url = srv.wait_for(LISTENING).group(1)
        yield url
    finally:
        srv.stop()
        if os.environ.get("KINORA_E2E_SHOW_LOGS"):
            print((tmp_path / "kinora.log").read_text()[-5000:])


@pytest.fixture
def worker(node, tiny_dirs, tmp_path):
    cfg = tmp_path / "worker.toml"
    # 1 fps, one step: the smallest honest render of a 4 s 1280x720 clip on a CPU (the node
    # normalises the frame rate to 24 fps).
    cfg.write_text(f"""
server = "{node}"
token = "{WORKER_TOKEN}"
pool = "tiny"
name = "pytest-e2e"
work_dir = "{tmp_path / 'work'}"
wait_seconds = 2

[models."{MODEL}"]
family = "wan"
t2v = "{tiny_dirs['wan_t2v']}"
vace = "{tiny_dirs['wan_vace']}"
dtype = "float32"
device = "cpu"
steps = 1
fps = 1
frames_per_pass = 9
overlap_frames = 1
max_sequence_length = 16
""")
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).parents[1]))
    w = Proc([sys.executable, "-m", "kinora_worker", "--config", str(cfg)], tmp_path / "worker.log", env=env)
    yield w
    w.stop()
    log = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in log, log[-5000:]


def test_sdk_video_rendered_by_the_gpu_worker(node, worker, tmp_path):
    from openai import OpenAI

    client = OpenAI(base_url=node + "/v1", api_key=API_KEY, max_retries=0)
    models = {m.id for m in client.models.list()}
    assert MODEL in models
    video = client.videos.create_and_poll(model=MODEL, prompt="a red robot dances", size="1280x720", seconds="4",
                                          poll_interval_ms=200)
    assert video.status == "completed", video
    assert video.progress == 100 and video.error is None
    out = tmp_path / "out.mp4"
    client.videos.download_content(video.id).write_to_file(out)
    p = media.probe(str(out))
    assert (p.codec, p.width, p.height) == ("h264", 1280, 720)
    assert abs(p.duration - 4.0) <= 0.5
    assert p.audio_codecs  # the node adds the platform's (silent) audio track
