#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, formatting and lints, every Rust
# test (unit + black-box server tests on port 0, the storage story on SQLite and on a throwaway
# PostgreSQL), then the official openai Python SDK driving a real server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

# A PostgreSQL of our own unless the caller points at one; stopped and removed on any exit.
if [ -z "${KINORA_TEST_POSTGRES_URL:-}" ] && [ "${KINORA_TEST_POSTGRES:-}" != skip ]; then
    pg_dir=$(mktemp -d)
    chmod 755 "$pg_dir"
    trap 'bash scripts/postgres.sh stop "$pg_dir/cluster" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
    echo "== PostgreSQL"
    KINORA_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$pg_dir/cluster")
    export KINORA_TEST_POSTGRES_URL
    echo "$KINORA_TEST_POSTGRES_URL"
fi

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
