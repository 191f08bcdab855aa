# Setup functions for ./run (sourced, not executed). Idempotent: every step checks first.
# shellcheck shell=bash

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VENV=$ROOT/.venv
DATA=$ROOT/data
PG_OWN_PORT=${GRIDMAP_PG_PORT:-5439}

say() { printf '\033[1m[gridmap]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[gridmap] %s\033[0m\n' "$*" >&2; exit 1; }

# Debian packages: runtime (GDAL, GEOS, PROJ, SpatiaLite, a Python with venv) and, for tests,
# a browser with CJK fonts and PgBouncer (started by tests/core/test_pgbouncer.py on its own port;
# Debian's service is not used). PostgreSQL is handled by ensure_postgis.
# libgdal-dev, g++ and python3-dev build pyogrio against Debian's GDAL (see requirements.txt).
RUNTIME_PKGS=(gdal-bin libgdal-dev libsqlite3-mod-spatialite python3 python3-venv python3-dev g++ ca-certificates)
TEST_PKGS=(chromium fonts-wqy-microhei pgbouncer libreoffice-calc-nogui)

missing_pkgs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

APT_UPDATED=
apt_install() {
  [ $# -gt 0 ] || return 0
  command -v apt-get >/dev/null || die "apt-get not found: this setup needs Debian or Ubuntu (missing: $*)"
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages; run as root, or first: sudo apt-get install -y $*"
  fi
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed; check the package sources"
    APT_UPDATED=1
  fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install failed for: $*"
}

ensure_packages() {
  local want=("${RUNTIME_PKGS[@]}")
  [ "${1:-}" = test ] && want+=("${TEST_PKGS[@]}")
  # shellcheck disable=SC2207
  local miss=($(missing_pkgs "${want[@]}"))
  apt_install "${miss[@]}"
}

# Redis for background work (the tests run a real Celery worker against it): the one answering on
# 127.0.0.1:$REDIS_PORT, else Debian's redis-server started there (keeps nothing on disk).
# Prints its URL.
REDIS_PORT=${GRIDMAP_REDIS_PORT:-6379}
redis_answers() {
  local reply=
  { exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3 && read -r -t 3 reply <&3
  exec 3<&-
  [[ "$reply" == "+PONG"* ]]
}
ensure_redis() {
  if ! redis_answers; then
    apt_install $(missing_pkgs redis-server)
    say "starting redis-server on 127.0.0.1:$REDIS_PORT"
    mkdir -p "$DATA/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir "$DATA/redis" --logfile "$DATA/redis/redis.log" >/dev/null || die "redis-server did not start"
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do redis_answers && break; sleep 0.5; done
    redis_answers || die "redis-server on 127.0.0.1:$REDIS_PORT does not answer"
  fi
  echo "redis://127.0.0.1:$REDIS_PORT"
}

# A Python 3.11-3.13 whose sqlite3 can load extensions (SpatiaLite) and that has venv.
python_ok() {
  "$1" - <<'EOF' 2>/dev/null
import sqlite3, sys, venv, ensurepip
assert (3, 11) <= sys.version_info[:2] <= (3, 13)
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension("mod_spatialite")
EOF
}

find_python() {
  local c
  for c in ${GRIDMAP_PYTHON:-} /usr/bin/python3 /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11 \
           python3.13 python3.12 python3.11 python3; do
    c=$(command -v "$c" 2>/dev/null) || continue
    if python_ok "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

ensure_venv() {
  local req=$1 py stamp want
  if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
    :
  else
    py=$(find_python) || die "no Python 3.11-3.13 whose sqlite3 can load extensions (SpatiaLite needs it; \
builds such as pyenv's cannot): install Debian's with 'apt-get install python3 python3-venv' or set GRIDMAP_PYTHON"
    say "creating the virtual environment from $py"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" || die "could not create $VENV with $py"
  fi
  want=$(cat "$ROOT/requirements.txt" "$ROOT/$req" | sha256sum | cut -c1-16)
  stamp=$VENV/.installed-$(basename "$req" .txt)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages from $req"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/$req" \
      || die "pip install -r $req failed (is PyPI reachable?)"
    echo "$want" > "$stamp"
  fi
  # pyogrio must use the system GDAL (one GDAL and one SQLite per process); rebuild if a wheel
  # with its own GDAL got in.
  local have sys_gdal
  have=$("$VENV/bin/python" -c "import pyogrio; print(pyogrio.__gdal_version_string__)")
  sys_gdal=$(gdal-config --version)
  if [ "$have" != "$sys_gdal" ]; then
    say "rebuilding pyogrio against the system GDAL $sys_gdal (it had GDAL $have)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps \
      --no-binary pyogrio "$(grep -E '^pyogrio==' "$ROOT/requirements.txt")" || die "building pyogrio failed"
  fi
}

pg_answers() { pg_isready -q -h 127.0.0.1 -p "$1" 2>/dev/null; }

psql_as_postgres() {  # port, sql
  psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAc "$2"
}

postgis_pkg_available() {  # major
  [ -n "$(apt-cache policy "postgresql-$1-postgis-3" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -v none)" ]
}

ensure_apt_lists() {
  if [ -z "$APT_UPDATED" ] && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && APT_UPDATED=1
  fi
}

# Our own cluster of the distribution's PostgreSQL, with PostGIS, trusting loopback only.
# UTF-8 whatever the locale (without LANG, initdb would make an SQL_ASCII cluster). Prints its port.
own_cluster() {
  local major port
  apt_install $(missing_pkgs postgresql postgresql-common)
  major=$(ls /usr/lib/postgresql | sort -n | tail -1)
  apt_install $(missing_pkgs "postgresql-$major-postgis-3")
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$major gridmap"; then
    say "creating PostgreSQL $major cluster 'gridmap' on port $PG_OWN_PORT"
    pg_createcluster "$major" gridmap -p "$PG_OWN_PORT" --locale=C.UTF-8 \
      -- --auth-local=trust --auth-host=trust >/dev/null || die "pg_createcluster failed"
  fi
  port=$(pg_lsclusters -h | awk -v m="$major" '$1 == m && $2 == "gridmap" {print $3}')
  pg_answers "$port" || pg_ctlcluster --skip-systemctl-redirect "$major" gridmap start \
    || die "could not start the PostgreSQL cluster 'gridmap' ($major)"
  echo "$port"
}

has_own_cluster() { pg_lsclusters -h 2>/dev/null | awk '$2 == "gridmap"' | grep -q .; }

# Prints a DATABASE_URL for a PostGIS server that the tests can use.
ensure_postgis() {
  if [ -n "${TEST_POSTGIS_URL:-}" ]; then echo "$TEST_POSTGIS_URL"; return; fi
  command -v pg_isready >/dev/null || apt_install postgresql-client
  local port=5432 major c=
  # An earlier run made our own cluster: keep using it (installing PostgreSQL for it also made
  # Debian's cluster 'main' on 5432, which only accepts passwords over TCP).
  if has_own_cluster; then
    echo "postgis://postgres@127.0.0.1:$(own_cluster)/gridmap"
    return
  fi
  if ! pg_answers 5432; then
    # A cluster that is installed but stopped: start it before installing another.
    c=$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 {print $1, $2}' | head -1)
    [ -n "$c" ] && pg_ctlcluster --skip-systemctl-redirect $c start >/dev/null 2>&1
  fi
  if pg_answers 5432 && ! major=$(psql_as_postgres 5432 "show server_version_num" 2>/dev/null | cut -c1-2); then
    say "PostgreSQL on 127.0.0.1:5432 wants a password for user postgres (to use it anyway, set \
TEST_POSTGIS_URL=postgis://user:pass@127.0.0.1:5432/db): using the distribution's own cluster"
    [ -n "$c" ] && pg_ctlcluster --skip-systemctl-redirect $c stop >/dev/null 2>&1  # as it was
    port=$(own_cluster)
  elif pg_answers 5432; then
    if [ -z "$(psql_as_postgres 5432 "select 1 from pg_available_extensions where name='postgis'")" ]; then
      ensure_apt_lists
      if [ -d "/usr/lib/postgresql/$major" ] && postgis_pkg_available "$major"; then
        apt_install "postgresql-$major-postgis-3"
      fi
      # still none: the server is not this machine's Debian PostgreSQL, or no package fits it
      if [ -z "$(psql_as_postgres 5432 "select 1 from pg_available_extensions where name='postgis'")" ]; then
        say "no PostGIS for the PostgreSQL $major on 5432: using the distribution's own cluster"
        port=$(own_cluster)
      fi
    fi
  else
    say "no PostgreSQL answers on 127.0.0.1:5432: installing and starting one"
    port=$(own_cluster)
  fi
  echo "postgis://postgres@127.0.0.1:$port/gridmap"
}
