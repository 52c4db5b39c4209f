"""Every failure code the worker sends is one Kinora documents (docs/errors.md, rendered from
kinora_core::ErrorCode), so users reading a failed video's `error.code` find what it means."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_code_the_worker_sends_is_in_the_error_table():
    table = (ROOT / "docs" / "errors.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    source = (ROOT / "workers" / "python" / "kinora_worker" / "worker.py").read_text()
    sent = set(re.findall(r'_fail\(\s*job,\s*"([a-z_]+)"', source))
    assert sent, "no failure codes found in worker.py; the pattern no longer matches its calls"
    assert sent <= documented, f"undocumented: {sorted(sent - documented)}"
