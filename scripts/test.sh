#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, formatting and lints, every Rust
# test (unit + black-box server tests on port 0, blob tests also against an S3 server on loopback),
# then the official openai Python SDK driving a real server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# --- S3: a real S3-protocol server on loopback for the blob store tests (see scripts/s3.sh) ---
echo "== S3 test server"
s3_dir="$(mktemp -d "${TMPDIR:-/tmp}/kinora-s3.XXXXXX")"
s3_cleanup() { bash scripts/s3.sh stop "$s3_dir" || true; rm -rf "$s3_dir"; }
trap s3_cleanup EXIT
bash scripts/s3.sh start "$s3_dir" >/dev/null
set -a
# shellcheck source=/dev/null
. "$s3_dir/env"
set +a
export KINORA_TEST_S3_URL="s3://$KINORA_TEST_S3_BUCKET/test-$$"
# --- end S3 ---
echo "== cargo test"
cargo test --workspace
echo "== openai SDK suite"
cargo build -p kinora --quiet
bash scripts/sdk-venv.sh
KINORA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kinora" .venv/bin/python -m pytest -c tests/sdk/pytest.ini tests/sdk
