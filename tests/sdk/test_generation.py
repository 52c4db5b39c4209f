"""create_and_poll, retrieve and the three downloadable variants of one completed video."""

from __future__ import annotations

from openai import OpenAI
from openai.types import Video

from media import assert_valid_mp4, decode_image
from video_jobs import VIDEO_KEYS, raw_json

PROMPT = "A paper boat drifting across a calm pond at sunrise, gentle ripples"


def test_create_and_poll_completes(base_video: Video) -> None:
    assert base_video.id.startswith("video_")
    assert base_video.object == "video"
    assert base_video.model == "sora-2"
    assert base_video.status == "completed"
    assert base_video.progress == 100
    assert base_video.size == "1280x720"
    assert base_video.seconds == "4"
    assert base_video.prompt == PROMPT
    assert base_video.remixed_from_video_id is None
    assert base_video.error is None
    assert base_video.expires_at is None or base_video.expires_at > base_video.created_at


def test_video_object_has_all_keys_on_the_wire(client: OpenAI, base_video: Video) -> None:
    body = raw_json(client.videos.with_raw_response.retrieve(base_video.id))
    missing = VIDEO_KEYS - body.keys()
    assert not missing, f"video object lacks {sorted(missing)}: {body}"
    assert isinstance(body["seconds"], str), f"seconds must be a string on the wire, got {body['seconds']!r}"
    assert isinstance(body["created_at"], int) and isinstance(body["completed_at"], int)


def test_retrieve_returns_the_same_video(client: OpenAI, base_video: Video) -> None:
    again = client.videos.retrieve(base_video.id)
    assert again.id == base_video.id
    assert again.status == "completed"
    assert (again.size, again.seconds, again.model, again.created_at) == (
        base_video.size,
        base_video.seconds,
        base_video.model,
        base_video.created_at,
    )


def test_download_video_is_valid_mp4(client: OpenAI, base_video: Video, base_mp4: bytes) -> None:
    assert_valid_mp4(base_mp4, 1280, 720, 4)
    response = client.videos.with_raw_response.download_content(base_video.id, variant="video")
    assert response.headers.get("content-type", "").startswith("video/mp4")
    assert response.content == base_mp4, "variant=video differs from the default download"


def test_download_streams_the_same_bytes(client: OpenAI, base_video: Video, base_mp4: bytes) -> None:
    with client.videos.with_streaming_response.download_content(base_video.id) as response:
        streamed = b"".join(response.iter_bytes())
    assert streamed == base_mp4


def test_download_thumbnail_is_webp(client: OpenAI, base_video: Video) -> None:
    response = client.videos.with_raw_response.download_content(base_video.id, variant="thumbnail")
    assert response.headers.get("content-type", "").startswith("image/webp")
    image = decode_image(response.content, "WEBP")
    assert abs(image.width / image.height - 1280 / 720) < 0.05, f"thumbnail {image.size} is not 16:9"


def test_download_spritesheet_is_jpeg(client: OpenAI, base_video: Video) -> None:
    response = client.videos.with_raw_response.download_content(base_video.id, variant="spritesheet")
    assert response.headers.get("content-type", "").startswith("image/jpeg")
    image = decode_image(response.content, "JPEG")
    assert image.width >= 160 and image.height >= 90, f"spritesheet {image.size} is too small to hold frames"
