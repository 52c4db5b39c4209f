"""Derived jobs that keep the source's size and length: remix (legacy) and edits."""

from __future__ import annotations

import openai
from openai import OpenAI
from openai.types import Video

from media import assert_valid_mp4
from video_jobs import assert_completed, wait


def test_remix_links_source_and_is_marked_deprecated(client: OpenAI, base_video: Video) -> None:
    response = client.videos.with_raw_response.remix(base_video.id, prompt="Same pond, but at dusk with fireflies")
    assert response.headers.get("deprecation"), f"remix response has no Deprecation header: {dict(response.headers)}"
    job = response.parse()
    assert job.id != base_video.id
    assert job.status in ("queued", "in_progress")
    assert job.remixed_from_video_id == base_video.id
    done = assert_completed(wait(client, job.id))
    assert done.remixed_from_video_id == base_video.id
    assert (done.size, done.seconds) == (base_video.size, base_video.seconds)


def test_edit_by_id(client: OpenAI, base_video: Video) -> None:
    job = client.videos.edit(
        prompt="Shift the colour palette to teal, sand and rust",
        video=openai.omit,
        extra_body={"video": {"id": base_video.id}},
    )
    assert job.id != base_video.id
    done = assert_completed(wait(client, job.id))
    assert (done.size, done.seconds) == ("1280x720", "4")
    assert_valid_mp4(client.videos.download_content(done.id).content, 1280, 720, 4)


def test_edit_by_upload(client: OpenAI, base_mp4: bytes) -> None:
    job = client.videos.edit(
        prompt="Make it look like a watercolour painting",
        video=("src.mp4", base_mp4, "video/mp4"),
        extra_body={"model": "sora-2"},
    )
    done = assert_completed(wait(client, job.id))
    assert (done.size, done.seconds) == ("1280x720", "4")
    assert done.model == "sora-2"
