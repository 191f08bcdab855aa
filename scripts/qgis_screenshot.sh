#!/usr/bin/env bash
# The demo town's OGC API – Features layers in QGIS: docs/screenshots/qgis-ogc.png.
#
#   scripts/qgis_screenshot.sh [out.png]
#
# Needs Debian 12's QGIS and a virtual screen (not part of ./run setup; for the documentation):
#   apt-get install --no-install-recommends qgis python3-qgis qgis-providers xvfb xauth \
#       imagemagick fonts-noto-cjk
# Creates (once) a SpatiaLite database with the demo town (GRIDMAP_QGIS_DB, default
# data/qgis-demo.sqlite3), serves it with Django on 127.0.0.1:$GRIDMAP_QGIS_PORT (8765), gives the
# demo planner an API token, starts the real QGIS window under Xvfb (1600×1000) in a throw-away
# profile with its Chinese interface, and runs scripts/qgis_screenshot.py in it: the collections
# are added as QGIS "OAPIF" layers with the token header, and the screen is saved once the map
# has stopped drawing. Nothing leaves this machine (no basemap). The PNG is reduced to 64 colours
# (under 300 KB).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${1:-docs/screenshots/qgis-ogc.png}
PORT=${GRIDMAP_QGIS_PORT:-8765}
DB=${GRIDMAP_QGIS_DB:-$ROOT/data/qgis-demo.sqlite3}
for tool in qgis xvfb-run import convert curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (see the top of $0)" >&2; exit 1; }
done
export DEBUG=1 DATABASE_URL="spatialite:///$DB"
PY=$ROOT/.venv/bin/python
if [ ! -s "$DB" ]; then
  "$PY" manage.py migrate -v0
  "$PY" manage.py load_demo -v0
fi
TOKEN=$("$PY" manage.py drf_create_token demo_planner | awk '{print $3}')

WORK=$(mktemp -d)
"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 60); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/ogc/" && break
  sleep 1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/ogc/" || { cat "$WORK/server.log" >&2; exit 1; }

GRIDMAP_OGC="http://127.0.0.1:$PORT/ogc/" GRIDMAP_TOKEN=$TOKEN GRIDMAP_SHOT="$WORK/shot.png" \
  XDG_RUNTIME_DIR=$WORK timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
  qgis --nologo --noversioncheck --noplugins --lang zh-Hans --profiles-path "$WORK/profiles" \
       --code "$ROOT/scripts/qgis_screenshot.py" >"$WORK/qgis.log" 2>&1 || true
[ -s "$WORK/shot.png" ] || { tail -40 "$WORK/qgis.log" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
convert "$WORK/shot.png" +dither -colors 64 -define png:compression-level=9 "$OUT"
echo "$OUT: $(du -k "$OUT" | cut -f1) KB"
