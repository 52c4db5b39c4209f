#!/usr/bin/env bash
# The GPU worker's test suite on CPU, fully offline: tiny randomly initialised pipelines built in
# code, saved and loaded back through from_pretrained(local_dir); the protocol client against a
# fake server; and, when the kinora binary is built (KINORA_BIN, default
# ${CARGO_TARGET_DIR:-target}/debug/kinora), end to end against the real `kinora serve`.
#
# Usage: bash scripts/test-gpu-worker.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/gpu-worker-venv.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1
export KINORA_BIN="${KINORA_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/kinora}"
# Cache the bytecode of what the tests import (diffusers and transformers are thousands of
# modules; recompiling them costs every test process seconds when PYTHONDONTWRITEBYTECODE is set).
unset PYTHONDONTWRITEBYTECODE
# Two cores are shared with cargo: one torch thread per test process.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
exec workers/python/.venv/bin/python -m pytest -c workers/python/pyproject.toml --rootdir workers/python \
    workers/python/tests "$@"
