"""Fixtures for the SDK compatibility suite: a real `kinora serve`, SDK clients, shared videos.

Expensive things (the server, one completed 1280x720 video and its MP4) are session-scoped so
most tests reuse them instead of rendering again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx2
import pytest
from openai import OpenAI
from openai.types import Video

from server_process import API_KEYS, LIVE_SERVERS, KinoraServer, start_server, stop_server
from video_jobs import POLL_MS, assert_completed, make_client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # A failing black-box test is far easier to read next to what the server logged.
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in LIVE_SERVERS:
            report.sections.append((f"kinora server {server.url or '(not started)'}", server.output(tail=60)))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KinoraServer]:
    srv = start_server(tmp_path_factory.mktemp("kinora") / "data")
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def base_url(server: KinoraServer) -> str:
    return server.url


@pytest.fixture(scope="session")
def client(base_url: str) -> OpenAI:
    """Project 1, as a user would configure the SDK."""
    return make_client(base_url)


@pytest.fixture(scope="session")
def client2(base_url: str) -> OpenAI:
    """Project 2: a second API key, which must not see project 1's resources."""
    return make_client(base_url, API_KEYS[1])


@pytest.fixture(scope="session")
def strict_client(base_url: str) -> OpenAI:
    """No retries: the SDK retries 409/429/5xx by default, which would hide the first answer."""
    return make_client(base_url, max_retries=0)


@pytest.fixture(scope="session")
def raw(base_url: str) -> Iterator[Callable[..., httpx2.Response]]:
    """Plain HTTP (httpx2, the SDK's own transport) for wire-level checks."""
    with httpx2.Client(base_url=base_url, timeout=30.0) as http:

        def request(method: str, path: str, key: str | None = API_KEYS[0], **kwargs: object) -> httpx2.Response:
            headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[arg-type]
            if key is not None:
                headers["Authorization"] = f"Bearer {key}"
            return http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

        yield request


@pytest.fixture(scope="session")
def base_video(client: OpenAI) -> Video:
    """One completed 4 s 1280x720 sora-2 video shared by every test that needs a source."""
    video = client.videos.create_and_poll(
        prompt="A paper boat drifting across a calm pond at sunrise, gentle ripples",
        model="sora-2",
        size="1280x720",
        seconds="4",
        poll_interval_ms=POLL_MS,
    )
    return assert_completed(video)


@pytest.fixture(scope="session")
def base_mp4(client: OpenAI, base_video: Video) -> bytes:
    return client.videos.download_content(base_video.id).content
