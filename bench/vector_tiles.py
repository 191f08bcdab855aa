"""Vector tiles at city scale: tile size and time at z12–z16, and the community map's HTML size.

    createdb -h 127.0.0.1 -U postgres gridmap_tiles
    SECRET_KEY=x DATABASE_URL=postgis://postgres@127.0.0.1:5432/gridmap_tiles .venv/bin/python manage.py migrate
    SECRET_KEY=x DATABASE_URL=postgis://postgres@127.0.0.1:5432/gridmap_tiles .venv/bin/python bench/vector_tiles.py load
    SECRET_KEY=x DATABASE_URL=... .venv/bin/python bench/vector_tiles.py measure

``load`` fills the (migrated, empty) database with the ``bench/scale.py`` city by plain SQL
(``INSERT … SELECT FROM unnest`` of WKB arrays, grids assigned by a spatial join in the database):
1,100 grids in their communities, 100k buildings, 96k streets, 10k facilities and 1M problems
(20 % open, a third of those past their deadline; the rest closed, rejected or duplicate). It is
not the import path (that is the city bench's job): only the rows the maps and tiles read.

``measure`` times every tile of a z12–z16 sample over the city centre per layer (the view's own
SQL, :func:`gridmap.maps.mvt.tile_bytes`, as an administrator) and prints the typical (median)
and largest size and time, beside the anchor of PERFORMANCE.md (a z14 tile of 1.9k buildings
~8.5 ms); then builds the largest community's map with and without vector tiles and prints both
HTML sizes. It also times the view itself (a z14 tile, then its 304).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CENTRE = (120.62, 31.30)
OPEN_SHARE = 0.2


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    import django

    django.setup()


def _insert(cursor, sql: str, columns: list, batch: int = 50_000) -> None:
    n = len(columns[0])
    for start in range(0, n, batch):
        cursor.execute(sql, [list(c[start : start + batch]) for c in columns])


def _multi(frame):
    import numpy as np
    import shapely

    geoms = np.asarray(frame.geometry.values)
    return shapely.multipolygons(geoms, indices=np.arange(len(geoms)))


def load() -> None:  # noqa: PLR0915 - one straight script
    import numpy as np
    import shapely
    from django.db import connection, transaction

    from bench.scale import load_scale

    city = load_scale()
    rng = np.random.default_rng(13)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL statement_timeout = 0")
        c.execute("INSERT INTO geography_district (code, name) VALUES ('320505', 'bench') RETURNING id")
        district = c.fetchone()[0]
        grids = city.grids
        communities = sorted(set(grids["community_code"]))
        streets = sorted({code[:9] for code in communities})
        _insert(c, "INSERT INTO geography_subdistrict (code, name, district_id) "
                   f"SELECT s, s, {int(district)} FROM unnest(%s::text[]) s", [streets])  # fmt: skip
        _insert(c, "INSERT INTO geography_community (code, name, subdistrict_id) SELECT c, c, s.id "
                   "FROM unnest(%s::text[]) c JOIN geography_subdistrict s ON s.code = left(c, 9)",
                [communities])  # fmt: skip
        wkb = shapely.to_wkb(_multi(grids), hex=True)
        _insert(c, "INSERT INTO geography_grid (code, name, community_id, geom) "
                   "SELECT g, g, c.id, ST_SetSRID(ST_GeomFromWKB(decode(w, 'hex')), 4326) "
                   "FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(g, cc, w) "
                   "JOIN geography_community c ON c.code = t.cc",
                [list(grids["code"]), list(grids["community_code"]), list(wkb)])  # fmt: skip
        c.execute(
            "UPDATE geography_community c SET geom = ST_Multi(u.g) FROM (SELECT community_id, "
            "ST_Union(geom) g FROM geography_grid GROUP BY community_id) u WHERE u.community_id = c.id"
        )
        b = city.buildings
        wkb = shapely.to_wkb(_multi(b), hex=True)
        uses = b["use"].astype(str) if "use" in b else ["residential"] * len(b)
        _insert(c, "INSERT INTO geography_building (geom, address, use, floors, households, population) "
                   "SELECT ST_SetSRID(ST_GeomFromWKB(decode(w, 'hex')), 4326), '', u, f, h, p "
                   "FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[], %s::int[]) AS t(w, u, f, h, p)",
                [list(wkb), list(uses), [int(v) for v in b.get("floors", [3] * len(b))],
                 [int(v) for v in b["households"]], [int(v) for v in b["population"]]])  # fmt: skip
        c.execute(
            "UPDATE geography_building b SET grid_id = g.id, community_id = g.community_id "
            "FROM geography_grid g WHERE ST_Intersects(g.geom, ST_PointOnSurface(b.geom))"
        )
        s = city.streets
        wkb = shapely.to_wkb(np.asarray(s.geometry.values), hex=True)
        _insert(c, "INSERT INTO geography_street (geom, name, highway) "
                   "SELECT ST_SetSRID(ST_GeomFromWKB(decode(w, 'hex')), 4326), '', h "
                   "FROM unnest(%s::text[], %s::text[]) AS t(w, h)",
                [list(wkb), list(s["highway"].astype(str))])  # fmt: skip
        f = city.facilities
        wkb = shapely.to_wkb(np.asarray(f.geometry.values), hex=True)
        _insert(c, "INSERT INTO facilities_facility (kind_id, geom, name, condition, attrs) "
                   "SELECT k.id, ST_SetSRID(ST_GeomFromWKB(decode(w, 'hex')), 4326), '', 'good', '{}' "
                   "FROM unnest(%s::text[], %s::text[]) AS t(w, kc) JOIN facilities_facilitykind k ON k.code = kc",
                [list(wkb), list(f["kind"].astype(str))])  # fmt: skip
        c.execute(
            "UPDATE facilities_facility x SET grid_id = g.id FROM geography_grid g "
            "WHERE ST_Intersects(g.geom, x.geom)"
        )
        lonlat = city.problem_lonlat
        n = len(lonlat)
        c.execute("SELECT code, id, community_id FROM geography_grid")
        ids = {code: (pk, community) for code, pk, community in c.fetchall()}
        codes = grids["code"].to_numpy()
        points = shapely.points(lonlat)
        at, cell = shapely.STRtree(np.asarray(grids.geometry.values)).query(points, predicate="intersects")
        first = np.full(n, -1)
        first[at[::-1]] = cell[::-1]  # the first grid found for each point
        grid_id = [ids[codes[i]][0] if i >= 0 else None for i in first]
        community_id = [ids[codes[i]][1] if i >= 0 else None for i in first]
        c.execute("SELECT id FROM problems_eventcategory ORDER BY code")
        categories = [r[0] for r in c.fetchall()]
        is_open = rng.random(n) < OPEN_SHARE
        status = np.where(is_open, rng.choice(["reported", "filed", "dispatched", "handled"], n),
                          rng.choice(["closed", "closed", "closed", "rejected", "duplicate"], n))  # fmt: skip
        age_s = rng.integers(3600, 365 * 86400, n)
        due_s = rng.integers(2 * 86400, 10 * 86400, n)
        _insert(c, "INSERT INTO problems_problem (uuid, geom, category_id, description, reported_at, status, "
                   "version, deadline, rework_count, extension_count, reopen_count, recurrence_count, "
                   "grid_id, community_id) "
                   "SELECT gen_random_uuid(), ST_SetSRID(ST_MakePoint(x, y), 4326), cat, 'bench problem', "
                   "now() - make_interval(secs => a), st, 0, now() - make_interval(secs => a - d), 0, 0, 0, 0, "
                   "g, cm FROM unnest(%s::float8[], %s::float8[], %s::int[], %s::text[], %s::int[], %s::int[], "
                   "%s::int[], %s::int[]) AS t(x, y, cat, st, a, d, g, cm)",
                [lonlat[:, 0].tolist(), lonlat[:, 1].tolist(), rng.choice(categories, n).tolist(),
                 status.tolist(), age_s.tolist(), due_s.tolist(), grid_id, community_id],
                batch=100_000)  # fmt: skip
    with connection.cursor() as c:
        c.execute("ANALYZE")
    print(f"loaded the city in {time.perf_counter() - t0:.0f} s")


def _admin():
    from django.contrib.auth import get_user_model

    from gridmap.accounts.models import Profile, Role

    user, made = get_user_model().objects.get_or_create(username="bench-tiles-admin")
    if made:
        Profile.objects.create(user=user, role=Role.ADMIN)
    return user


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def measure_tiles(user, layers=("buildings", "problems", "facilities", "streets", "grids")) -> None:
    from django.utils import timezone

    from gridmap.maps.mvt import LAYERS, Filters, tile_bytes

    print("layer       z  tiles  median KB  max KB  median ms  max ms  (as an administrator, the view's SQL)")
    for name in layers:
        layer = LAYERS[name]
        for z in range(12, 17):
            cx, cy = _tile_xy(*CENTRE, z)
            r = 1 if z <= 13 else 2
            sizes, times = [], []
            for x in range(cx - r, cx + r + 1):
                for y in range(cy - r, cy + r + 1):
                    t0 = time.perf_counter()
                    data = tile_bytes(layer, user, Filters(), z, x, y, timezone.now())
                    times.append(1000 * (time.perf_counter() - t0))
                    sizes.append(len(data) / 1024)
            print(f"{name:10s} {z:2d} {len(sizes):6d} {statistics.median(sizes):10.1f} {max(sizes):7.1f}"
                  f" {statistics.median(times):10.1f} {max(times):7.1f}")  # fmt: skip


def anchor_z14(user) -> None:
    """The anchor: a bare ST_AsMVT of every building in a z14 tile at the centre (no scope)."""
    from django.db import connection

    x, y = _tile_xy(*CENTRE, 14)
    sql = (
        "SELECT ST_AsMVT(t, 'b', 4096, 'g') FROM (SELECT id, households, ST_AsMVTGeom(ST_Transform(geom, 3857),"
        " ST_TileEnvelope(14, %s, %s), 4096, 64, true) g FROM geography_building WHERE geom && "
        "ST_Transform(ST_TileEnvelope(14, %s, %s), 4326)) t"
    )
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM geography_building WHERE geom && ST_Transform(ST_TileEnvelope(14, %s, %s), 4326)",
                  [x, y])  # fmt: skip
        n = c.fetchone()[0]
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            c.execute(sql, [x, y, x, y])
            size = len(bytes(c.fetchone()[0]))
            times.append(1000 * (time.perf_counter() - t0))
    print(f"anchor: bare ST_AsMVT z14 tile at the centre, {n} buildings: {statistics.median(times):.1f} ms, "
          f"{size / 1024:.1f} KB (PERFORMANCE.md: ~8.5 ms for 1.9k buildings)")  # fmt: skip


def measure_map(user) -> None:
    from django.db.models import Count
    from django.templatetags.static import static

    from gridmap.geography.models import Community
    from gridmap.geography.selectors import grids_visible_to
    from gridmap.maps import builders
    from layers.maps import MapAssets

    top = Community.objects.annotate(n=Count("grids__problems")).order_by("-n").first()
    grids = list(grids_visible_to(user).filter(community=top).order_by("code"))
    assets = MapAssets(base_url=static("vendor/"))
    sizes = {}
    for label, threshold in (("before (every feature inlined)", 10**12), ("after (vector tiles)", None)):
        keep = builders.VECTOR_MIN_FEATURES
        if threshold is not None:
            builders.VECTOR_MIN_FEATURES = threshold
        try:
            t0 = time.perf_counter()
            html = builders.area_map(grids, assets=assets, tiles=None).get_root().render()
            ms = 1000 * (time.perf_counter() - t0)
        finally:
            builders.VECTOR_MIN_FEATURES = keep
        sizes[label] = len(html.encode())
        print(f"community {top.code} ({len(grids)} grids, {top.n} problems) {label}: "
              f"{sizes[label] / 1e6:.2f} MB, built in {ms:.0f} ms")  # fmt: skip


def measure_view(user) -> None:
    """The view through Django's test client: a z14 tile answered in full, then its 304."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    x, y = _tile_xy(*CENTRE, 14)
    for layer in ("buildings", "problems"):
        path = f"/tiles/vt/{layer}/14/{x}/{y}.pbf" + ("?status=all" if layer == "problems" else "")
        full, again = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            response = client.get(path)
            full.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
            again.append(1000 * (time.perf_counter() - t0))
        print(f"view {path}: {response.status_code} {len(response.content) / 1024:.1f} KB in "
              f"{statistics.median(full):.1f} ms; 304 in {statistics.median(again):.1f} ms (medians of 5)")  # fmt: skip


def measure() -> None:
    from django.test.utils import override_settings
    from django.utils import translation

    user = _admin()
    translation.activate("zh-hans")
    with override_settings(ALLOWED_HOSTS=["*"]):
        anchor_z14(user)
        measure_view(user)
        measure_tiles(user)
        measure_map(user)


if __name__ == "__main__":
    setup()
    {"load": load, "measure": measure}[sys.argv[1] if len(sys.argv) > 1 else "measure"]()
