"""A video created with every optional field left out: the defaults, then DELETE."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI
from openai.types import Video

from api_errors import assert_sdk_error
from media import assert_valid_mp4
from video_jobs import POLL_MS, assert_completed


@pytest.fixture(scope="module")
def default_video(client: OpenAI) -> Video:
    video = client.videos.create_and_poll(prompt="A snail crossing a mossy stone", poll_interval_ms=POLL_MS)
    return assert_completed(video)


def test_defaults_are_sora2_portrait_4s(client: OpenAI, default_video: Video) -> None:
    assert (default_video.model, default_video.size, default_video.seconds) == ("sora-2", "720x1280", "4")
    assert_valid_mp4(client.videos.download_content(default_video.id).content, 720, 1280, 4)


def test_delete_then_gone(client: OpenAI, default_video: Video) -> None:
    deleted = client.videos.delete(default_video.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (default_video.id, "video.deleted", True)
    for call in (
        lambda: client.videos.retrieve(default_video.id),
        lambda: client.videos.download_content(default_video.id),
        lambda: client.videos.delete(default_video.id),
    ):
        with pytest.raises(openai.APIStatusError) as caught:
            call()
        assert_sdk_error(caught.value, openai.NotFoundError)
    assert default_video.id not in {v.id for v in client.videos.list(limit=100)}
