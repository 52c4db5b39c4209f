#!/usr/bin/env bash
# The one-machine cluster tests (tests/cluster): a throwaway PostgreSQL and S3 server on
# loopback, two `kinora serve` nodes sharing them, built-in `kinora worker`s and the Python GPU
# worker on tiny models; 100 jobs, then the faults (an API node killed, PostgreSQL restarted,
# S3 down for a while and for good). Runs in the GPU worker's venv, which has the openai SDK,
# torch and the worker package.
#
# Usage: bash scripts/test-cluster.sh [pytest args]
# Env:   KINORA_BIN (default ${CARGO_TARGET_DIR:-target}/debug/kinora; built when missing)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
bash scripts/gpu-worker-venv.sh
export KINORA_BIN="${KINORA_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/kinora}"
[ -x "$KINORA_BIN" ] || cargo build -p kinora --quiet
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1
unset PYTHONDONTWRITEBYTECODE
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
exec workers/python/.venv/bin/python -m pytest -c tests/cluster/pytest.ini --rootdir tests/cluster \
    tests/cluster "$@"
