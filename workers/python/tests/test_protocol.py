"""The protocol client and the worker loop against a fake node (real HTTP on port 0)."""

import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, TOKEN
from fake_server import LEASE_ERROR, FakeNode, job
from kinora_worker import media
from kinora_worker.protocol import Backoff, Client, Heartbeat, Job, LeaseLost, ProtocolError, Schema, SchemaMismatch
from kinora_worker.worker import Worker

NO_WAIT = Backoff(first=0.001, cap=0.001, attempts=3, sleep=lambda s: None)
SCHEMA = REPO / "docs" / "worker-protocol.schema.json"


@pytest.fixture
def node():
    with FakeNode(TOKEN) as n:
        yield n


def make_worker(node, config, host, schema=None):
    cfg = dataclasses.replace(config, server=node.url)
    client = Client(node.url, TOKEN, schema=Schema(schema), backoff=NO_WAIT, timeout=10)
    return Worker(cfg, client=client, host=host)


def test_204_polls_again_then_a_job_runs(node, config, host):
    node.push("lease", 204)
    node.push("lease", 200, job())
    w = make_worker(node, config, host)
    assert w.tick() == "idle"
    assert w.tick() == "completed"
    reg = node.of("register")[0]
    assert reg["auth"] == f"Bearer {TOKEN}" and reg["json"]["pool"] == "tiny"
    assert set(reg["json"]["models"]) == set(config.models)
    leases = node.of("lease")
    assert len(leases) == 2 and leases[0]["json"]["worker_id"] == "wkr_1"
    # The artifact is a valid clip of the job's size and length; complete came after it.
    path = node.url  # noqa: F841
    assert node.of("artifacts")[0]["query"]["lease_id"] == ["lease_1"]
    assert node.of("complete")[0]["json"] == {"lease_id": "lease_1"}
    kinds = [r["kind"] for r in node.requests]
    assert kinds.index("artifacts") < kinds.index("complete")
    beats = [r["json"]["progress"] for r in node.of("heartbeat")]
    assert beats[0] == 0 and beats[-1] == 100 and beats == sorted(beats)
    assert w.last_progress == sorted(w.last_progress) and w.last_progress[-1] == 99


def test_uploaded_video_is_valid(node, config, host, tmp_path):
    node.push("lease", 200, job(width=40, height=24, seconds=2))
    assert make_worker(node, config, host).tick() == "completed"
    (tmp_path / "v.mp4").write_bytes(node.artifacts["video.mp4"])
    p = media.probe(str(tmp_path / "v.mp4"))
    assert (p.codec, p.profile, p.width, p.height, p.frames) == ("h264", "Constrained Baseline", 40, 24, 16)
    assert "audio.wav" not in node.artifacts


def test_409_drops_the_job(node, config, host):
    node.push("lease", 200, job())
    node.push("heartbeat", 409, LEASE_ERROR)  # the first heartbeat already finds the lease gone
    assert make_worker(node, config, host).tick() == "dropped"
    assert not node.of("artifacts") and not node.of("complete") and not node.of("fail")


def test_409_on_upload_drops_the_job(node, config, host):
    node.push("lease", 200, job())
    node.push("artifacts", 409, LEASE_ERROR)
    assert make_worker(node, config, host).tick() == "dropped"
    assert not node.of("complete") and not node.of("fail")


def test_cancel_from_heartbeat_fails_as_cancelled(node, config, host):
    node.push("lease", 200, job())
    node.push("heartbeat", 200, {"cancel": True})
    assert make_worker(node, config, host).tick() == "failed"
    fail = node.of("fail")[0]["json"]
    assert fail["code"] == "cancelled" and fail["retryable"] is False and fail["lease_id"] == "lease_1"
    assert not node.of("artifacts") and not node.of("complete")


