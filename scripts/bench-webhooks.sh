#!/usr/bin/env bash
# Webhook delivery rate to a local receiver (issue 4): runs the bench_webhooks example and writes
# the "webhooks" section of docs/benchmarks.md. N events (default 5000) are emitted with no sender
# running, then one node delivers them all to an in-process loopback receiver answering 200.
# PROFILE=dev measures a debug build (dependencies are optimised in debug builds too).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000}
PROFILE=${PROFILE:-release}
flag=(--release); [ "$PROFILE" = release ] || flag=()
row=$(cargo run -q "${flag[@]}" -p kinora-server --example bench_webhooks -- "$N" | tail -1)
section=$(cat <<MD
<!-- webhooks:start -->
## Webhook delivery (\`scripts/bench-webhooks.sh\`)

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, ${PROFILE} build (dev: dependencies optimised, Kinora's crates not), SQLite + local disk: ${N} \`video.failed\` events
emitted through the store with no sender running, then one node's delivery loop claims (with a lease),
signs (HMAC-SHA256), POSTs and records each one to an axum receiver on loopback answering 200. The
receiver shares the cores with the server, so the rate is a lower bound.

| events | concurrency | emit rate (create + cancel, one transaction each) | all received | delivery rate | all recorded delivered |
|---|---|---|---|---|---|
${row}
<!-- webhooks:end -->
MD
)
python3 - "$section" <<'PY'
import re, sys
path = "docs/benchmarks.md"
text = open(path).read()
section = sys.argv[1]
pattern = re.compile(r"<!-- webhooks:start -->.*?<!-- webhooks:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
echo "$row"
