"""1080p, which only sora-2-pro renders (one light clip)."""

from __future__ import annotations

import pytest
from openai import OpenAI

from media import assert_valid_mp4
from video_jobs import POLL_MS, assert_completed


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sora2_pro_renders_1080p(client: OpenAI) -> None:
    video = client.videos.create_and_poll(
        prompt="A hot-air balloon rising over terraced rice fields",
        model="sora-2-pro",
        size="1920x1080",
        seconds="4",
        poll_interval_ms=POLL_MS,
    )
    assert_completed(video)
    assert (video.model, video.size, video.seconds) == ("sora-2-pro", "1920x1080", "4")
    assert_valid_mp4(client.videos.download_content(video.id).content, 1920, 1080, 4)
