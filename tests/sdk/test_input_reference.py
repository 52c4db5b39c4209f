"""input_reference: an image that becomes the first frame, as a file upload or as a data URL."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from api_errors import assert_sdk_error
from media import first_frame, mean_rgb, png_data_url, reference_png
from video_jobs import POLL_MS, assert_completed

RED = (200, 40, 40)
BLUE = (40, 60, 200)


def assert_starts_with_reference(mp4: bytes, width: int, height: int) -> None:
    """The reference is red on the left half, blue on the right; the first frame must show that."""
    frame = first_frame(mp4)
    assert frame.size == (width, height)
    left = mean_rgb(frame, (width // 8, height // 4, width * 3 // 8, height * 3 // 4))
    right = mean_rgb(frame, (width * 5 // 8, height // 4, width * 7 // 8, height * 3 // 4))
    for got, want, side in ((left, RED, "left"), (right, BLUE, "right")):
        off = max(abs(g - w) for g, w in zip(got, want, strict=True))
        assert off < 40, f"first frame {side} half averages {tuple(round(c) for c in got)}, reference has {want}"


def test_input_reference_upload(client: OpenAI) -> None:
    png = reference_png(1280, 720)
    video = client.videos.create_and_poll(
        prompt="The scene slowly comes alive with drifting light",
        size="1280x720",
        seconds="4",
        input_reference=("frame.png", png, "image/png"),
        poll_interval_ms=POLL_MS,
    )
    assert_completed(video)
    assert_starts_with_reference(client.videos.download_content(video.id).content, 1280, 720)


def test_input_reference_data_url(client: OpenAI) -> None:
    video = client.videos.create_and_poll(
        prompt="The scene slowly comes alive with drifting light",
        size="720x1280",
        seconds="4",
        input_reference=openai.omit,
        extra_body={"input_reference": {"image_url": png_data_url(reference_png(720, 1280))}},
        poll_interval_ms=POLL_MS,
    )
    assert_completed(video)
    assert video.size == "720x1280"
    assert_starts_with_reference(client.videos.download_content(video.id).content, 720, 1280)


def test_input_reference_of_another_size_is_fitted(client: OpenAI) -> None:
    # Without `strict_reference_size` the image is scaled to cover and centre-cropped.
    video = client.videos.create_and_poll(
        prompt="A field of tulips",
        size="1280x720",
        seconds="4",
        input_reference=("frame.png", reference_png(640, 480), "image/png"),
        poll_interval_ms=POLL_MS,
    )
    assert_completed(video)
    assert video.size == "1280x720"
