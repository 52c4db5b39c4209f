"""The Files API through `client.files`, and an uploaded image used as `input_reference.file_id`."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from api_errors import assert_sdk_error
from media import assert_valid_mp4, reference_png
from test_input_reference import assert_starts_with_reference
from video_jobs import POLL_MS, assert_completed


def test_file_roundtrip(client: OpenAI, client2: OpenAI) -> None:
    body = b'{"custom_id": "one"}\n'
    f = client.files.create(file=("requests.jsonl", body, "application/jsonl"), purpose="batch")
    assert f.id.startswith("file-")
    assert (f.object, f.purpose, f.bytes, f.filename) == ("file", "batch", len(body), "requests.jsonl")
    assert f.expires_at is not None and f.expires_at - f.created_at == 30 * 24 * 3600

    assert client.files.retrieve(f.id) == f
    assert client.files.content(f.id).content == body
    assert f.id in {x.id for x in client.files.list(purpose="batch")}
    assert f.id not in {x.id for x in client.files.list(purpose="vision")}

    with pytest.raises(openai.NotFoundError) as seen:
        client2.files.retrieve(f.id)
    assert_sdk_error(seen.value, openai.NotFoundError, "file_id")

    deleted = client.files.delete(f.id)
    assert (deleted.id, deleted.deleted) == (f.id, True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(f.id)


def test_files_list_paginates(client: OpenAI) -> None:
    made = [
        client.files.create(file=(f"n{i}.txt", f"note {i}".encode(), "text/plain"), purpose="user_data").id
        for i in range(3)
    ]
    first = client.files.list(purpose="user_data", limit=2, order="asc")
    assert len(first.data) == 2 and first.has_more
    seen = [f.id for f in client.files.list(purpose="user_data", limit=2, order="asc")]
    assert [i for i in seen if i in made] == made


def test_bad_purpose_is_a_400(strict_client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as seen:
        strict_client.files.create(file=("x.jsonl", b"{}", "application/jsonl"), purpose="fine-tune")
    assert_sdk_error(seen.value, openai.BadRequestError, "purpose")


def test_image_file_as_input_reference(client: OpenAI) -> None:
    image = client.files.create(file=("frame.png", reference_png(1280, 720), "image/png"), purpose="vision")
    video = client.videos.create_and_poll(
        prompt="The scene slowly comes alive with drifting light",
        size="1280x720",
        seconds="4",
        # SDK 3.51.0 treats `input_reference` as a file upload and rejects the dict form it types,
        # so the reference object goes through extra_body (sent as JSON).
        extra_body={"input_reference": {"file_id": image.id}},
        poll_interval_ms=POLL_MS,
    )
    assert_completed(video)
    mp4 = client.videos.download_content(video.id).content
    assert_valid_mp4(mp4, 1280, 720, 4)
    assert_starts_with_reference(mp4, 1280, 720)