def test_stopping_the_worker_hands_the_rendering_job_back(node, config, host):
    """SIGTERM sets `stop` (__main__): the render stops at the next step and the job goes back to
    the queue at once, for another worker."""
    node.push("lease", 200, job(seconds=3))  # 4 passes of 2 steps
    node.push("fail", 200, {"outcome": "requeued"})
    w = make_worker(node, config, host)

    class StopAtFirstStep(list):
        def append(self, p):  # the worker's progress callback, inside the denoising loop
            super().append(p)
            w.stop.set()  # as the SIGTERM handler would, from the signal's thread

    w.last_progress = StopAtFirstStep()
    assert w.tick() == "requeued"
    assert len(w.last_progress) == 1  # stopped at the step it was in; no later step or pass ran
    fail = node.of("fail")[0]["json"]
    assert fail["code"] == "worker_stopping" and fail["retryable"] is True
    assert not node.of("artifacts") and not node.of("complete")


def test_a_job_leased_while_stopping_goes_back_before_any_work(node, config, host):
    node.push("lease", 200, job(inputs=[{"name": "input_reference", "kind": "image"}]))
    w = make_worker(node, config, host)
    w.stop.set()  # SIGTERM during the long-poll that then brought a job
    w.tick()
    fail = node.of("fail")[0]["json"]
    assert fail["code"] == "worker_stopping" and fail["retryable"] is True
    assert w.last_progress == [] and not node.of("inputs")


def test_5xx_is_retried_with_backoff(node):
    node.push("heartbeat", 503, {"error": {"message": "busy"}})
    node.push("heartbeat", 502, b"bad gateway")
    c = Client(node.url, TOKEN, backoff=NO_WAIT, timeout=10)
    assert c.heartbeat(Job(job()), 10) is False
    assert len(node.of("heartbeat")) == 3
    for _ in range(4):
        node.push("heartbeat", 500, {"error": {"message": "down"}})
    with pytest.raises(ProtocolError) as e:
        c.heartbeat(Job(job()), 10)
    assert e.value.status == 500


def test_complete_waits_as_long_as_the_node_may_take(node, monkeypatch):
    """The node may take up to 300 s to answer `complete`; the client's default timeout is shorter."""
    import urllib.request

    from kinora_worker.protocol import NODE_CALL_LIMIT_S

    timeouts = {}
    real = urllib.request.urlopen

    def spy(req, timeout=None):
        timeouts[req.full_url.rsplit("/", 1)[-1]] = timeout
        return real(req, timeout=timeout)

    monkeypatch.setattr(urllib.request, "urlopen", spy)
    c = Client(node.url, TOKEN, backoff=NO_WAIT, timeout=10)
    c.heartbeat(Job(job()), 10)
    assert c.complete(Job(job())) == {"outcome": "completed"}
    assert NODE_CALL_LIMIT_S == 300
    assert timeouts == {"heartbeat": 10, "complete": NODE_CALL_LIMIT_S}


def test_408_is_retried_like_a_503(node):
    node.push("complete", 408, {"error": {"message": "request timeout"}})
    c = Client(node.url, TOKEN, backoff=NO_WAIT, timeout=10)
    assert c.complete(Job(job())) == {"outcome": "completed"}
    assert len(node.of("complete")) == 2


def test_4xx_is_not_retried_and_409_is_lease_lost(node):
    c = Client(node.url, TOKEN, backoff=NO_WAIT, timeout=10)
    node.push("complete", 409, LEASE_ERROR)
    with pytest.raises(LeaseLost) as e:
        c.complete(Job(job()))
    assert e.value.code == "lease_lost"
    bad = Client(node.url, "wrong-token-0123456789", backoff=NO_WAIT, timeout=10)
    with pytest.raises(ProtocolError) as e:
        bad.register("w", "tiny", [])
    assert e.value.status == 401 and len(node.of("register")) == 1


