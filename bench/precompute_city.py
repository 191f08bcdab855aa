"""Load the scale city (bench/scale.py) into the configured PostGIS database for bench/precompute.py.

Fast SQL inserts (``INSERT ... SELECT FROM unnest(arrays)``, geometries as WKB), not the import
engine: 1 district, 25 towns, 100 communities, 1,100 grids, 100,000 buildings (grid and community
by the footprint's point on surface), 96,360 streets, 10,000 facilities, 1,000,000 problems
(open or closed, reported over the last 400 days, grid by point); then ANALYZE. The change-stamp
triggers fire as for any write. PostGIS only; run with ``GRIDMAP_DB_STATEMENT_TIMEOUT=0`` (the
service's 20 s limit stops the 1M-row statements); a load cut short goes on where it stopped.
"""

from __future__ import annotations

import time

import numpy as np
import shapely


def _sql(cursor, sql: str, *params) -> None:
    cursor.execute(sql, params)


def load() -> None:
    from django.db import connection, transaction

    from bench.scale import load_scale
    from gridmap.accounts.models import Role
    from gridmap.core.geoinput import geos_from_shapely
    from gridmap.geography.models import Community, District, Grid, Subdistrict
    from tests.factories import user

    if connection.vendor != "postgresql":
        raise SystemExit("the city loads into PostGIS only")
    started = time.perf_counter()
    city = load_scale()
    if Grid.objects.exists():  # a load cut short: go on with the problems
        print("  grids, buildings, streets and facilities are there already")
        _problems(city, started)
        return
    user("bench-city-admin", Role.ADMIN)
    grids = city.grids
    with transaction.atomic():
        district = District.objects.create(code="320505", name="城区")
        towns = {}
        for code in sorted({c[:9] for c in grids["community_code"]}):
            towns[code] = Subdistrict.objects.create(code=code, name=f"街道{code[-3:]}", district=district)
        communities = {}
        for code in sorted(set(grids["community_code"])):
            communities[code] = Community.objects.create(
                code=code, name=f"社区{code[-6:]}", subdistrict=towns[code[:9]]
            )
        multi = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in grids.geometry]
        Grid.objects.bulk_create(
            [
                Grid(code=c, name=f"网格{c[-6:]}", community=communities[cc], geom=geos_from_shapely(m))
                for c, cc, m in zip(grids["code"], grids["community_code"], multi, strict=True)
            ],
            batch_size=500,
        )
    print(f"  regions and grids: {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor, transaction.atomic():
        b = city.buildings
        wkb = [shapely.to_wkb(shapely.MultiPolygon([g]), hex=True) for g in b.geometry]
        _sql(
            cursor,
            """INSERT INTO geography_building (source_key, geom, address, use, households, population)
               SELECT k, ST_GeomFromWKB(decode(w, 'hex'), 4326), '', u, h, p
               FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::int[]) AS t(k, w, u, h, p)""",
            list(b["id"]), wkb, list(b["use"]), [int(v) for v in b["households"]],
            [int(v) for v in b["population"]],
        )  # fmt: skip
        _sql(
            cursor,
            """UPDATE geography_building b SET grid_id = g.id, community_id = g.community_id
               FROM geography_grid g WHERE ST_Intersects(g.geom, ST_PointOnSurface(b.geom))""",
        )
        print(f"  buildings: {time.perf_counter() - started:.1f} s")
        s = city.streets
        _sql(
            cursor,
            """INSERT INTO geography_street (source_key, geom, name, highway, length_m)
               SELECT 's' || n, ST_GeomFromWKB(decode(w, 'hex'), 4326), '', h, l
               FROM unnest(%s::text[], %s::text[], %s::float8[]) WITH ORDINALITY AS t(w, h, l, n)""",
            [shapely.to_wkb(g, hex=True) for g in s.geometry], list(s["highway"]), [float(v) for v in s["length_m"]],
        )  # fmt: skip
        f = city.facilities
        _sql(
            cursor,
            """INSERT INTO facilities_facility (source_key, geom, name, condition, attrs, kind_id)
               SELECT t.k, ST_GeomFromWKB(decode(t.w, 'hex'), 4326), '', 'good', '{}'::jsonb, fk.id
               FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(k, w, kind)
               JOIN facilities_facilitykind fk ON fk.code = t.kind""",
            list(f["id"]), [shapely.to_wkb(g, hex=True) for g in f.geometry], list(f["kind"]),
        )  # fmt: skip
        print(f"  streets and facilities: {time.perf_counter() - started:.1f} s")
    _problems(city, started)


def _problems(city, started: float) -> None:
    from django.db import connection, transaction

    from gridmap.problems.models import Problem

    lonlat = city.problem_lonlat
    rng = np.random.default_rng(1)
    with connection.cursor() as cursor:
        for start in range(Problem.objects.count(), len(lonlat), 200_000):
            part = lonlat[start : start + 200_000]
            with transaction.atomic():
                _sql(
                    cursor,
                    """INSERT INTO problems_problem (uuid, geom, description, reported_at, status, category_id,
                           extension_count, recurrence_count, reopen_count, rework_count, version)
                       SELECT gen_random_uuid(), ST_SetSRID(ST_MakePoint(x, y), 4326), '',
                              now() - make_interval(days => d), s,
                              (SELECT min(id) FROM problems_eventcategory), 0, 0, 0, 0, 1
                       FROM unnest(%s::float8[], %s::float8[], %s::int[], %s::text[]) AS t(x, y, d, s)""",
                    part[:, 0].tolist(), part[:, 1].tolist(), rng.integers(0, 400, len(part)).tolist(),
                    rng.choice(["reported", "closed", "dispatched"], len(part)).tolist(),
                )  # fmt: skip
            print(f"  problems {start + len(part):,}: {time.perf_counter() - started:.1f} s")
        with transaction.atomic():
            _sql(
                cursor,
                """UPDATE problems_problem p SET grid_id = g.id, community_id = g.community_id
                   FROM geography_grid g WHERE ST_Intersects(g.geom, p.geom) AND p.grid_id IS NULL""",
            )
        cursor.execute("ANALYZE")
    print(f"city loaded in {time.perf_counter() - started:.1f} s")
