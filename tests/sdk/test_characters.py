"""Reusable characters: upload a clip, then reference it (by id and by name) in a new video."""

from __future__ import annotations

import time

import openai
import pytest
from openai import OpenAI

from api_errors import assert_sdk_error
from video_jobs import POLL_MS, assert_completed


@pytest.fixture(scope="module")
def mossy(client: OpenAI) -> str:
    # A clip with one subject that moves against its background: what characters are cut from.
    source = client.videos.create_and_poll(
        prompt="a red fox walks across a snowy meadow", size="1280x720", seconds="4",
        extra_body={"seed": 5}, poll_interval_ms=POLL_MS,
    )
    clip = client.videos.download_content(assert_completed(source).id).content
    before = int(time.time())
    created = client.videos.create_character(name="Mossy", video=("char.mp4", clip, "video/mp4"))
    assert created.id and created.id.startswith("char_"), f"character id {created.id!r}"
    assert created.name == "Mossy"
    assert before - 5 <= created.created_at <= int(time.time()) + 5, f"created_at {created.created_at} is not now"
    return created.id


def test_get_character(client: OpenAI, mossy: str) -> None:
    fetched = client.videos.get_character(mossy)
    assert (fetched.id, fetched.name) == (mossy, "Mossy")
    assert isinstance(fetched.created_at, int)


def test_create_with_character(client: OpenAI, mossy: str) -> None:
    video = client.videos.create_and_poll(
        prompt="Mossy the teapot waddles across a sunny kitchen table",
        size="1280x720",
        seconds="4",
        extra_body={"characters": [{"id": mossy}]},
        poll_interval_ms=POLL_MS,
    )
    assert_completed(video)


def test_character_name_must_appear_in_prompt(strict_client: OpenAI, mossy: str) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.create(
            prompt="A teapot waddles across a sunny kitchen table",
            size="1280x720",
            seconds="4",
            extra_body={"characters": [{"id": mossy}]},
        )
    assert_sdk_error(caught.value, openai.BadRequestError, "characters")


def test_unknown_character_is_refused(strict_client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.create(
            prompt="Ghosty floats over a meadow",
            size="1280x720",
            seconds="4",
            extra_body={"characters": [{"id": "char_doesnotexist0000000000000000"}]},
        )
    assert 400 <= caught.value.status_code < 500
    assert caught.value.param == "characters", f"param {caught.value.param!r}: {caught.value.message}"


def test_get_unknown_character_is_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.videos.get_character("char_doesnotexist0000000000000000")
    assert_sdk_error(caught.value, openai.NotFoundError)


def test_character_is_private_to_its_project(client2: OpenAI, mossy: str) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client2.videos.get_character(mossy)
    assert_sdk_error(caught.value, openai.NotFoundError)