def test_inputs_are_downloaded_for_image_and_characters(node, config, host):
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (250, 10, 10)).save(buf, "PNG")
    node.inputs["input_reference"] = buf.getvalue()
    cut = io.BytesIO()
    Image.new("RGBA", (20, 60), (0, 0, 255, 0)).save(cut, "PNG")  # tall: a crop to 48x32 would cut it
    node.inputs["character_0/cutout.png"] = cut.getvalue()
    node.push("lease", 200, job(inputs=[{"name": "input_reference", "kind": "image"},
                                        {"name": "character_0/cutout.png", "kind": "image"}],
                                characters=[{"name": "Mossy", "inputs": ["character_0/cutout.png"]}]))
    w = make_worker(node, config, host)
    seen = []
    real = w._request
    w._request = lambda *a: seen.append(real(*a)) or seen[-1]
    assert w.tick() == "completed"
    names = sorted(r["path"].split("/inputs/")[1] for r in node.of("inputs"))
    assert names == ["character_0/cutout.png", "input_reference"]
    req = seen[0]
    assert req.image.size == (48, 32)  # the input reference is the first frame: the frame's size
    # The character reaches the pipeline whole, at its own size and aspect, on white.
    assert [r.size for r in req.references] == [(20, 60)]
    assert req.references[0].getpixel((10, 30)) == (255, 255, 255)


def test_extend_downloads_the_source_and_uploads_the_new_segment(node, config, host, tmp_path):
    src = tmp_path / "src.mp4"
    frames = np.zeros((48, 32, 48, 3), np.uint8)
    frames[..., 2] = 200
    media.write_mp4(frames, str(src), 24, 48, 32)
    node.inputs["source.mp4"] = src.read_bytes()
    node.push("lease", 200, job(mode="extend", seconds=1, inputs=[{"name": "source.mp4", "kind": "video"}]))
    assert make_worker(node, config, host).tick() == "completed"
    (tmp_path / "out.mp4").write_bytes(node.artifacts["video.mp4"])
    p = media.probe(str(tmp_path / "out.mp4"))
    assert (p.width, p.height, p.frames) == (48, 32, 8)  # 1 s at 8 fps: the new segment only


def test_an_edit_takes_the_requests_strength_from_the_lease(node, config, host, tmp_path):
    src = tmp_path / "src.mp4"
    media.write_mp4(np.full((8, 32, 48, 3), 90, np.uint8), str(src), 8, 48, 32)
    node.inputs["source.mp4"] = src.read_bytes()
    node.push("lease", 200, job(mode="edit", prompt="make it snowy", seconds=1, edit_strength=0.35,
                                inputs=[{"name": "source.mp4", "kind": "video"}]))
    w = make_worker(node, config, host)
    seen = []
    real = w._request
    w._request = lambda *a: seen.append(real(*a)) or seen[-1]
    assert w.tick() == "completed"
    assert seen[0].edit_strength == 0.35
    # Without it, the model's configured default.
    node.push("lease", 200, job(mode="edit", prompt="make it snowy", seconds=1,
                                inputs=[{"name": "source.mp4", "kind": "video"}]))
    assert w.tick() == "completed"
    assert seen[1].edit_strength is None and seen[1].strength(config.models["wan-tiny"]) == 0.7


def test_a_model_the_worker_lacks_fails_without_retry(node, config, host):
    node.push("lease", 200, job(model="not-here"))
    make_worker(node, config, host).tick()
    fail = node.of("fail")[0]["json"]
    assert fail["code"] == "unsupported" and fail["retryable"] is False


def test_heartbeat_thread_does_not_retry_a_failed_beat(node):
    node.push("heartbeat", 503, {"error": {"message": "busy"}})
    c = Client(node.url, TOKEN, backoff=NO_WAIT, timeout=10)
    hb = Heartbeat(c, Job(job()), interval_s=3600)
    hb.beat()  # fails and is logged; the next periodic beat is the retry
    assert len(node.of("heartbeat")) == 1 and not hb.cancel.is_set()
    hb.beat()
    assert len(node.of("heartbeat")) == 2


