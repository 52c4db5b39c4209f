"""Body forms the SDK's typed methods do not send but the contract accepts: JSON for create and edit."""

from __future__ import annotations

from openai import OpenAI
from openai.types import Video

from media import png_data_url, reference_png
from video_jobs import VIDEO_KEYS, cancel_quietly


def test_json_create(client: OpenAI) -> None:
    video = client.post(
        "/videos",
        body={"prompt": "A windmill turning in a breeze", "model": "sora-2", "size": "720x1280", "seconds": "8"},
        cast_to=Video,
    )
    try:
        assert (video.model, video.size, video.seconds) == ("sora-2", "720x1280", "8")
        assert video.status in ("queued", "in_progress")
        assert not VIDEO_KEYS - set(video.to_dict(exclude_none=False).keys())
    finally:
        cancel_quietly(client, [video.id])


def test_json_edit_by_id(client: OpenAI, base_video: Video) -> None:
    job = client.post(
        "/videos/edits",
        body={"video": {"id": base_video.id}, "prompt": "Add falling autumn leaves"},
        cast_to=Video,
    )
    try:
        assert job.id != base_video.id
        assert job.status in ("queued", "in_progress")
        assert (job.size, job.seconds) == (base_video.size, base_video.seconds)
    finally:
        cancel_quietly(client, [job.id])


def test_json_create_with_input_reference_object(client: OpenAI) -> None:
    video = client.post(
        "/videos",
        body={
            "prompt": "Light sweeps across the frame",
            "size": "1280x720",
            "input_reference": {"image_url": png_data_url(reference_png(1280, 720))},
        },
        cast_to=Video,
    )
    try:
        assert video.size == "1280x720"
        assert video.status in ("queued", "in_progress")
    finally:
        cancel_quietly(client, [video.id])
