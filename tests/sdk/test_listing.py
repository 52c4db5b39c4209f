"""GET /videos through the SDK's cursor pagination (`has_more`, `last_id`, `after`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from openai import OpenAI

from video_jobs import VIDEO_KEYS, cancel_quietly


@pytest.fixture(scope="module")
def five_ids(client: OpenAI) -> Iterator[list[str]]:
    """Five jobs created one after the other; they only need to exist, so they are cancelled after."""
    ids = [
        client.videos.create(
            prompt=f"Listing fixture clip number {n}: a lighthouse beam sweeping fog", size="720x1280", seconds="4"
        ).id
        for n in range(5)
    ]
    yield ids
    cancel_quietly(client, ids)


def test_auto_pagination_desc_sees_each_video_once(client: OpenAI, five_ids: list[str]) -> None:
    seen = list(client.videos.list(limit=2))
    ids = [v.id for v in seen]
    dupes = [vid for vid, n in Counter(ids).items() if n > 1]
    assert not dupes, f"auto-pagination returned these ids more than once: {dupes}"
    for vid in five_ids:
        assert vid in ids, f"{vid} missing from the listing of {len(ids)} videos"
    stamps = [v.created_at for v in seen]
    assert stamps == sorted(stamps, reverse=True), f"default order is not newest first: {stamps}"
    ours = [vid for vid in ids if vid in five_ids]
    assert ours == list(reversed(five_ids)), (
        "videos created in sequence must list newest first (ties broken by creation order)"
    )


def test_auto_pagination_asc(client: OpenAI, five_ids: list[str]) -> None:
    seen = list(client.videos.list(limit=2, order="asc"))
    ids = [v.id for v in seen]
    assert len(ids) == len(set(ids)), "ascending auto-pagination repeated an id"
    stamps = [v.created_at for v in seen]
    assert stamps == sorted(stamps), f"order=asc is not oldest first: {stamps}"
    ours = [vid for vid in ids if vid in five_ids]
    assert ours == five_ids, "videos created in sequence must list oldest first with order=asc"


def test_page_cursor_fields(client: OpenAI, five_ids: list[str]) -> None:
    page = client.videos.list(limit=2)
    assert len(page.data) == 2
    assert page.first_id == page.data[0].id
    assert page.last_id == page.data[1].id
    assert page.has_more is True
    walked = [v.id for v in page.data]
    pages = 1
    while page.has_next_page():
        page = page.get_next_page()
        pages += 1
        assert 0 < len(page.data) <= 2
        assert page.first_id == page.data[0].id and page.last_id == page.data[-1].id
        walked += [v.id for v in page.data]
        assert pages < 100, "pagination does not terminate"
    assert page.has_more is False, "the last page must say has_more=false"
    assert len(walked) == len(set(walked)), "pages overlap"
    assert set(five_ids) <= set(walked)


def test_list_wire_shape(client: OpenAI, five_ids: list[str]) -> None:
    body = client.videos.with_raw_response.list(limit=1).http_response.json()
    assert body.get("object") == "list"
    assert {"data", "first_id", "last_id", "has_more"} <= body.keys(), f"list lacks keys: {sorted(body)}"
    assert len(body["data"]) == 1
    assert not VIDEO_KEYS - body["data"][0].keys()
