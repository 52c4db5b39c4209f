"""Small SDK-side helpers shared by the tests: waiting, cancelling, and checking video objects."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import openai
from openai import OpenAI
from openai.types import Video

from server_process import API_KEYS

POLL_MS = 200
VIDEO_KEYS = frozenset(
    {
        "id",
        "object",
        "model",
        "status",
        "progress",
        "created_at",
        "completed_at",
        "expires_at",
        "prompt",
        "size",
        "seconds",
        "remixed_from_video_id",
        "error",
    }
)


def make_client(url: str, key: str = API_KEYS[0], **options: Any) -> OpenAI:
    """An SDK client configured as a user would: only base_url and api_key changed."""
    return OpenAI(base_url=url + "/v1", api_key=key, **options)


def wait(client: OpenAI, video_id: str) -> Video:
    """The SDK's own poll loop (the per-test timeout bounds it)."""
    return client.videos.poll(video_id, poll_interval_ms=POLL_MS)


def wait_until_started(client: OpenAI, video_id: str) -> Video:
    """Polls (like the SDK's own poll()) until a worker has picked the job up."""
    while True:
        video = client.videos.retrieve(video_id)
        if video.status != "queued":
            return video
        time.sleep(POLL_MS / 1000 / 4)


def describe(video: Video) -> str:
    return f"{video.id} status={video.status} progress={video.progress} error={video.error}"


def assert_completed(video: Video) -> Video:
    assert video.status == "completed", f"job did not complete: {describe(video)}"
    assert video.progress == 100, f"completed with progress {video.progress}"
    assert video.error is None, f"completed job carries an error: {video.error}"
    assert isinstance(video.completed_at, int) and video.completed_at >= video.created_at
    return video


def cancel(client: OpenAI, video_id: str) -> Video:
    """Kinora's extension endpoint; the SDK has no method for it, so use the generic `post`."""
    return client.post(f"/videos/{video_id}/cancel", cast_to=Video, body={})


def cancel_quietly(client: OpenAI, video_ids: list[str]) -> None:
    """Frees the workers after tests that only needed jobs to exist, not to finish.

    Errors are ignored on purpose: the job may already be terminal, and cancellation has its
    own strict test in test_kinora_extensions.py.
    """
    for video_id in video_ids:
        with contextlib.suppress(openai.APIError):
            cancel(client.with_options(max_retries=0), video_id)


def raw_json(response: Any) -> dict:
    """JSON body of a `with_raw_response` result."""
    return response.http_response.json()
