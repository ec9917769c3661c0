#!/usr/bin/env bash
# A PostgreSQL server for the tests: Debian's packages, a throwaway cluster, the fixtures.
#
#   source .ci/postgres.sh          installs (if needed), starts (if needed), loads the fixtures,
#                                   exports BURLER_TEST_POSTGRES_URL in the calling shell
#   .ci/postgres.sh                 the same, printing `export BURLER_TEST_POSTGRES_URL=...` on stdout
#                                   (eval "$(.ci/postgres.sh)")
#   .ci/postgres.sh stop            stops the cluster and deletes its data directory
#
# Idempotent: a cluster already running on the port is reused (the fixtures are reloaded).
# Settings: BURLER_PG_PORT (default 55432, loopback only), BURLER_PG_DATA (default
# ${TMPDIR:-/tmp}/burler-postgres-$BURLER_PG_PORT), BURLER_PG_DB (default burler_test).
# The cluster has wal_level=logical (LOG_BASED tests), trust authentication on 127.0.0.1, the
# superuser `postgres`, and fsync off (a test server: speed over durability).
# Packages: `postgresql` from apt when no server binaries are found (root, or sudo without a
# password; no main cluster is created). initdb refuses to run as root: as root the cluster
# runs as the `postgres` user the package creates. Progress goes to stderr.

_burler_pg_log() { echo "postgres.sh: $*" >&2; }

_burler_pg_as_owner() {
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_burler_pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb ]] && echo "$dir"
}

_burler_pg_install() {
    [[ -n $(_burler_pg_bindir) ]] && return 0
    local sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || {
            _burler_pg_log "PostgreSQL is not installed and this user cannot install packages (no root, no sudo -n)"
            return 1
        }
        sudo=(sudo -n)
    fi
    _burler_pg_log "installing Debian's postgresql packages"
    # No default cluster on port 5432: the tests start their own.
    "${sudo[@]}" mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0)
    "${apt[@]}" install --no-install-recommends postgresql postgresql-client >&2 \
        || { "${apt[@]}" update >&2 && "${apt[@]}" install --no-install-recommends postgresql postgresql-client >&2; } \
        || { _burler_pg_log "apt-get install postgresql failed"; return 1; }
    [[ -n $(_burler_pg_bindir) ]] || { _burler_pg_log "installed, but no initdb under /usr/lib/postgresql"; return 1; }
}

_burler_pg_start() {
    local bin=$1 data=$2 port=$3
    if _burler_pg_as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        _burler_pg_log "reusing the cluster in $data"
        return 0
    fi
    if [[ ! -f $data/PG_VERSION ]]; then
        _burler_pg_log "initdb $data"
        rm -rf "$data" && mkdir -p "$data"
        [[ $(id -u) == 0 ]] && chown postgres: "$data"
        _burler_pg_as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
            || { _burler_pg_log "initdb failed"; return 1; }
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
fsync = off
full_page_writes = off
shared_buffers = 128MB
timezone = 'UTC'
CONF
    fi
    _burler_pg_log "starting PostgreSQL on 127.0.0.1:$port"
    _burler_pg_as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null \
        || { _burler_pg_log "pg_ctl start failed: $(tail -n 3 "$data/server.log" 2>/dev/null)"; return 1; }
}

_burler_pg_main() {
    set -euo pipefail
    local port=${BURLER_PG_PORT:-55432}
    local data=${BURLER_PG_DATA:-${TMPDIR:-/tmp}/burler-postgres-$port}
    local db=${BURLER_PG_DB:-burler_test}
    local here fixtures
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    fixtures="$here/../crates/burler-sql/tests/fixtures/postgres.sql"
    if [[ ${1:-} == stop ]]; then
        local bin
        bin=$(_burler_pg_bindir) || return 0
        _burler_pg_as_owner "$bin/pg_ctl" -D "$data" -m fast stop >&2 || true
        rm -rf "$data"
        return 0
    fi
    _burler_pg_install
    local bin
    bin=$(_burler_pg_bindir)
    _burler_pg_start "$bin" "$data" "$port"
    local psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
    if ! "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        "${psql[@]}" -d postgres -c "CREATE DATABASE $db" >&2
    fi
    PGOPTIONS="-c client_min_messages=warning" "${psql[@]}" -d "$db" -f "$fixtures" >&2 || { _burler_pg_log "loading $fixtures failed"; return 1; }
    _burler_pg_log "fixtures loaded into $db"
    echo "postgres://postgres@127.0.0.1:$port/$db"
}

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
    # Sourced: export the URL into the caller's shell, leave its options alone.
    if _burler_pg_url=$(_burler_pg_main "$@"); then
        if [[ -n $_burler_pg_url ]]; then
            export BURLER_TEST_POSTGRES_URL=$_burler_pg_url
            _burler_pg_log "BURLER_TEST_POSTGRES_URL=$BURLER_TEST_POSTGRES_URL"
        fi
        unset _burler_pg_url
    else
        unset _burler_pg_url
        return 1
    fi
else
    url=$(_burler_pg_main "$@") || exit 1
    [[ -z $url ]] || echo "export BURLER_TEST_POSTGRES_URL=$url"
fi
