"""Two API keys are two projects: nothing made with one is visible or usable with the other."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest
from openai import OpenAI
from openai.types import Video

from api_errors import assert_sdk_error

FOREIGN_CALLS = [
    pytest.param(lambda c, vid: c.videos.retrieve(vid), id="retrieve"),
    pytest.param(lambda c, vid: c.videos.download_content(vid), id="download"),
    pytest.param(lambda c, vid: c.videos.delete(vid), id="delete"),
    pytest.param(lambda c, vid: c.videos.remix(vid, prompt="steal it"), id="remix"),
]


@pytest.mark.parametrize("call", FOREIGN_CALLS)
def test_other_project_gets_not_found(
    client2: OpenAI, base_video: Video, call: Callable[[OpenAI, str], object]
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        call(client2.with_options(max_retries=0), base_video.id)
    assert_sdk_error(caught.value, openai.NotFoundError)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda c, vid: c.videos.edit(prompt="steal it", video=openai.omit, extra_body={"video": {"id": vid}}),
            id="edit",
        ),
        pytest.param(
            lambda c, vid: c.videos.extend(
                prompt="steal it", seconds="4", video=openai.omit, extra_body={"video": {"id": vid}}
            ),
            id="extend",
        ),
    ],
)
def test_other_project_cannot_reference_video(
    client2: OpenAI, base_video: Video, call: Callable[[OpenAI, str], object]
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        call(client2.with_options(max_retries=0), base_video.id)
    err = caught.value
    # A body reference to an invisible video reads as "no such video": 404, or 400 naming `video`.
    assert err.status_code in (400, 404), f"HTTP {err.status_code}: {err.message}"
    if err.status_code == 400:
        assert err.param == "video", f"param {err.param!r}: {err.message}"


def test_other_project_list_is_separate(client: OpenAI, client2: OpenAI, base_video: Video) -> None:
    assert base_video.id in {v.id for v in client.videos.list(limit=100)}
    assert base_video.id not in {v.id for v in client2.videos.list(limit=100)}


def test_source_is_untouched_by_foreign_delete(client: OpenAI, base_video: Video) -> None:
    # Runs after the foreign delete attempt above (file order): the owner still has the video.
    assert client.videos.retrieve(base_video.id).status == "completed"
