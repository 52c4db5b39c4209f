#!/usr/bin/env bash
# API throughput benchmark (issue 3): wrk against a release `kinora serve` on loopback.
# Writes the "api" section of docs/benchmarks.md. Bounded: each wrk run lasts $DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p kinora --bin kinora
cargo build --release -q -p kinora-server --example bare_axum
BIN=target/release/kinora
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

start() { # start NAME ARGS... -> sets URL
  local name=$1; shift
  local fifo="$work/$name.out"; mkfifo "$fifo"
  "$@" >"$fifo" 2>"$work/$name.err" & pids+=($!)
  exec {fd}<"$fifo"
  read -r line <&$fd
  URL=${line##* }
}
wrk_run() { # wrk_run LABEL URL [lua] [connections, default 32] -> prints "rps p99"
  local args=(-t2 -c"${4:-32}" -d"${DURATION}s" --latency -H "Authorization: Bearer sk-bench")
  [ -n "${3:-}" ] && args+=(-s "$3")
  wrk "${args[@]}" "$2" >"$work/$1.wrk"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$1.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$work/$1.wrk")
  echo "$rps $p99"
}

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"prompt":"a red fox runs across a snowy meadow at dusk","seconds":"4"}'
wrk.headers["Content-Type"] = "application/json"
LUA

# 1. API-only node: accept jobs into the durable queue, then read with a deep queue.
start api "$BIN" serve --listen 127.0.0.1:0 --data-dir "$work/api" --api-key sk-bench --workers 0
read -r post_rps post_p99 < <(wrk_run post "$URL/v1/videos" "$work/post.lua")
id=$(curl -s -H "Authorization: Bearer sk-bench" -H 'content-type: application/json' -d '{"prompt":"probe"}' "$URL/v1/videos" | sed 's/.*"id":"\([^"]*\)".*/\1/')
queued=$(curl -s "$URL/metrics" | awk '/^kinora_videos\{status="queued"\}/ {print $2}')
read -r get_rps get_p99 < <(wrk_run get "$URL/v1/videos/$id")
read -r list_rps list_p99 < <(wrk_run list "$URL/v1/videos?limit=20")

# 2. Bare axum on the same machine, the yardstick.
start bare target/release/examples/bare_axum
read -r bare_rps bare_p99 < <(wrk_run bare "$URL/v1/videos/video_0123456789abcdef0123456789abcdef")

# 3. Retrieve while 4 renders run (4 workers, 20 s 1080p jobs), at 32 and 16 connections.
render4() { # posts 4 renders to $URL, prints the newest id
  for _ in 1 2 3 4; do
    curl -s -o /dev/null -H "Authorization: Bearer sk-bench" -H 'content-type: application/json' \
      -d '{"prompt":"aerial shot of a city at night in the rain","model":"sora-2-pro","size":"1920x1080","seconds":"20"}' "$URL/v1/videos"
  done
  curl -s -H "Authorization: Bearer sk-bench" "$URL/v1/videos?limit=1" | sed 's/.*"id":"\(video_[^"]*\)".*/\1/'
}
start busy "$BIN" serve --listen 127.0.0.1:0 --data-dir "$work/busy" --api-key sk-bench --workers 4
busy_url=$URL
busy_id=$(render4)
read -r busy_rps busy_p99 < <(wrk_run busy "$URL/v1/videos/$busy_id")
read -r busy16_rps busy16_p99 < <(wrk_run busy16 "$URL/v1/videos/$busy_id" "" 16)

# 4. Download a finished 1080p clip: wait for one render, then time the transfer and RSS.
for _ in $(seq 1 600); do
  st=$(curl -s -H "Authorization: Bearer sk-bench" "$URL/v1/videos/$busy_id" | sed 's/.*"status":"\([a-z_]*\)".*/\1/')
  [ "$st" = completed ] && break; sleep 1
done
URL=$busy_url
busy_pid=${pids[2]}
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$busy_pid/status)
dl=$(curl -s -o /dev/null -w '%{size_download} %{speed_download}' -H "Authorization: Bearer sk-bench" "$URL/v1/videos/$busy_id/content")
rss_after=$(awk '/VmRSS/ {print $2}' /proc/$busy_pid/status)
read -r dl_bytes dl_speed <<<"$dl"

# 5. The same with renders in the idle scheduling class (engine.render_idle).
kill "$busy_pid" 2>/dev/null || true
printf '[engine]\nrender_idle = true\n' >"$work/idle.toml"
start idle "$BIN" serve --config "$work/idle.toml" --listen 127.0.0.1:0 --data-dir "$work/idle" --api-key sk-bench --workers 4
idle_id=$(render4)
read -r idle_rps idle_p99 < <(wrk_run idle "$URL/v1/videos/$idle_id")
read -r idle16_rps idle16_p99 < <(wrk_run idle16 "$URL/v1/videos/$idle_id" "" 16)

ratio=$(awk -v a="$get_rps" -v b="$bare_rps" 'BEGIN {printf "%.2f", a/b}')
section=$(cat <<MD
<!-- api:start -->
## API server (\`scripts/bench-api.sh\`)

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, release build, SQLite + local disk, wrk -t2 -c32 (unless a row says 16) for ${DURATION} s per row, on loopback.
The load generator shares the 2 cores with the server, so these are lower bounds.

| what | requests/s | p99 |
|---|---|---|
| \`POST /v1/videos\` accepted into the durable queue | $post_rps | $post_p99 |
| \`GET /v1/videos/{id}\` with $queued jobs queued | $get_rps | $get_p99 |
| \`GET /v1/videos?limit=20\` with $queued jobs queued | $list_rps | $list_p99 |
| \`GET /v1/videos/{id}\` while 4 renders run (4 workers, 20 s 1080p; nice 10, the default) | $busy_rps | $busy_p99 |
| the same, 16 connections | $busy16_rps | $busy16_p99 |
| the same with \`engine.render_idle = true\` (renders in \`SCHED_IDLE\`) | $idle_rps | $idle_p99 |
| the same, 16 connections | $idle16_rps | $idle16_p99 |
| bare axum handler, same JSON size (yardstick) | $bare_rps | $bare_p99 |

Retrieve throughput is **${ratio}×** the bare axum handler's.
Downloading a finished 1080p clip ($dl_bytes bytes): $dl_speed bytes/s; server RSS ${rss_before} KiB before, ${rss_after} KiB after (streamed from disk, not buffered).
<!-- api:end -->
MD
)
touch docs/benchmarks.md
python3 - "$section" <<'PY'
import re, sys
path = "docs/benchmarks.md"
text = open(path).read()
new = sys.argv[1]
if "<!-- api:start -->" in text:
    text = re.sub(r"<!-- api:start -->.*?<!-- api:end -->", lambda m: new, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + new + "\n"
open(path, "w").write(text)
PY
echo "$section"
