#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, formatting and lints, every Rust
# test (unit + black-box server tests on port 0, the storage story on SQLite and on a throwaway
# PostgreSQL, blob tests also against an S3 server on loopback), then the official openai Python
# SDK driving a real server (on SQLite + local files, then on PostgreSQL + S3), schemathesis
# fuzzing every operation of the served OpenAPI document, the studio in
# headless chromium, every README snippet, the GPU worker's suite on tiny models, and the
# one-machine cluster with its fault tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each stage's heading carries the seconds since the start, so a slow CI run shows where it went.
stage() { echo "== [${SECONDS}s] $*"; }

bash scripts/deps.sh

# The Python environments are mostly downloads and unpacking, so they build in the background
# while Rust compiles; the first stage that needs them waits (`venvs_ready`). Their scripts are
# no-ops once built, so the stages' own calls change nothing afterwards.
venv_log="$(mktemp)"
(bash scripts/sdk-venv.sh && bash scripts/gpu-worker-venv.sh) >"$venv_log" 2>&1 &
venv_pid=$!
venvs_ready() {
    [ -n "$venv_pid" ] || return 0
    local rc=0
    wait "$venv_pid" || rc=$?
    venv_pid=""
    cat "$venv_log"
    rm -f "$venv_log"
    if [ "$rc" -ne 0 ]; then
        echo "building the Python environments failed (exit $rc)" >&2
        exit "$rc"
    fi
}

# A PostgreSQL of our own unless the caller points at one; stopped and removed on any exit.
if [ -z "${KINORA_TEST_POSTGRES_URL:-}" ] && [ "${KINORA_TEST_POSTGRES:-}" != skip ]; then
    pg_dir=$(mktemp -d)
    chmod 755 "$pg_dir"
    pg_cleanup() { bash scripts/postgres.sh stop "$pg_dir/cluster" >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
    trap pg_cleanup EXIT
    stage "PostgreSQL"
    KINORA_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$pg_dir/cluster")
    export KINORA_TEST_POSTGRES_URL
    echo "$KINORA_TEST_POSTGRES_URL"
fi

stage "cargo fmt --check"
cargo fmt --all -- --check
stage "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# --- S3: a real S3-protocol server on loopback for the blob store tests (see scripts/s3.sh) ---
stage "S3 test server"
s3_dir="$(mktemp -d "${TMPDIR:-/tmp}/kinora-s3.XXXXXX")"
s3_cleanup() { bash scripts/s3.sh stop "$s3_dir" || true; rm -rf "$s3_dir"; }
# One EXIT trap for both servers: a second `trap … EXIT` would replace the first.
trap 's3_cleanup; if declare -F pg_cleanup >/dev/null; then pg_cleanup; fi' EXIT
bash scripts/s3.sh start "$s3_dir" >/dev/null
set -a
# shellcheck source=/dev/null
. "$s3_dir/env"
set +a
export KINORA_TEST_S3_URL="s3://$KINORA_TEST_S3_BUCKET/test-$$"
# --- end S3 ---
stage "cargo test"
cargo test --workspace
stage "cargo test, AAC (the opt-in feature: FDK AAC compiled from its bundled source)"
# The whole workspace is selected so shared dependencies keep the main build's features and are
# reused; selecting only kinora-media re-resolved them and rebuilt the C codecs (~9 min). Only
# the tests the feature changes run again: the AAC ones, and foreign clips (with the feature a
# Baseline clip with AAC audio is read in-process instead of through ffmpeg).
cargo test --workspace --lib --features kinora-media/aac -- aac foreign
stage "openai SDK suite (on SQLite + local files, and alongside it on PostgreSQL + S3)"
# `cargo test --workspace` built target/debug/kinora; asking for it the same way is a no-op. A
# `cargo build -p kinora` would resolve reqwest without the test-only features and recompile the
# server crates (minutes on two cores).
cargo test --workspace --no-run --quiet
venvs_ready
bash scripts/sdk-venv.sh
export KINORA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kinora"
# The two runs share nothing (each server gets its own temporary state) and spend most of their
# time waiting on renders, so they run side by side; the second one's report follows the first.
pg_sdk_pid=""
if [ -n "${KINORA_TEST_POSTGRES_URL:-}" ]; then
    pg_sdk_log="$(mktemp)"
    KINORA_SDK_POSTGRES_URL="$KINORA_TEST_POSTGRES_URL" KINORA_SDK_BLOB_URL="s3://$KINORA_TEST_S3_BUCKET/sdk-$$" \
        .venv/bin/python -m pytest -c tests/sdk/pytest.ini tests/sdk >"$pg_sdk_log" 2>&1 &
    pg_sdk_pid=$!
fi
sqlite_sdk=0
.venv/bin/python -m pytest -c tests/sdk/pytest.ini tests/sdk || sqlite_sdk=$?
if [ -n "$pg_sdk_pid" ]; then
    pg_sdk=0
    wait "$pg_sdk_pid" || pg_sdk=$?
    stage "openai SDK suite on PostgreSQL + S3 (ran alongside)"
    cat "$pg_sdk_log"
    rm -f "$pg_sdk_log"
    [ "$pg_sdk" -eq 0 ] || exit "$pg_sdk"
fi
[ "$sqlite_sdk" -eq 0 ] || exit "$sqlite_sdk"
stage "schemathesis against /openapi.json (every check, fixed seed, bounded examples)"
bash scripts/schemathesis.sh
stage "Kinora Studio in headless chromium (screenshots in target/studio-screens/)"
.venv/bin/python -m pytest -c tests/studio/pytest.ini tests/studio
stage "README snippets, run as pasted"
.venv/bin/python -m pytest -c tests/readme/pytest.ini tests/readme
stage "GPU worker (tiny models, CPU)"
bash scripts/test-gpu-worker.sh
stage "cluster on one machine (PostgreSQL, S3, two nodes, three workers, faults)"
bash scripts/test-cluster.sh
stage "done"
