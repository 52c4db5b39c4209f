"""The Batch API through `client.batches` and `client.files`: a JSONL of good and bad lines runs
to `completed`, its output and error files are read back, every video is downloaded; cancel and
the endpoint rule."""

from __future__ import annotations

import json
import time

import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from api_errors import assert_sdk_error
from media import assert_valid_mp4

TERMINAL = {"completed", "failed", "expired", "cancelled"}


def jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def request(custom_id: str, body: dict) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/videos", "body": body}


def wait_batch(client: OpenAI, batch_id: str, want: set[str] = TERMINAL, timeout: float = 240) -> Batch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.batches.retrieve(batch_id)
        if batch.status in want:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} did not reach {want} in {timeout} s")


def submit(client: OpenAI, lines: list[dict]) -> Batch:
    upload = client.files.create(file=("requests.jsonl", jsonl(lines), "application/jsonl"), purpose="batch")
    return client.batches.create(
        input_file_id=upload.id,
        endpoint="/v1/videos",
        completion_window="24h",
        metadata={"shoot": "sdk-suite"},
    )


def test_batch_with_good_and_bad_lines(client: OpenAI) -> None:
    shots = {
        "wide": {"model": "sora-2", "prompt": "A lighthouse on a cliff at dusk, waves", "size": "1280x720", "seconds": "4"},
        "tall": {"model": "sora-2", "prompt": "A fox running through snow", "size": "720x1280", "seconds": "4"},
    }
    bad = {"model": "sora-2", "prompt": "too big", "size": "1920x1080", "seconds": "4"}
    batch = submit(client, [request(k, v) for k, v in shots.items()] + [request("bad", bad)])
    assert batch.status == "validating" and batch.endpoint == "/v1/videos"
    assert batch.metadata == {"shoot": "sdk-suite"}

    done = wait_batch(client, batch.id)
    assert done.status == "completed", done
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (3, 2, 1)
    assert done.in_progress_at and done.finalizing_at and done.completed_at

    assert done.output_file_id and done.error_file_id
    out = [json.loads(line) for line in client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(line["custom_id"] for line in out) == ["tall", "wide"]
    for line in out:
        video = line["response"]["body"]
        assert line["response"]["status_code"] == 200 and video["status"] == "completed"
        width, height = (int(n) for n in shots[line["custom_id"]]["size"].split("x"))
        assert client.videos.retrieve(video["id"]).status == "completed"
        assert_valid_mp4(client.videos.download_content(video["id"]).content, width, height, 4)

    errors = [json.loads(line) for line in client.files.content(done.error_file_id).text.splitlines()]
    assert [e["custom_id"] for e in errors] == ["bad"]
    # The same error POST /v1/videos gives: 1080p needs sora-2-pro.
    assert errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["param"] == "size"

    assert batch.id in {b.id for b in client.batches.list(limit=5)}
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)


def test_cancel_a_batch(client: OpenAI) -> None:
    body = {"model": "sora-2", "prompt": "A slow pan over a quiet harbour", "size": "1280x720", "seconds": "8"}
    batch = submit(client, [request(f"c{i}", body) for i in range(6)])
    wait_batch(client, batch.id, {"in_progress", *TERMINAL})
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status in {"cancelling", "cancelled"}
    done = wait_batch(client, batch.id)
    assert done.status == "cancelled" and done.cancelled_at
    assert done.request_counts is not None and done.request_counts.total == 6
    assert done.error_file_id
    errors = [json.loads(line) for line in client.files.content(done.error_file_id).text.splitlines()]
    assert len(errors) + done.request_counts.completed == 6


def test_only_the_videos_endpoint(strict_client: OpenAI) -> None:
    upload = strict_client.files.create(file=("r.jsonl", b"{}\n", "application/jsonl"), purpose="batch")
    with pytest.raises(openai.BadRequestError) as seen:
        strict_client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert_sdk_error(seen.value, openai.BadRequestError, "endpoint")


def test_malformed_file_fails_with_line_numbers(client: OpenAI) -> None:
    upload = client.files.create(
        file=("r.jsonl", jsonl([request("a", {"prompt": "x"})]) + b"not json\n", "application/jsonl"),
        purpose="batch",
    )
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/videos", completion_window="24h")
    done = wait_batch(client, batch.id)
    assert done.status == "failed" and done.errors is not None and done.errors.data
    assert (done.errors.data[0].code, done.errors.data[0].line) == ("invalid_json_line", 2)
