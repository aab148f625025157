#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for xiaowei's tests: start | stop | status | url.
#
# Why: the store must be proven on the database a bank deploys, not only on SQLite, and a
# test run must not depend on a shared server. The cluster lives in $XIAOWEI_PG_DIR
# (default /tmp/xiaowei-pg), listens on 127.0.0.1:$XIAOWEI_PG_PORT (default 54329) only,
# trusts local connections, and holds the database xiaowei_test owned by role xiaowei_pg.
#
# PostgreSQL refuses to run as root, so under root the cluster runs as the system user
# xiaowei_pg (created if missing); as a normal user it runs as that user. Only the URL is
# printed on stdout, so `url=$(scripts/pg_test_cluster.sh start)` works; progress and errors
# go to stderr.
set -euo pipefail

PG_DIR="${XIAOWEI_PG_DIR:-/tmp/xiaowei-pg}"
PG_PORT="${XIAOWEI_PG_PORT:-54329}"
PG_ROLE="xiaowei_pg"
PG_DB="xiaowei_test"
DATA="$PG_DIR/data"
SOCKETS="$PG_DIR/run"
LOG="$PG_DIR/postgres.log"

say() { echo "pg_test_cluster: $*" >&2; }
die() { say "$*"; exit 1; }

url() { echo "postgresql+psycopg://${PG_ROLE}@127.0.0.1:${PG_PORT}/${PG_DB}"; }

find_bindir() {
    local dir
    # Highest installed major version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
    done
    if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir; return 0
    fi
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

ensure_postgres_installed() {
    BIN="$(find_bindir)" && return 0
    [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; install it (apt-get install postgresql) or run as root"
    say "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2 && apt-get install -y postgresql >&2
    BIN="$(find_bindir)" || die "PostgreSQL installed but initdb not found"
}

# Run a PostgreSQL program as the cluster's owner: xiaowei_pg under root, else ourselves.
# The lock descriptor (9) is closed for it, or the server would hold the lock forever.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$PG_DIR" && runuser -u "$PG_ROLE" -- "$@" 9>&-)
    else
        (cd "$PG_DIR" && "$@" 9>&-)
    fi
}

ensure_owner() {
    [[ $EUID -eq 0 ]] || return 0
    if ! id "$PG_ROLE" >/dev/null 2>&1; then
        say "creating system user $PG_ROLE"
        useradd --system --no-create-home --home-dir "$PG_DIR" --shell /usr/sbin/nologin "$PG_ROLE" \
            || die "could not create system user $PG_ROLE"
    fi
    chown -R "$PG_ROLE:" "$PG_DIR"
}

is_running() {
    [[ -f "$DATA/PG_VERSION" ]] || return 1
    as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
    # pg_ctl trusts postmaster.pid; after a killed session that PID may be a zombie or
    # another process. Only a server that answers counts as running.
    local port
    port="$(sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true)"
    for _ in 1 2 3 4 5; do
        "$BIN/pg_isready" -q -h 127.0.0.1 -p "${port:-$PG_PORT}" && return 0
        sleep 1
    done
    say "stale postmaster.pid in $DATA (no server answers): removing it"
    rm -f "$DATA/postmaster.pid"
    return 1
}

init_cluster() {
    [[ -f "$DATA/PG_VERSION" ]] && return 0
    say "initialising cluster in $DATA"
    rm -rf "$DATA"
    # Locale C: byte-order collation, identical on every machine, so test results are too.
    as_owner "$BIN/initdb" -D "$DATA" -U "$PG_ROLE" -A trust -E UTF8 --locale=C >&2
    # Durability is worthless for a test cluster; speed is not.
    cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

start() {
    ensure_postgres_installed
    mkdir -p "$PG_DIR" "$SOCKETS"
    chmod 0755 "$PG_DIR"
    ensure_owner
    if ! is_running; then
        init_cluster
        say "starting on 127.0.0.1:$PG_PORT (log: $LOG)"
        if ! as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PG_PORT" -w -t 60 start >&2; then
            [[ -f "$LOG" ]] && tail -n 30 "$LOG" >&2
            die "PostgreSQL did not start"
        fi
    fi
    local running_port
    running_port="$(sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true)"
    [[ "$running_port" == "$PG_PORT" ]] \
        || die "cluster in $DATA is running on port $running_port, not $PG_PORT; stop it first"
    local psql=("$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d postgres -v ON_ERROR_STOP=1 -qtA)
    if [[ "$(as_owner "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]]; then
        say "creating database $PG_DB"
        as_owner "${psql[@]}" -c "CREATE DATABASE $PG_DB" >&2
    fi
    url
}

stop() {
    BIN="$(find_bindir)" || die "PostgreSQL is not installed"
    [[ -d "$PG_DIR" ]] || { say "no cluster in $PG_DIR"; return 0; }
    if is_running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
        say "not running"
    fi
}

status() {
    BIN="$(find_bindir)" || die "PostgreSQL is not installed"
    if [[ -d "$PG_DIR" ]] && is_running; then
        say "running: $(url)"
    else
        say "not running"
        return 3
    fi
}

# Serialise concurrent callers (parallel test workers) on one lock file.
with_lock() {
    if command -v flock >/dev/null; then
        exec 9>"${PG_DIR%/}.lock"
        flock -w 120 9 || die "timed out waiting for ${PG_DIR%/}.lock"
    fi
    "$@"
}

case "${1:-}" in
    start) with_lock start ;;
    stop) with_lock stop ;;
    status) status ;;
    url) url ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
