#!/usr/bin/env bash
# Create or refresh the GPU worker's Python environment: workers/python/.venv with the exact pins
# of workers/python/requirements.lock (torch, diffusers, transformers, ... and the test tools),
# plus the worker package itself (editable), installed with uv.
# Idempotent: a stamp holding the hash of the lock, pyproject.toml, the interpreter version and
# the uv pin makes a second run a no-op. Needs a package index only when something has to be
# installed; the tests themselves never touch the network.
#
# torch from PyPI is the CUDA build (it runs on CPU too): ~6 GB installed. uv keeps its cache in
# UV_CACHE_DIR (default <repo>/target/py-cache/uv, or $CARGO_TARGET_DIR/py-cache/uv) so a warm
# reinstall takes under a minute. Bytecode is not compiled here (compiling all of torch takes
# longer than the install); scripts/test-gpu-worker.sh lets Python cache what the tests import.
#
# Usage: bash scripts/gpu-worker-venv.sh      then  bash scripts/test-gpu-worker.sh
# Env:   PYTHON (interpreter used to create the venvs, default python3)
#        GPU_WORKER_VENV (venv location, default <repo>/workers/python/.venv)
#        UV_CACHE_DIR (uv's download cache)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$repo/workers/python"
venv="${GPU_WORKER_VENV:-$pkg/.venv}"
lock="$pkg/requirements.lock"
python="${PYTHON:-python3}"
uv_pin="uv==0.13.9"
stamp="$venv/.kinora-gpu-worker-stamp"
export UV_CACHE_DIR="${UV_CACHE_DIR:-${CARGO_TARGET_DIR:-$repo/target}/py-cache/uv}"

if [[ ! -f "$lock" ]]; then
    echo "gpu-worker-venv: missing $lock" >&2
    exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "gpu-worker-venv: creating $venv"
    "$python" -m venv "$venv"
fi

want="$( { sha256sum "$lock" "$pkg/pyproject.toml" | cut -d' ' -f1; "$venv/bin/python" -c 'import sys; print(sys.version)'; echo "$uv_pin"; } | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "gpu-worker-venv: $venv is up to date"
    exit 0
fi

# uv installs the ~6 GB pinned set in tens of seconds cold; pip would take minutes, so uv is
# required here (it comes from PyPI as a wheel for every platform torch has wheels for).
if [[ ! -x "$venv/bin/uv" ]]; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$uv_pin"
fi
echo "gpu-worker-venv: installing with uv (cache $UV_CACHE_DIR)"
mkdir -p "$UV_CACHE_DIR"
"$venv/bin/uv" pip sync --quiet --python "$venv/bin/python" "$lock"
# pip sync removed anything not in the lock (uv itself included); the package goes in without
# touching the pinned set.
"$venv/bin/uv" pip install --quiet --no-deps --python "$venv/bin/python" -e "$pkg"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$uv_pin"

# Fail here, not in the middle of a test run, when the environment is not what the pins say.
"$venv/bin/python" - "$lock" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

bad = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line or "==" not in line:
        continue
    name, pinned = (s.strip() for s in line.split(";", 1)[0].split("=="))
    try:
        got = version(name)
    except PackageNotFoundError:
        got = None
    if got != pinned:
        bad.append(f"{name}: want {pinned}, have {got}")
if bad:
    sys.exit("gpu-worker-venv: environment does not match the pins:\n  " + "\n  ".join(bad))
PY

echo "$want" > "$stamp"
echo "gpu-worker-venv: ready ($("$venv/bin/python" -c 'import torch, diffusers, transformers; print("torch", torch.__version__, "diffusers", diffusers.__version__, "transformers", transformers.__version__)' 2>/dev/null))"
