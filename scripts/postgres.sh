#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, listening only on 127.0.0.1.
#   scripts/postgres.sh start DIR [PORT]  installs Debian's postgresql if missing, creates a
#                                    cluster in DIR on PORT (default: a free port), waits until it
#                                    answers and prints its URL
#   scripts/postgres.sh stop DIR     stops it (fast: open connections are cut)
#   scripts/postgres.sh restart DIR  stops and starts it on the same port, prints the URL again
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user and DIR
# is handed to it. Durability settings are off (the cluster is thrown away after the run) unless
# PG_DURABLE=1, which keeps PostgreSQL's defaults for benchmarks (scripts/bench-cluster.sh).
set -euo pipefail

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR | restart DIR" >&2
    exit 2
}
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = start ]; } || usage
cmd="$1"
dir="$2"
port="${3:-}"
if [ -n "$port" ] && ! [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]]; then
    echo "PORT must be a number from 1 to 65535, not '$port'" >&2
    exit 2
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# Runs a PostgreSQL server program as the user that owns the cluster.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

bin_dir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$d" ]; then
        echo "installing Debian package: postgresql" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$d"
}

# A port nothing answers on; the server's own bind is the final check (start retries on failure).
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

url() {
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
}

wait_ready() {
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$(cat "$dir/port")" -t 60
}

start() {
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "the postgres user cannot reach $dir: every directory above it must be searchable (chmod o+x)" >&2
            exit 1
        fi
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log"
    fi
    local tries durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-}" = 1 ] && durability=""
    for tries in 1 2 3 4 5; do
        if [ -n "$port" ]; then
            echo "$port" >"$dir/port"
        else
            free_port >"$dir/port"
        fi
        if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 -s start \
            -o "-c listen_addresses=127.0.0.1 -c port=$(cat "$dir/port") \
                -c unix_socket_directories=$dir -c max_connections=300 $durability"; then
            wait_ready
            url
            return
        fi
        echo "PostgreSQL did not start on port $(cat "$dir/port") (try $tries); see $dir/data/server.log" >&2
        # A port the caller chose is not worth retrying: it is taken or not ours to use.
        [ -n "$port" ] && exit 1
    done
    exit 1
}

stop() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -s -m fast -w stop
}

restart() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -s -m fast -w -t 60 restart
    wait_ready
    url
}

bin=$(bin_dir)
case "$cmd" in
start) start ;;
stop) stop ;;
restart) restart ;;
*) usage ;;
esac
