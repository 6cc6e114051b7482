# shellcheck shell=bash
# Sourced by .ci/run and scripts/bench.sh: makes sure the services the tests and the benchmark
# talk to are installed and running, idempotently (as root, from Debian's packages):
#   ensure_postgres   PostgreSQL on 127.0.0.1:5432, trust auth for local and loopback;
#   ensure_postgres_db NAME   that database exists;
#   ensure_redis      Redis on 127.0.0.1:6379, nothing kept on disk.
# The caller defines `log MESSAGE` (how a line of its own output looks).
apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
    command -v psql >/dev/null || apt_install postgresql-client
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
    log "PostgreSQL is not answering: installing/starting it"
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    local ver
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
    if [ -z "$ver" ]; then
        ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
        pg_createcluster "$ver" main >/dev/null
    fi
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
        sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        sed -i '1i local all all trust' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || pg_ctlcluster --skip-systemctl-redirect "$ver" main restart
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
    pg_isready -h 127.0.0.1 -p 5432
}

ensure_postgres_db() {
    psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1 \
        || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$1\""
}

ensure_redis() {
    command -v redis-cli >/dev/null || apt_install redis-tools
    if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return; fi
    log "Redis is not answering: installing/starting it"
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
    redis-cli -h 127.0.0.1 ping | grep -q PONG
}