def test_heartbeat_thread_reports_the_latest_progress(node):
    c = Client(node.url, TOKEN, backoff=NO_WAIT, timeout=10)
    with Heartbeat(c, Job(job()), interval_s=3600) as hb:
        hb.report(40)
        hb.report(30)  # progress never goes back
        hb.beat()
    assert [r["json"]["progress"] for r in node.of("heartbeat")] == [0, 40]


def test_schema_validation(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"$defs": {"HeartbeatRequest": {
        "type": "object", "required": ["lease_id", "progress"], "additionalProperties": False,
        "properties": {"lease_id": {"type": "string"}, "progress": {"type": "integer", "minimum": 0,
                                                                    "maximum": 100}}}}}))
    s = Schema(schema)
    s.check("HeartbeatRequest", {"lease_id": "x", "progress": 5})
    with pytest.raises(SchemaMismatch, match="progress"):
        s.check("HeartbeatRequest", {"lease_id": "x", "progress": "5"})
    with pytest.raises(SchemaMismatch, match="no definition"):
        s.check("Job", {})
    assert not Schema(tmp_path / "absent.json").active


@pytest.mark.skipif(not SCHEMA.is_file(), reason="docs/worker-protocol.schema.json is missing")
def test_messages_match_the_committed_schema(node, config, host):
    """The worker's messages and the fake node's answers, checked against the server's schema."""
    s = Schema(SCHEMA)
    for name in ("RegisterRequest", "RegisterResponse", "LeaseRequest", "Job", "HeartbeatRequest",
                 "HeartbeatResponse", "ArtifactReceipt", "CompleteRequest", "FailRequest", "OutcomeResponse"):
        assert name in s._validators
    node.push("lease", 200, job())
    w = make_worker(node, config, host, schema=SCHEMA)
    assert w.tick() == "completed"
    with pytest.raises(SchemaMismatch):
        s.check("Job", dict(job(), mode="remix"))


def test_ltx2_job_uploads_video_and_audio(node, config, host, tmp_path):
    node.push("lease", 200, job(model="ltx2-tiny", width=32, height=32, seconds=1))
    assert make_worker(node, config, host).tick() == "completed"
    (tmp_path / "v.mp4").write_bytes(node.artifacts["video.mp4"])
    (tmp_path / "a.wav").write_bytes(node.artifacts["audio.wav"])
    assert media.probe(str(tmp_path / "v.mp4")).frames == 8
    import wave

    with wave.open(str(tmp_path / "a.wav")) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 2 and w.getnframes() > 0
    uploads = [r["path"].rsplit("/", 1)[1] for r in node.of("artifacts")]
    assert uploads == ["video.mp4", "audio.wav"]


def test_cli_runs_one_job(node, tiny_dirs, tmp_path):
    """`python -m kinora_worker --config worker.toml --once`: config file, register, lease, render."""
    import os
    import subprocess
    import sys

    cfg = tmp_path / "worker.toml"
    cfg.write_text(f"""
server = "{node.url}"
token = "{TOKEN}"
pool = "tiny"
work_dir = "{tmp_path / 'work'}"
[models.wan-tiny]
family = "wan"
t2v = "{tiny_dirs['wan_t2v']}"
dtype = "float32"
device = "cpu"
steps = 1
fps = 8
frames_per_pass = 9
max_sequence_length = 16
""")
    node.push("lease", 200, job())
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "workers" / "python"))
    out = subprocess.run([sys.executable, "-m", "kinora_worker", "--config", str(cfg), "--once"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "completed"
    assert node.of("register")[0]["json"]["models"] == ["wan-tiny"]
    assert node.of("complete")


def test_cli_refuses_a_bad_config(tmp_path):
    import subprocess
    import sys

    (tmp_path / "w.toml").write_text('server = "http://x"\npool = "p"\ntoken = "t"\n')
    out = subprocess.run([sys.executable, "-m", "kinora_worker", "--config", str(tmp_path / "w.toml")],
                         capture_output=True, text=True, cwd=REPO / "workers" / "python", timeout=120)
    assert out.returncode == 2 and "at least one model" in out.stderr
