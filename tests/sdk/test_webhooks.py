"""Webhooks through the SDK's `client.webhooks`: endpoints are managed with the SDK, events from real
renders reach a receiver on loopback, and every delivery verifies with `client.webhooks.unwrap` /
`verify_signature` and the secret the SDK returned. Each event is accepted exactly once per
`webhook-id`, also across a receiver outage (503s) that forces retries.

The server runs with `--danger-allow-private-webhooks` (the receiver is on loopback) and a settings
file that shortens the retry delays; nothing here sleeps to wait for the server.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from openai import InvalidWebhookSignatureError, OpenAI

from server_process import KinoraServer, start_server, stop_server
from video_jobs import POLL_MS, assert_completed, make_client

SETTINGS = """
[webhook_delivery]
retry_base_ms = 100
retry_max_ms = 400
poll_ms = 100
"""
DEADLINE_S = 120.0


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    """A loopback HTTP receiver that records every request and answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.hits: queue.Queue[Hit] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver.status
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.hits.put(Hit(headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kinora"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next(self) -> Hit:
        return self.hits.get(timeout=DEADLINE_S)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hook_server(tmp_path: Path) -> Iterator[KinoraServer]:
    config = tmp_path / "kinora.toml"
    config.write_text(SETTINGS)
    srv = start_server(
        tmp_path / "data",
        workers=1,
        extra_args=("--config", str(config), "--danger-allow-private-webhooks"),
    )
    yield srv
    stop_server(srv)


def verify(client: OpenAI, hit: Hit, secret: str) -> dict[str, object]:
    """Both SDK entry points accept the delivery; returns the event as JSON."""
    client.webhooks.verify_signature(hit.body, hit.headers, secret=secret)
    event = client.webhooks.unwrap(hit.body, hit.headers, secret=secret)
    # The SDK has no video.* models: unwrap parses into another union member; the raw JSON is exact.
    assert event.type == hit_json(hit)["type"]
    return hit_json(hit)


def hit_json(hit: Hit) -> dict[str, object]:
    import json

    return json.loads(hit.body)


def test_events_arrive_signed_once_each_across_an_outage(hook_server: KinoraServer, receiver: Receiver) -> None:
    client = make_client(hook_server.url)
    endpoint = client.webhooks.create(
        name="render notifications", url=receiver.url, event_types=["video.completed", "video.failed"]
    )
    secret = endpoint.signing_secret
    assert secret.startswith("whsec_") and endpoint.url == receiver.url
    assert endpoint.signing_secret_hint and secret not in endpoint.signing_secret_hint

    receiver.status = 503  # the receiver is down: every attempt fails until it recovers
    rendered = client.videos.create(prompt="A kettle steaming on a stove", size="720x1280", seconds="4")
    doomed = client.videos.create(prompt="A lighthouse in fog", size="720x1280", seconds="4")
    client.videos.delete(doomed.id)  # queued behind the render, so it ends failed: video.failed

    hits: list[Hit] = []
    attempts: dict[str, int] = {}
    deadline = time.monotonic() + DEADLINE_S
    while len(attempts) < 2 or min(attempts.values()) < 2:
        assert time.monotonic() < deadline, f"retries during the outage never came: {attempts}"
        hit = receiver.next()
        hits.append(hit)
        attempts[hit.webhook_id] = attempts.get(hit.webhook_id, 0) + 1
    receiver.status = 200  # back up

    accepted: dict[str, dict[str, object]] = {}
    while len(accepted) < 2:
        hit = receiver.next()
        hits.append(hit)
        if hit.answered == 200:
            assert hit.webhook_id not in accepted, "an accepted webhook-id was delivered again"
            accepted[hit.webhook_id] = verify(client, hit, secret)

    first_body: dict[str, bytes] = {}
    for hit in hits:
        verify(client, hit, secret)
        first_body.setdefault(hit.webhook_id, hit.body)
        assert hit.body == first_body[hit.webhook_id], "a retry changed the payload"
        assert hit.headers["content-type"] == "application/json"
        assert hit.headers["user-agent"].startswith("Kinora/")
    assert set(first_body) == set(accepted)

    events = {(e["type"], e["data"]["id"]) for e in accepted.values()}  # type: ignore[index]
    assert events == {("video.completed", rendered.id), ("video.failed", doomed.id)}
    for event in accepted.values():
        assert event["object"] == "event" and str(event["id"]).startswith("evt_")
    assert_completed(client.videos.poll(rendered.id, poll_interval_ms=POLL_MS))

    # The delivery log (a Kinora extension) agrees: both delivered, each after retries.
    log = client.get(
        f"/webhook_endpoints/{endpoint.id}/deliveries", cast_to=object, options={"params": {"order": "asc"}}
    )
    by_id = {d["id"]: d for d in log["data"]}  # type: ignore[index]
    deadline = time.monotonic() + DEADLINE_S
    while any(d["status"] != "delivered" for d in by_id.values()):
        assert time.monotonic() < deadline, by_id
        time.sleep(POLL_MS / 1000)
        log = client.get(f"/webhook_endpoints/{endpoint.id}/deliveries", cast_to=object)
        by_id = {d["id"]: d for d in log["data"]}  # type: ignore[index]
    assert set(by_id) == set(accepted)
    assert all(d["attempts"] >= 3 and d["last_status_code"] == 200 for d in by_id.values())


def test_endpoint_management_rotation_and_test_events(hook_server: KinoraServer, receiver: Receiver) -> None:
    client = make_client(hook_server.url)
    created = client.webhooks.create(name="ops", url=receiver.url, event_types=["batch.completed"])
    fetched = client.webhooks.retrieve(created.id)
    assert (fetched.id, fetched.name, fetched.event_types) == (created.id, "ops", ["batch.completed"])
    assert created.id in {e.id for e in client.webhooks.list()}

    updated = client.webhooks.update(created.id, name="ops-2", event_types=["video.completed", "batch.failed"])
    assert updated.name == "ops-2" and updated.event_types == ["video.completed", "batch.failed"]

    result = client.webhooks.test(created.id, event_type="video.completed")
    assert (result.status_code, result.success, result.webhook_endpoint_id) == (200, True, created.id)
    hit = receiver.next()
    event = verify(client, hit, created.signing_secret)
    assert event["type"] == "video.completed"

    rotated = client.webhooks.rotate_secret(created.id, keep_old_secret_active_for_24_hours=True)
    assert rotated.signing_secret != created.signing_secret
    client.webhooks.test(created.id, event_type="batch.failed")
    hit = receiver.next()
    verify(client, hit, rotated.signing_secret)
    verify(client, hit, created.signing_secret)  # still valid during the grace period

    again = client.webhooks.rotate_secret(created.id)
    client.webhooks.test(created.id, event_type="batch.failed")
    hit = receiver.next()
    verify(client, hit, again.signing_secret)
    with pytest.raises(InvalidWebhookSignatureError):
        client.webhooks.verify_signature(hit.body, hit.headers, secret=rotated.signing_secret)

    deleted = client.webhooks.delete(created.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "webhook_endpoint.deleted")
