"""bench/gpu_bench.py's smoke mode: the same code as the GPU run, on tiny configs on the CPU
(compilation and the 2-rank case have their own tests: test_speedups, test_group)."""

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_the_benchmark_runs_tiny_and_writes_a_markdown_table(tmp_path):
    sys.path.insert(0, str(BENCH))
    from gpu_bench import main

    out = tmp_path / "bench.md"
    assert main(["--tiny", "--device", "cpu", "--dtype", "float32", "--skip", "compile,cp", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| model | size | frames | tokens | s / step | peak GiB | note |" in text
    for row in ("| wan-tiny | tiny | 9 |", "| wan-tiny + First Block Cache |", "| wan-tiny + FP8 weight storage |",
                "| vace-tiny | tiny |", "| ltx2-tiny | tiny |"):
        assert row in text, row
    assert "Worker overhead (48x32, 8 frames" in text


def test_the_committed_configs_are_the_published_sizes():
    """Parameter counts of the architectures the GPU run builds, from the committed configs."""
    sys.path.insert(0, str(BENCH))
    from gpu_bench import params

    billions = {name: params(name, kind) / 1e9 for name, kind in [
        ("wan2.1-t2v-1.3b", "transformer"), ("wan2.1-t2v-14b", "transformer"), ("wan2.1-vace-14b", "transformer"),
        ("ltx-2", "transformer"), ("umt5-xxl", "text_encoder")]}
    assert 1.2 < billions["wan2.1-t2v-1.3b"] < 1.5
    assert 13.5 < billions["wan2.1-t2v-14b"] < 14.5
    assert billions["wan2.1-vace-14b"] > billions["wan2.1-t2v-14b"] + 1  # the VACE blocks
    assert 18 < billions["ltx-2"] < 20  # LTX-2 19B (video + audio streams)
    assert 5.5 < billions["umt5-xxl"] < 6  # the encoder half of UMT5-XXL
    for f in (BENCH / "configs").glob("*.json"):
        assert "_class_name" in json.loads(f.read_text()), f
