#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, formatting and lints, every Rust
# test (unit + black-box server tests on port 0), then the official openai Python SDK driving a
# real server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== openai SDK suite"
cargo build -p kinora --quiet
bash scripts/sdk-venv.sh
KINORA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kinora" .venv/bin/python -m pytest -c tests/sdk/pytest.ini tests/sdk
bash scripts/test-gpu-worker.sh
