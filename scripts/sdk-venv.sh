#!/usr/bin/env bash
# Create or refresh the Python environment that tests/sdk runs in: <repo>/.venv with the exact
# pins of tests/sdk/requirements.txt (the official openai SDK, pytest, Pillow).
# Idempotent: a stamp holding the hash of the requirements and the interpreter version makes a
# second run a no-op. Needs a package index only when something has to be installed; the tests
# themselves never touch the network.
#
# Usage: bash scripts/sdk-venv.sh        then  .venv/bin/python -m pytest tests/sdk
# Env:   PYTHON (interpreter used to create the venv, default python3)
#        SDK_VENV (venv location, default <repo>/.venv)
#        SDK_REQUIREMENTS (pins to install, default tests/sdk/requirements.txt; scripts/schemathesis.sh
#        uses tests/schemathesis/requirements.txt in its own venv)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SDK_VENV:-$repo/.venv}"
req="${SDK_REQUIREMENTS:-$repo/tests/sdk/requirements.txt}"
python="${PYTHON:-python3}"
uv_pin="uv==0.13.9"
stamp="$venv/.kinora-sdk-stamp"

if [[ ! -f "$req" ]]; then
    echo "sdk-venv: missing $req" >&2
    exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
    echo "sdk-venv: creating $venv"
    "$python" -m venv "$venv"
fi

want="$( { sha256sum "$req" | cut -d' ' -f1; "$venv/bin/python" -c 'import sys; print(sys.version)'; echo "$uv_pin"; } | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "sdk-venv: $venv is up to date"
    exit 0
fi

install_with_pip() {
    echo "sdk-venv: installing with pip"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
}

# uv resolves and installs the pinned set in about a second; pip is the fallback when uv
# cannot be installed (for example no wheel for this platform).
if [[ -x "$venv/bin/uv" ]] || "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$uv_pin"; then
    echo "sdk-venv: installing with uv"
    if ! "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -r "$req"; then
        install_with_pip
    fi
else
    install_with_pip
fi

# Fail here, not in the middle of a test run, when the environment is not what the pins say.
"$venv/bin/python" - "$req" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

bad = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, pinned = line.split("==")
    try:
        got = version(name)
    except PackageNotFoundError:
        got = None
    if got != pinned:
        bad.append(f"{name}: want {pinned}, have {got}")
if bad:
    sys.exit("sdk-venv: environment does not match the pins:\n  " + "\n  ".join(bad))
PY

echo "$want" > "$stamp"
echo "sdk-venv: ready ($venv from $(basename "$(dirname "$req")")/$(basename "$req"))"
