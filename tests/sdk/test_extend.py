"""POST /videos/extensions: the result is the stitched clip and `seconds` is the total length."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI
from openai.types import Video

from api_errors import assert_sdk_error
from media import assert_valid_mp4, png_data_url, reference_png
from video_jobs import assert_completed, wait


def test_extend_by_id(client: OpenAI, base_video: Video) -> None:
    job = client.videos.extend(
        prompt="The boat drifts under a wooden bridge",
        seconds="4",
        video=openai.omit,
        extra_body={"video": {"id": base_video.id}},
    )
    assert job.id != base_video.id
    done = assert_completed(wait(client, job.id))
    assert done.seconds == "8", f"extension of a 4 s clip by 4 s reports seconds={done.seconds!r}, want the stitched 8"
    assert done.size == base_video.size
    assert_valid_mp4(client.videos.download_content(done.id).content, 1280, 720, 8)


def test_extend_by_upload(client: OpenAI, base_mp4: bytes) -> None:
    job = client.videos.extend(
        prompt="A heron lands beside the boat",
        seconds="4",
        video=("src.mp4", base_mp4, "video/mp4"),
    )
    done = assert_completed(wait(client, job.id))
    assert done.seconds == "8"
    assert done.size == "1280x720", "an extension keeps the uploaded clip's size"
    assert_valid_mp4(client.videos.download_content(done.id).content, 1280, 720, 8)


def test_extend_rejects_input_reference(strict_client: OpenAI, base_video: Video) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.extend(
            prompt="Continue the scene",
            seconds="4",
            video=openai.omit,
            extra_body={
                "video": {"id": base_video.id},
                "input_reference": {"image_url": png_data_url(reference_png(1280, 720))},
            },
        )
    assert_sdk_error(caught.value, openai.BadRequestError, "input_reference")
