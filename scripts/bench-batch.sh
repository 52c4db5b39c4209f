#!/usr/bin/env bash
# Batch API benchmark (issue 4): 50,000-line batch validation and scheduler overhead.
# Writes the "batch" section of docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-50000}
RENDERS=${RENDERS:-16}
cargo build --release -q -p kinora-server --example bench_batch
table=$(target/release/examples/bench_batch "$LINES" "$RENDERS")
section=$(cat <<MD
<!-- batch:start -->
## Batch API (\`scripts/bench-batch.sh\`)

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, release build, SQLite + local disk, one process
(server and client in-process over loopback HTTP), built-in engine.

$table
<!-- batch:end -->
MD
)
python3 - "$section" <<'PY'
import re, sys
path = "docs/benchmarks.md"
text = open(path).read()
new = sys.argv[1]
if "<!-- batch:start -->" in text:
    text = re.sub(r"<!-- batch:start -->.*?<!-- batch:end -->", lambda m: new, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + new + "\n"
open(path, "w").write(text)
PY
echo "$section"
