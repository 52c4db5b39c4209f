"""100 jobs over two API nodes sharing PostgreSQL and S3, rendered by two built-in workers and
one Python worker on a tiny Wan pipeline; every video is then downloaded from both nodes."""

from __future__ import annotations

import pytest

from conftest import TINY_MODEL, Cluster
from jobs import client, wait_all
from media import assert_valid_mp4

JOBS = 100
TINY_JOBS = 4  # the Python worker's share: a 1-step Wan render is seconds on one CPU thread
PROMPTS = ["a red fox runs across a snowy meadow", "a blue car drives through a city at night",
           "a robot waves on a beach at sunset", "two cats play in a garden in the rain"]


@pytest.mark.timeout(900)
def test_hundred_jobs_complete_and_download_from_either_node(cluster: Cluster, tiny_dirs) -> None:
    _, a = cluster.node("node-a")
    _, b = cluster.node("node-b")
    cluster.builtin_worker("builtin-1", a)
    cluster.builtin_worker("builtin-2", b)
    cluster.python_worker("python-1", b, tiny_dirs)
    nodes = [client(a), client(b)]

    created = {}
    for i in range(JOBS):
        model = TINY_MODEL if i < TINY_JOBS else "sora-2"
        v = nodes[i % 2].videos.create(model=model, prompt=PROMPTS[i % len(PROMPTS)], size="720x1280",
                                       seconds="4")
        assert v.status == "queued", v
        created[v.id] = model
    # Both nodes list every job: one queue, whichever node took the request.
    for c in nodes:
        listed = {v.id for v in c.videos.list(limit=100)}
        assert listed == set(created), f"{len(set(created) - listed)} jobs missing from a node's list"

    done = wait_all(nodes, created)
    failed = {i: (v.error.code, v.error.message) for i, v in done.items() if v.status != "completed"}
    assert not failed, f"{len(failed)} jobs failed: {failed}\n{cluster.logs()}"

    for vid, model in created.items():
        assert done[vid].model == model
        from_a = nodes[0].videos.download_content(vid).content
        from_b = nodes[1].videos.download_content(vid).content
        assert from_a == from_b, f"{vid}: the nodes serve different bytes"
        # The Python worker's 1 fps clip too: the node normalised it to the platform's format.
        assert_valid_mp4(from_a, 720, 1280, 4)
        thumb_a = nodes[0].videos.download_content(vid, variant="thumbnail").content
        assert thumb_a == nodes[1].videos.download_content(vid, variant="thumbnail").content
