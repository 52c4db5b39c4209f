"""The built-in engine says what it understood (`interpretation`) and refuses, at no charge, an
edit it cannot do."""

from __future__ import annotations

import openai
from openai import OpenAI
from openai.types import Video

from video_jobs import POLL_MS, assert_completed, wait


def interpretation(video: Video) -> dict:
    extra = video.model_extra or {}
    assert "interpretation" in extra, f"no interpretation on {video.id}: {extra}"
    return extra["interpretation"]


def test_interpretation_on_create_retrieve_and_list(client: OpenAI) -> None:
    created = client.videos.create(
        prompt="abstract ink swirling in water, a red fox runs",
        model="sora-2",
        size="1280x720",
        seconds="4",
    )
    first = interpretation(created)
    assert first["ignored"] == ["abstract", "ink", "water"]
    assert {"word": "fox", "as": "subject:fox"} in first["understood"]
    assert {"word": "swirling", "as": "motion:float"} in first["understood"]
    assert 0.0 < first["coverage"] < 1.0
    assert [f["chose"] for f in first["fallbacks"] if f["what"] == "setting"] == ["stage"]

    assert interpretation(client.videos.retrieve(created.id)) == first
    listed = [v for v in client.videos.list(limit=100).data if v.id == created.id]
    assert listed and interpretation(listed[0]) == first
    done = assert_completed(wait(client, created.id))
    assert interpretation(done) == first


def test_an_edit_that_changes_nothing_fails_without_charge(client: OpenAI, base_video: Video) -> None:
    job = client.videos.edit(
        prompt="make the puppy wear a hat",
        video=openai.omit,
        extra_body={"video": {"id": base_video.id}},
    )
    assert "wear" in interpretation(job)["ignored"]
    done = client.videos.poll(job.id, poll_interval_ms=POLL_MS)
    assert done.status == "failed", done
    assert done.error is not None and done.error.code == "edit_not_understood"
    assert "add a dog" in done.error.message, done.error.message
    usage = (done.model_extra or {}).get("usage")
    assert usage == {"seconds": 0, "cost_usd": 0.0}, usage
