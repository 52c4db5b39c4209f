"""Process lifecycle seen from a client: SIGTERM shuts down cleanly and a restart keeps every job."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import OpenAI

from media import assert_valid_mp4
from server_process import start_server, stop_server
from video_jobs import POLL_MS, assert_completed, make_client, wait, wait_until_started


@pytest.mark.timeout(240)
def test_restart_keeps_completed_video(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir, workers=1)
    try:
        client: OpenAI = make_client(first.url)
        video = assert_completed(
            client.videos.create_and_poll(
                prompt="A kettle steaming on a stove", size="720x1280", seconds="4", poll_interval_ms=POLL_MS
            )
        )
        before = client.videos.download_content(video.id).content
    finally:
        code = stop_server(first)
    assert code == 0, f"SIGTERM should shut down gracefully with exit 0, got {code}\n{first.output()}"

    second = start_server(data_dir, workers=1)
    try:
        client = make_client(second.url)
        again = client.videos.retrieve(video.id)
        assert again.status == "completed" and again.created_at == video.created_at
        after = client.videos.download_content(video.id).content
        assert after == before, "the MP4 changed across a restart"
        assert_valid_mp4(after, 720, 1280, 4)
        assert video.id in {v.id for v in client.videos.list(limit=100)}
    finally:
        code = stop_server(second)
    assert code == 0, f"second shutdown exit {code}\n{second.output()}"


@pytest.mark.timeout(240)
def test_job_in_flight_at_shutdown_finishes_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir, workers=1)
    try:
        client = make_client(first.url)
        job = client.videos.create(prompt="A long train crossing a viaduct", size="720x1280", seconds="20")
        started = wait_until_started(client, job.id)
        assert started.status == "in_progress", f"job should be rendering when the server stops: {started.status}"
    finally:
        code = stop_server(first)
    assert code == 0, f"SIGTERM during a render should still exit 0, got {code}\n{first.output()}"

    second = start_server(data_dir, workers=1)
    try:
        client = make_client(second.url)
        after_restart = client.videos.retrieve(job.id)
        assert after_restart.status in ("queued", "in_progress", "completed"), (
            f"a render interrupted by shutdown must be resumed, not lost: {after_restart.status} {after_restart.error}"
        )
        done = assert_completed(wait(client, job.id))
        assert done.seconds == "20"
        assert_valid_mp4(client.videos.download_content(job.id).content, 720, 1280, 20)
    finally:
        stop_server(second)
