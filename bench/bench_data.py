"""A synthetic town for the benchmarks: one community of 10 × 10 grids (0.002° each, ~190 × 220 m)
and problems clustered around a few hot spots, made through the real services."""

from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LON0, LAT0, STEP, SIDE = 120.87, 31.62, 0.002, 10
CATEGORIES = ("0101", "0201", "0202", "0301", "0302", "0401")  # none of them links a facility


def town_box() -> tuple[float, float, float, float]:
    return (LON0, LAT0, LON0 + STEP * SIDE, LAT0 + STEP * SIDE)


def setup_django() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")
    import django

    django.setup()


def create_database() -> str:
    """Create (and migrate) the bench database; returns its name."""
    from django.db import connection

    return connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)


def drop_database(name: str) -> None:
    from django.db import connection

    connection.creation.destroy_test_db(name, verbosity=0)


def build_town() -> dict:
    from rest_framework.authtoken.models import Token

    from gridmap.accounts.models import Role
    from tests.factories import grid, region_tree, user

    (community,) = region_tree((LON0, LAT0, LON0 + STEP * SIDE, LAT0 + STEP * SIDE))
    for row in range(SIDE):
        for col in range(SIDE):
            x, y = LON0 + col * STEP, LAT0 + (SIDE - 1 - row) * STEP
            grid(community, row * SIDE + col + 1, (x, y, x + STEP, y + STEP))
    admin = user("bench-admin", Role.ADMIN)
    reporter = user("bench-reporter", Role.REPORTER)
    return {
        "community": community,
        "admin": admin,
        "reporter": reporter,
        "admin_token": Token.objects.create(user=admin).key,
        "reporter_token": Token.objects.create(user=reporter).key,
    }


def add_problems(town: dict, n: int, *, seed: int = 7) -> list[int]:
    """``n`` problems around 5 hot spots; every fourth one filed and dispatched (department,
    deadline), every tenth rejected."""
    from gridmap.problems.intake import problem_create
    from gridmap.problems.lifecycle import problem_transition
    from gridmap.problems.models import EventCategory

    rng = random.Random(seed)
    x0, y0, x1, y1 = town_box()
    spots = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(5)]
    categories = list(EventCategory.objects.filter(code__in=CATEGORIES))
    ids = []
    for i in range(n):
        sx, sy = spots[i % len(spots)]
        lon = min(max(rng.gauss(sx, 0.002), x0), x1)
        lat = min(max(rng.gauss(sy, 0.002), y0), y1)
        problem, _ = problem_create(lon=lon, lat=lat, category=categories[i % len(categories)],
                                    description=f"问题 {i} <b>描述</b>", reporter=town["reporter"])  # fmt: skip
        if i % 4 == 0:
            for action in ("file", "dispatch"):
                problem_transition(problem_id=problem.pk, action=action, actor=town["admin"])
        elif i % 10 == 1:
            problem_transition(problem_id=problem.pk, action="reject", actor=town["admin"], note="不属实")
        ids.append(problem.pk)
    analyze()
    return ids


def analyze() -> None:
    """Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keep them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
