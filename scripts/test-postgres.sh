#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on 127.0.0.1 only.
#
#   scripts/test-postgres.sh start    # (re)creates and starts it; prints its URL on stdout
#   scripts/test-postgres.sh url      # prints the URL of the running server
#   scripts/test-postgres.sh status   # exit 0 when it is running
#   scripts/test-postgres.sh stop     # stops it and deletes its data directory
#
#   export TEST_POSTGRES_URL="$(scripts/test-postgres.sh start)"
#   make test
#   scripts/test-postgres.sh stop
#
# Settings (environment):
#   TEST_PG_PORT   port to listen on (default 54329)
#   TEST_PG_BASE   directory for data, log and URL (default /tmp/movies-assistant-pg-<port>);
#                  `start` deletes whatever an earlier `start` left there
#   TEST_PG_KEEP=1 `stop` keeps the directory (to read the server log)
#
# Needs PostgreSQL's server programs (Debian: the `postgresql` package). When they are missing and
# this runs as root, they are installed with apt-get. As root the server runs as the `postgres` user,
# since PostgreSQL refuses to run as root. The superuser `postgres` gets a random password (stored
# in <base>/url) and connections over TCP need it; the server does not listen on any other address.
set -euo pipefail

PORT="${TEST_PG_PORT:-54329}"
BASE="${TEST_PG_BASE:-/tmp/movies-assistant-pg-${PORT}}"
DATA="$BASE/data"
LOG="$BASE/server.log"
URL_FILE="$BASE/url"
MARKER="$BASE/.movies-assistant-test-postgres"

# Deletes $BASE, but only a directory this script made (TEST_PG_BASE could name anything).
remove_base() {
    [ -e "$BASE" ] || return 0
    [ -f "$MARKER" ] || die "$BASE exists but was not made by this script; remove it or set TEST_PG_BASE"
    rm -rf "$BASE"
}

say() { echo "test-postgres: $*" >&2; }
die() { say "error: $*"; exit 1; }

case "$PORT" in '' | *[!0-9]*) die "TEST_PG_PORT must be a port number, not '$PORT'" ;; esac
case "$BASE" in /*) ;; *) die "TEST_PG_BASE must be an absolute path, not '$BASE'" ;; esac

# The directory holding initdb, pg_ctl and postgres; installs PostgreSQL when missing (root only).
find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
    fi
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

install_postgres() {
    [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; install it (Debian: sudo apt-get install postgresql) and retry"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available; install PostgreSQL and retry"
    say "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
}

SERVICE_USER=postgres
# shellcheck source=scripts/service-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/service-lib.sh"

is_running() {
    local bindir
    [ -f "$DATA/postmaster.pid" ] || return 1
    bindir="$(find_bindir)" || return 1
    as_owner "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

stop_server() {
    local bindir
    if [ -f "$DATA/postmaster.pid" ] && bindir="$(find_bindir)"; then
        if as_owner "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
            say "stopping the server on port $PORT"
            as_owner "$bindir/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null ||
                as_owner "$bindir/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null || true
        fi
    fi
}

start() {
    local bindir started password owner
    started=$SECONDS
    bindir="$(find_bindir)" || { install_postgres; bindir="$(find_bindir)" || die "PostgreSQL was installed but initdb was not found"; }

    # Throwaway: whatever an earlier run left behind (running or not) goes first.
    stop_server
    remove_base
    port_in_use "$PORT" && die "port $PORT on 127.0.0.1 is already in use (another program, or a server from an earlier run whose directory was deleted); choose another port with TEST_PG_PORT"

    owner="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        owner=postgres
    fi
    mkdir -p "$BASE"
    touch "$MARKER"
    chmod 700 "$BASE"
    [ "$owner" = "$(id -un)" ] || chown "$owner": "$BASE"

    password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$password" > "$BASE/pwfile"
    [ "$owner" = "$(id -un)" ] || chown "$owner": "$BASE/pwfile"
    chmod 600 "$BASE/pwfile"

    say "initialising a cluster in $DATA ($("$bindir/postgres" --version))"
    as_owner "$bindir/initdb" -D "$DATA" -U postgres --pwfile="$BASE/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1 ||
        { cat "$BASE/initdb.log" >&2; die "initdb failed"; }
    rm -f "$BASE/pwfile"

    say "starting the server on 127.0.0.1:$PORT"
    if ! as_owner "$bindir/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories='$BASE' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
        tail -n 30 "$LOG" >&2 || true
        die "the server did not start (log: $LOG)"
    fi
    local i
    for i in $(seq 1 60); do
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
        [ "$i" = 60 ] && { tail -n 30 "$LOG" >&2 || true; die "the server is not accepting connections (log: $LOG)"; }
        sleep 0.5
    done

    printf 'postgresql://postgres:%s@127.0.0.1:%s/postgres\n' "$password" "$PORT" > "$URL_FILE"
    chmod 644 "$URL_FILE"
    say "ready in $((SECONDS - started))s"
    cat "$URL_FILE"
}

stop() {
    stop_server
    if [ "${TEST_PG_KEEP:-0}" = 1 ]; then
        say "kept $BASE"
    else
        remove_base
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if is_running; then say "running on 127.0.0.1:$PORT"; else say "not running"; exit 1; fi ;;
    url) is_running && [ -f "$URL_FILE" ] || die "not running; use: $0 start"; cat "$URL_FILE" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
