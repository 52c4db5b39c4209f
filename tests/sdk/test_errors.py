"""Request validation and HTTP errors, as SDK exceptions and as raw OpenAI error envelopes."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import openai
import pytest
from openai import OpenAI
from openai.types import Video

from api_errors import assert_envelope, assert_sdk_error
from video_jobs import cancel_quietly

MISSING_VIDEO = "video_0000000000000000000000000000000000000000"
PROMPT = "A red kite over green hills"

INVALID_CREATES = [
    pytest.param({"size": "640x480"}, "size", id="unknown-size"),
    pytest.param({"seconds": "5"}, "seconds", id="seconds-5"),
    pytest.param({"model": "sora-2", "size": "1920x1080"}, "size", id="1080p-needs-pro"),
    pytest.param({"model": "sora-2", "size": "1792x1024"}, "size", id="1792-needs-pro"),
    pytest.param({"model": "sora-3"}, "model", id="unknown-model"),
    pytest.param({"prompt": ""}, "prompt", id="empty-prompt"),
    pytest.param({"prompt": "x" * 32001}, "prompt", id="prompt-too-long"),
    pytest.param(
        {"extra_body": {"characters": [{"id": "char_a"}, {"id": "char_b"}, {"id": "char_c"}]}},
        "characters",
        id="three-characters",
    ),
]


@pytest.mark.parametrize(("overrides", "param"), INVALID_CREATES)
def test_invalid_create_is_bad_request(strict_client: OpenAI, overrides: dict, param: str) -> None:
    kwargs = {"prompt": PROMPT, "size": "1280x720", "seconds": "4", **overrides}
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.create(**kwargs)
    assert_sdk_error(caught.value, openai.BadRequestError, param)


def test_wider_enums_than_the_sdk_types_are_accepted(client: OpenAI) -> None:
    # The SDK's Literal types stop at 12 s and four sizes; the contract accepts 16/20 s and 1080p on pro.
    jobs = [
        client.videos.create(prompt=PROMPT, model="sora-2", size="720x1280", seconds="20"),
        client.videos.create(prompt=PROMPT, model="sora-2-pro", size="1080x1920", seconds="16"),
        client.videos.create(prompt=PROMPT, model="sora-2-pro", size="1792x1024", seconds="12"),
    ]
    try:
        assert [(j.model, j.size, j.seconds) for j in jobs] == [
            ("sora-2", "720x1280", "20"),
            ("sora-2-pro", "1080x1920", "16"),
            ("sora-2-pro", "1792x1024", "12"),
        ]
        assert all(j.status in ("queued", "in_progress") for j in jobs), [j.status for j in jobs]
    finally:
        cancel_quietly(client, [j.id for j in jobs])


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.videos.retrieve(MISSING_VIDEO), id="retrieve"),
        pytest.param(lambda c: c.videos.delete(MISSING_VIDEO), id="delete"),
        pytest.param(lambda c: c.videos.download_content(MISSING_VIDEO), id="download"),
        pytest.param(lambda c: c.videos.remix(MISSING_VIDEO, prompt=PROMPT), id="remix"),
    ],
)
def test_unknown_video_is_not_found(strict_client: OpenAI, call: Callable[[OpenAI], object]) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        call(strict_client)
    assert_sdk_error(caught.value, openai.NotFoundError)


def test_wrong_api_key_is_authentication_error(base_url: str) -> None:
    bad = OpenAI(base_url=base_url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        bad.videos.list()
    assert_sdk_error(caught.value, openai.AuthenticationError)


def test_raw_error_envelopes(raw: Callable[..., httpx2.Response]) -> None:
    cases = [
        ("bad size (JSON body)", raw("POST", "/v1/videos", json={"prompt": PROMPT, "size": "1x1"}), 400),
        (
            "bad seconds (form body)",
            raw("POST", "/v1/videos", files={"prompt": (None, PROMPT), "seconds": (None, "7")}),
            400,
        ),
        ("missing prompt", raw("POST", "/v1/videos", json={"size": "1280x720"}), 400),
        ("unknown id", raw("GET", f"/v1/videos/{MISSING_VIDEO}"), 404),
        ("unknown id content", raw("GET", f"/v1/videos/{MISSING_VIDEO}/content"), 404),
        ("no api key", raw("GET", "/v1/videos", key=None), 401),
        ("wrong api key", raw("GET", "/v1/videos", key="sk-nope"), 401),
    ]
    for label, response, status in cases:
        assert response.status_code == status, (
            f"{label}: HTTP {response.status_code}, want {status}: {response.text[:300]}"
        )
        assert response.headers.get("content-type", "").startswith("application/json"), label
        error = assert_envelope(response.json(), status)
        if status == 400:
            assert error["type"] == "invalid_request_error", f"{label}: {error}"
    missing_prompt = raw("POST", "/v1/videos", json={"size": "1280x720"}).json()["error"]
    assert missing_prompt["param"] == "prompt", missing_prompt


def test_bad_query_parameters(strict_client: OpenAI, base_video: Video) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.download_content(base_video.id, variant="poster")  # type: ignore[arg-type]
    assert_sdk_error(caught.value, openai.BadRequestError, "variant")
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.list(limit=101)
    assert_sdk_error(caught.value, openai.BadRequestError, "limit")
    with pytest.raises(openai.APIStatusError) as caught:
        strict_client.videos.list(order="sideways")  # type: ignore[arg-type]
    assert_sdk_error(caught.value, openai.BadRequestError, "order")
