"""The faults a cluster must survive: a worker or an API node killed mid-render, PostgreSQL
restarted mid-run, and S3 down for a while (jobs retry and finish) or for good (jobs fail with a
clear code, downloads answer 503). The stale worker's late `complete` getting 409 is tested in
crates/kinora-server/tests/api/workers.rs."""

from __future__ import annotations

import time

import openai
import pytest

from conftest import Cluster
from jobs import client, wait_all, wait_rendering
from media import assert_valid_mp4

PROMPT = "a yellow taxi drives through a rainy city at night"


def create(clients, n: int, seconds: str = "8") -> list[str]:
    return [clients[i % len(clients)].videos.create(prompt=PROMPT, size="720x1280", seconds=seconds).id
            for i in range(n)]


def assert_all_completed(c, done, seconds: int, cluster: Cluster) -> None:
    bad = {i: (v.status, v.error) for i, v in done.items() if v.status != "completed"}
    assert not bad, f"{bad}\n{cluster.logs()}"
    for vid in done:
        assert_valid_mp4(c.videos.download_content(vid).content, 720, 1280, seconds)


@pytest.mark.timeout(600)
def test_api_node_killed_the_other_keeps_serving(cluster: Cluster) -> None:
    node_a, a = cluster.node("node-a")
    _, b = cluster.node("node-b")
    cluster.builtin_worker("builtin-a", a)  # loses its node, and with it the job it renders
    cluster.builtin_worker("builtin-b", b)
    ca, cb = client(a), client(b)
    ids = create([ca, cb], 8)
    wait_rendering(cb, ids, count=2)
    node_a.kill()
    # Node B answers for every job, those created through A included, and finishes them all:
    # builtin-a's lease lapses and builtin-b renders that job again.
    assert {v.id for v in cb.videos.list(limit=100)} == set(ids)
    done = wait_all([cb], ids)
    assert_all_completed(cb, done, 8, cluster)


@pytest.mark.timeout(600)
def test_postgres_restarted_mid_run(cluster: Cluster) -> None:
    _, a = cluster.node("node-a")
    _, b = cluster.node("node-b")
    cluster.builtin_worker("builtin-a", a)
    cluster.builtin_worker("builtin-b", b)
    # The SDK retries a 503 by itself (honouring Retry-After); more retries than its default
    # ride out the restart.
    ca, cb = client(a, retries=8), client(b, retries=8)
    ids = create([ca, cb], 6)
    wait_rendering(ca, ids, count=2)
    cluster.services.restart_postgres()
    # Jobs created after the restart are claimed too: the nodes reconnected (pool and LISTEN).
    ids += create([ca, cb], 2, seconds="4")
    done = wait_all([ca, cb], ids)
    assert_all_completed(ca, {i: done[i] for i in ids[:6]}, 8, cluster)
    assert_all_completed(cb, {i: done[i] for i in ids[6:]}, 4, cluster)


@pytest.mark.timeout(600)
def test_s3_down_for_a_while_jobs_retry_and_finish(cluster: Cluster) -> None:
    _, a = cluster.node("node-a")
    cluster.builtin_worker("builtin-1", a)
    cluster.builtin_worker("builtin-2", a)
    c = client(a)
    ids = create([c], 6, seconds="4")
    wait_rendering(c, ids, count=2)
    cluster.s3.down()
    time.sleep(6)  # the outage itself (a timed fault, not a wait for readiness)
    cluster.s3.up()
    done = wait_all([c], ids)
    assert_all_completed(c, done, 4, cluster)


@pytest.mark.timeout(600)
def test_s3_down_for_good_jobs_fail_with_a_clear_code(cluster: Cluster) -> None:
    _, a = cluster.node("node-a")
    cluster.builtin_worker("builtin-1", a)
    c, once = client(a), client(a, retries=0)
    first = wait_all([c], create([c], 1, seconds="4"))
    (before,) = first
    cluster.s3.down()
    ids = create([c], 2, seconds="4")  # creating needs only the database
    done = wait_all([c], ids, timeout=300)
    for v in done.values():
        assert v.status == "failed", v
        assert v.error is not None and v.error.code == "storage_unavailable", v.error
    # A download while S3 is down: a clear, retryable error at once, not a hang or a 500.
    with pytest.raises(openai.APIStatusError) as err:
        once.videos.download_content(before)
    assert err.value.status_code == 503, err.value
    assert err.value.code == "service_unavailable", err.value.body
    assert err.value.response.headers.get("retry-after") == "1"
    cluster.s3.up()
    assert_valid_mp4(c.videos.download_content(before).content, 720, 1280, 4)


@pytest.mark.timeout(600)
def test_worker_killed_mid_render_another_finishes(cluster: Cluster) -> None:
    _, a = cluster.node("node-a")
    _, b = cluster.node("node-b")
    doomed = cluster.builtin_worker("builtin-a", a)
    cluster.builtin_worker("builtin-b", b)
    ca, cb = client(a), client(b)
    ids = create([ca, cb], 4)
    wait_rendering(ca, ids, count=2)
    doomed.kill()  # SIGKILL mid-render: its lease lapses and builtin-b renders the job again
    done = wait_all([ca, cb], ids)
    assert_all_completed(cb, done, 8, cluster)
