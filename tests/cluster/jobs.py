"""Client-side helpers: SDK clients per node, and waiting for many jobs at once."""

from __future__ import annotations

import time
from collections.abc import Iterable

from openai import OpenAI
from openai.types import Video

from conftest import API_KEY

TERMINAL = ("completed", "failed")


def client(url: str, retries: int = 2) -> OpenAI:
    return OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=retries, timeout=60)


def wait_all(clients: list[OpenAI], ids: Iterable[str], timeout: float = 600.0) -> dict[str, Video]:
    """Polls every job until each is terminal, reading through the nodes in turn."""
    pending, done = list(ids), {}
    deadline = time.monotonic() + timeout
    turn = 0
    while pending:
        if time.monotonic() > deadline:
            states = {i: done.get(i) for i in pending[:10]}
            raise AssertionError(f"{len(pending)} jobs not finished after {timeout:.0f} s, e.g. {states}")
        still = []
        for vid in pending:
            turn += 1
            v = clients[turn % len(clients)].videos.retrieve(vid)
            (done.__setitem__(vid, v) if v.status in TERMINAL else still.append(vid))
        pending = still
        if pending:
            time.sleep(0.5)  # the API's own poll hint is 1-2 s; jobs take seconds each
    return done


def wait_rendering(c: OpenAI, ids: Iterable[str], count: int, timeout: float = 120.0) -> list[str]:
    """Waits until `count` of `ids` are rendering at once (in_progress, progress > 0): with as
    many workers, every worker then holds a job."""
    ids = list(ids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rendering = [v.id for v in (c.videos.retrieve(i) for i in ids) if v.status == "in_progress" and v.progress > 0]
        if len(rendering) >= count:
            return rendering
        time.sleep(0.1)
    raise AssertionError(f"{count} jobs were never rendering at once")
