#!/usr/bin/env bash
# A real S3-protocol server on loopback for the tests: moto's standalone server (`moto_server`,
# PyPI `moto[server]`), a separate process speaking S3 over HTTP (multipart uploads, ranged GETs,
# ETags, prefix listings, DeleteObjects). It installs from wheels in well under a minute into
# ~/.cache/kinora/s3-venv (outside the repository), where a Rust S3 server would have to be compiled on CI's two cores.
# Objects live in the server's memory: `stop` loses them, `pause` keeps them.
#
# Usage: bash scripts/s3.sh start DIR    start (or restart on the same port); prints KEY=VALUE
#                                        lines, also written to DIR/env:
#                                        AWS_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
#                                        AWS_REGION AWS_ALLOW_HTTP KINORA_TEST_S3_BUCKET
#        bash scripts/s3.sh stop DIR     stop it (the port stays recorded in DIR for a restart)
#        bash scripts/s3.sh pause DIR    freeze it (SIGSTOP): connections open, nothing answers
#        bash scripts/s3.sh resume DIR   unfreeze it (SIGCONT)
# Env:   PYTHON (interpreter for the venv, default python3), S3_VENV (default
#        ${XDG_CACHE_HOME:-~/.cache}/kinora/s3-venv)
set -euo pipefail

venv="${S3_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kinora/s3-venv}"
python="${PYTHON:-python3}"
moto_pin="moto[server]==5.2.5"
uv_pin="uv==0.13.9"
bucket="kinora-test"

usage() {
    echo "usage: $0 start|stop|pause|resume DIR" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
cmd="$1"
dir="$2"

install() {
    local stamp="$venv/.kinora-s3-stamp"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$moto_pin" ]]; then
        return
    fi
    echo "s3: installing $moto_pin into $venv" >&2
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    # uv (as in sdk-venv.sh) installs the set in seconds; plain pip is the fallback.
    if [[ -x "$venv/bin/uv" ]] || "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$uv_pin" >&2; then
        "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" "$moto_pin" >&2 ||
            "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$moto_pin" >&2
    else
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$moto_pin" >&2
    fi
    echo "$moto_pin" > "$stamp"
}

running_pid() {
    [[ -f "$dir/pid" ]] || return 1
    local pid
    pid="$(cat "$dir/pid")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

start() {
    install
    mkdir -p "$dir"
    if running_pid >/dev/null; then
        echo "s3: already running (pid $(cat "$dir/pid"))" >&2
    else
        local port
        if [[ -f "$dir/port" ]]; then
            port="$(cat "$dir/port")"
        else
            port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
            echo "$port" > "$dir/port"
        fi
        "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >>"$dir/server.log" 2>&1 &
        echo $! > "$dir/pid"
    fi
    local port
    port="$(cat "$dir/port")"
    local endpoint="http://127.0.0.1:$port"
    # Waits for an answer (or the server's death), then creates the bucket; moto accepts
    # unsigned requests, so no S3 client is needed. Re-creating an existing bucket is fine.
    "$venv/bin/python" - "$endpoint" "$bucket" "$(cat "$dir/pid")" <<'PY' || { tail -20 "$dir/server.log" >&2; exit 1; }
import os, sys, time, urllib.request, urllib.error
endpoint, bucket, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.monotonic() + 60
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("s3: the server exited during startup")
    try:
        urllib.request.urlopen(endpoint + "/", timeout=2).read()
        break
    except urllib.error.HTTPError:
        break  # any HTTP answer means it is up
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"s3: no answer from {endpoint} within 60 s")
        time.sleep(0.1)
req = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
urllib.request.urlopen(req, timeout=10).read()
PY
    cat > "$dir/env" <<EOF
AWS_ENDPOINT=$endpoint
AWS_ACCESS_KEY_ID=kinora-test
AWS_SECRET_ACCESS_KEY=kinora-test-secret
AWS_REGION=us-east-1
AWS_ALLOW_HTTP=true
KINORA_TEST_S3_BUCKET=$bucket
EOF
    cat "$dir/env"
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        # A paused server must be woken to act on the TERM.
        kill -CONT "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do
            sleep 0.1
        done
    fi
    rm -f "$dir/pid"
}

signal() {
    local pid
    pid="$(running_pid)" || { echo "s3: not running (no live pid in $dir)" >&2; exit 1; }
    kill "-$1" "$pid"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    pause) signal STOP ;;
    resume) signal CONT ;;
    *) usage ;;
esac
