"""Every fenced `python` and `sh` block of the README runs as pasted, in order, against a real
`kinora serve` started the way the README starts it (no API key, loopback).

What the test changes, and only this: `http://127.0.0.1:8000` becomes the test server's address
(it listens on a free port), and `cargo run --release --` becomes the already built `kinora`
binary (which is also on `PATH`, for blocks that call `kinora` directly). Python blocks share one
namespace, as in one interpreter session; every block runs in one scratch directory.

A block that cannot run in CI (it serves forever, compiles a release build, needs a cloud
account) opts out with this line right above its fence, reason required:

    <!-- readme-test: skip (why) -->

Skipped blocks are reported as skipped tests with their reason (`pytest -ra`), so the count is
always visible. Run: bash scripts/sdk-venv.sh && cargo build -p kinora && .venv/bin/python -m
pytest tests/readme
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from server_process import REPO_ROOT, KinoraServer, kinora_bin, stop_server  # noqa: E402

README = REPO_ROOT / "README.md"
RUN = {"python": "python", "py": "python", "sh": "sh", "bash": "sh", "shell": "sh", "console": "sh"}
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
BLOCK_TIMEOUT_S = 300


@dataclass
class Block:
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"README.md:{self.line}-{self.lang}"


def blocks(text: str) -> list[Block]:
    """Fenced blocks in order; a fence closes only with the same character, at least as long."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group("fence"), m.group("lang").lower(), i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence[0] * len(fence))
                                      and set(lines[i].strip()) == {fence[0]}):
            body.append(lines[i])
            i += 1
        i += 1
        prev = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = SKIP.match(prev.strip())
        if lang in RUN:
            out.append(Block(start + 1, RUN[lang], "\n".join(body) + "\n", marker and marker.group("why")))
    return out


BLOCKS = blocks(README.read_text(encoding="utf-8"))


class OpenServer(KinoraServer):
    """`kinora serve` as the README's quick start runs it: loopback, no API key."""

    @property
    def argv(self) -> list[str]:
        return [str(kinora_bin()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
                "--workers", "2"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KinoraServer]:
    srv = OpenServer(tmp_path_factory.mktemp("readme") / "data")
    srv.start()
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme-work")


NAMESPACE: dict[str, object] = {"__name__": "__readme__"}


def adapt(code: str, url: str) -> str:
    return code.replace("http://127.0.0.1:8000", url).replace("cargo run --release --", str(kinora_bin()))


def test_the_extractor_sees_the_readme() -> None:
    langs = {b.lang for b in BLOCKS}
    assert {"python", "sh"} <= langs, f"found only {langs}"
    assert any(b.skip for b in BLOCKS) and any(not b.skip for b in BLOCKS)
    sample = "x\n<!-- readme-test: skip (slow) -->\n````sh\n```\nnot the end\n```\n````\n```python\nprint(1)\n```\n"
    parsed = blocks(sample)
    assert [(b.lang, b.skip) for b in parsed] == [("sh", "slow"), ("python", None)]
    assert "not the end" in parsed[0].code


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_block_runs_as_pasted(block: Block, server: KinoraServer, workdir: Path) -> None:
    if block.skip:
        pytest.skip(f"marked in the README: {block.skip}")
    code = adapt(block.code, server.url)
    if block.lang == "python":
        here = os.getcwd()
        os.chdir(workdir)
        try:
            exec(compile(code, block.name, "exec"), NAMESPACE)  # noqa: S102 - the README is ours
        finally:
            os.chdir(here)
        return
    env = dict(os.environ, PATH=f"{kinora_bin().parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=workdir, env=env, text=True,
                          capture_output=True, timeout=BLOCK_TIMEOUT_S)
    assert done.returncode == 0, (
        f"{block.name} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )
