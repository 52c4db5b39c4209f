"""Kinora additions the SDK does not model but users rely on: cancel, Idempotency-Key,
queue_position, usage, and the model list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2
import openai
import pytest
from openai import OpenAI
from openai.types import Video

from api_errors import assert_client_error_with_code, assert_sdk_error
from video_jobs import cancel, cancel_quietly, raw_json, wait

LONG = {"model": "sora-2-pro", "size": "1920x1080", "seconds": "20"}


@dataclass
class BusyQueue:
    long_a: str
    long_b: str
    queued: str
    queued_create_body: dict


@pytest.fixture(scope="module")
def busy(client: OpenAI) -> Iterator[BusyQueue]:
    """Two long 1080p jobs occupy both workers, so a third, small job is certain to wait in the queue."""
    a = client.videos.create(prompt="A slow pan across a mountain range at dawn", **LONG).id
    b = client.videos.create(prompt="A slow pan across a desert at dusk", **LONG).id
    created = client.videos.with_raw_response.create(
        prompt="A cat asleep on a windowsill", size="720x1280", seconds="4"
    )
    busy_queue = BusyQueue(a, b, created.parse().id, raw_json(created))
    yield busy_queue
    cancel_quietly(client, [a, b, busy_queue.queued])


def test_queue_position_while_queued(client: OpenAI, busy: BusyQueue) -> None:
    assert "queue_position" in busy.queued_create_body, (
        f"create response lacks queue_position: {busy.queued_create_body}"
    )
    body = raw_json(client.videos.with_raw_response.retrieve(busy.queued))
    assert body["status"] == "queued", f"third job behind two long ones should be queued: {body}"
    position = body.get("queue_position")
    assert isinstance(position, int) and position >= 0, f"queue_position {position!r} while queued"
    for long_id in (busy.long_a, busy.long_b):
        long_body = raw_json(client.videos.with_raw_response.retrieve(long_id))
        assert "queue_position" in long_body, f"queue_position key missing on a {long_body['status']} job"


@pytest.mark.parametrize("which", ["queued", "long_a"])
def test_retrieve_of_unfinished_video_sends_poll_hint(client: OpenAI, busy: BusyQueue, which: str) -> None:
    # The SDK's poll() sleeps for openai-poll-after-ms when no poll_interval_ms is given.
    response = client.videos.with_raw_response.retrieve(getattr(busy, which))
    assert response.parse().status in ("queued", "in_progress")
    value = response.headers.get("openai-poll-after-ms")
    assert value is not None, f"no openai-poll-after-ms header; got {dict(response.headers)}"
    assert value.isdigit() and int(value) > 0, f"openai-poll-after-ms={value!r}"


@pytest.mark.parametrize("which", ["queued", "long_a"])
def test_download_of_unfinished_video_is_refused(strict_client: OpenAI, busy: BusyQueue, which: str) -> None:
    video_id = getattr(busy, which)
    status = strict_client.videos.retrieve(video_id).status
    assert status in ("queued", "in_progress"), f"{which} job is already {status}"
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.download_content(video_id)
    assert_client_error_with_code(caught.value)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c, vid: c.videos.remix(vid, prompt="again"), id="remix"),
        pytest.param(
            lambda c, vid: c.videos.extend(
                prompt="more", seconds="4", video=openai.omit, extra_body={"video": {"id": vid}}
            ),
            id="extend",
        ),
        pytest.param(
            lambda c, vid: c.videos.edit(prompt="recolour", video=openai.omit, extra_body={"video": {"id": vid}}),
            id="edit",
        ),
    ],
)
def test_unfinished_video_cannot_be_a_source(strict_client: OpenAI, busy: BusyQueue, call) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        call(strict_client, busy.queued)
    assert_client_error_with_code(caught.value)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("which", ["queued", "long_a", "long_b"])
def test_cancel_ends_failed_with_code_cancelled(
    client: OpenAI, strict_client: OpenAI, busy: BusyQueue, which: str
) -> None:
    video_id = getattr(busy, which)
    cancelled = cancel(client, video_id)
    assert cancelled.id == video_id
    final = wait(client, video_id)
    assert final.status == "failed", f"cancelled job ended {final.status}"
    assert final.error is not None and final.error.code == "cancelled", f"error {final.error}"
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.download_content(video_id)
    assert_client_error_with_code(caught.value)


def test_failed_video_can_be_deleted(client: OpenAI, busy: BusyQueue) -> None:
    assert client.videos.retrieve(busy.queued).status == "failed", "runs after the cancel tests"
    deleted = client.videos.delete(busy.queued)
    assert (deleted.id, deleted.deleted) == (busy.queued, True)


def test_cancel_of_completed_video_is_refused(strict_client: OpenAI, base_video: Video) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        cancel(strict_client, base_video.id)
    assert_client_error_with_code(caught.value)
    assert strict_client.videos.retrieve(base_video.id).status == "completed"


def test_idempotency_key(client: OpenAI, client2: OpenAI, strict_client: OpenAI) -> None:
    key = {"Idempotency-Key": f"sdk-test-{uuid.uuid4()}"}
    args = {"prompt": "A lantern floating down a river", "size": "720x1280", "seconds": "4"}
    mine: list[str] = []
    theirs: list[str] = []
    try:
        first = strict_client.videos.create(**args, extra_headers=key)
        mine.append(first.id)
        again = strict_client.videos.create(**args, extra_headers=key)
        assert again.id == first.id, "same Idempotency-Key and body must return the original job"
        with pytest.raises(openai.APIStatusError) as caught:
            strict_client.videos.create(**{**args, "prompt": "A different prompt"}, extra_headers=key)
        assert_sdk_error(caught.value, openai.ConflictError)
        other_project = client2.videos.create(**args, extra_headers=key)
        theirs.append(other_project.id)
        assert other_project.id != first.id, "idempotency keys must be scoped to the project"
        fresh = strict_client.videos.create(**args, extra_headers={"Idempotency-Key": f"sdk-test-{uuid.uuid4()}"})
        mine.append(fresh.id)
        assert fresh.id != first.id
    finally:
        cancel_quietly(client, mine)
        cancel_quietly(client2, theirs)


def test_completed_video_reports_usage(client: OpenAI, base_video: Video) -> None:
    body = raw_json(client.videos.with_raw_response.retrieve(base_video.id))
    assert isinstance(body.get("usage"), dict) and body["usage"], f"usage on a completed video: {body.get('usage')!r}"


def test_models_list(client: OpenAI) -> None:
    ids = {m.id for m in client.models.list()}
    assert {"sora-2", "sora-2-pro"} <= ids, f"models: {sorted(ids)}"


def test_download_supports_ranges_and_etags(
    raw: Callable[..., httpx2.Response], base_video: Video, base_mp4: bytes
) -> None:
    # Players and resumable downloads ask for ranges; the SDK itself always fetches the whole body.
    response = raw("GET", f"/v1/videos/{base_video.id}/content", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206, f"HTTP {response.status_code} for a Range request"
    assert response.content == base_mp4[:100]
    assert response.headers.get("content-range") == f"bytes 0-99/{len(base_mp4)}"
    etag = response.headers.get("etag")
    assert etag, "content responses should carry an ETag for caching and If-Range"
    cached = raw("GET", f"/v1/videos/{base_video.id}/content", headers={"If-None-Match": etag})
    assert cached.status_code == 304, f"HTTP {cached.status_code} for a matching If-None-Match"
