"""Evaluation, ledgers, figures and dashboard at 10k and 100k problems: the figures grouped in the
database (what the pages use) against the per-case path they replaced (one row per case
aggregated in Python, kept callable for this bench and the tests), in-process, on the database
that DATABASE_URL names (run it once on PostGIS and once on SpatiaLite).

The town of ``bench_data`` (100 grids with leaders) gets ``n`` problems with a history over three
months around now: statuses in the loop's proportions, filing, closing and deadlines, departments
and handlers, reworks, extensions, a few recurrences (bulk-created: the figures read only the
stored fields). Each page is timed through the test client (admin), best of ``--repeat``, the old
and new paths interleaved; the figures of both paths are checked equal first.

    DATABASE_URL=postgis://postgres@127.0.0.1:5432/gridmap .venv/bin/python bench/evaluation.py
    DATABASE_URL=spatialite:///data/bench.sqlite3 .venv/bin/python bench/evaluation.py --n 10000
"""

from __future__ import annotations

import argparse
import random
import sys
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_data import analyze, build_town, create_database, drop_database, setup_django  # noqa: E402
from bench.timing import interleaved  # noqa: E402


def add_history(town: dict, n: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from gridmap.accounts.models import Department, Role
    from gridmap.geography.models import Grid
    from gridmap.problems.models import EventCategory, Problem
    from tests.factories import user

    rng = random.Random(seed)
    grids = list(Grid.objects.select_related("community"))
    if not Department.objects.exists():
        for d in range(10):
            dept = Department.objects.create(code=f"d{d}", name=f"部门{d}")
            for h in range(3):
                user(f"bench-h{d}-{h}", Role.DEPARTMENT, department=dept)
        for g in grids:
            g.first_responsible = user(f"bench-leader-{g.code}", Role.GRID_LEADER)
        Grid.objects.bulk_update(grids, ["first_responsible"])
    people = get_user_model().objects.filter(username__startswith="bench-h").select_related("profile")
    handlers = [(u.profile.department, u) for u in people]
    category = EventCategory.objects.get(code="0101")
    now = timezone.now()
    statuses = ["closed"] * 6 + ["dispatched"] * 2 + ["reported", "filed", "handled", "rejected", "duplicate"]
    earlier = list(Problem.objects.order_by("pk").values_list("pk", flat=True)[:200])
    batch = []
    for _ in range(n):
        g = rng.choice(grids)
        status = rng.choice(statuses)
        reported = now - timedelta(minutes=rng.randrange(60 * 24 * 90))
        filed = None if status == "reported" else reported + timedelta(minutes=rng.randrange(5, 600))
        closed = filed + timedelta(minutes=rng.randrange(60, 60 * 24 * 15)) if status == "closed" else None
        if closed and closed > now:
            closed = now
        department, handler = (
            rng.choice(handlers) if status in ("dispatched", "handled", "closed") else (None, None)
        )
        batch.append(
            Problem(
                geom=g.geom.centroid, category=category, grid=g, community=g.community, status=status,
                reported_at=reported, filed_at=filed, closed_at=closed,
                closed_on_time=None if closed is None else rng.random() < 0.8,
                deadline=filed + timedelta(days=rng.randrange(1, 10)) if filed else None,
                department=department, handled_by=handler if status in ("handled", "closed") else None,
                rework_count=rng.choice((0, 0, 0, 1, 2)), extension_count=rng.choice((0, 0, 0, 0, 1)),
                recurrence_of_id=rng.choice(earlier) if earlier and rng.random() < 0.01 else None,
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Problem.objects.bulk_create(batch)
            batch = []
    Problem.objects.bulk_create(batch)
    analyze()


def old_weekly_counts(scoped, mondays):
    """The per-case weekly counts this change replaced."""
    from django.db.models import Q

    from gridmap.core.dates import local_midnight
    from gridmap.evaluation.weekly import bucket

    if not mondays:
        return []
    start, end = local_midnight(mondays[0]), local_midnight(mondays[-1] + timedelta(days=7))
    wanted = Q(filed_at__gte=start, filed_at__lt=end) | Q(closed_at__gte=start, closed_at__lt=end)
    rows = scoped.filter(wanted).order_by().values_list("pk", "filed_at", "closed_at", "status")
    return bucket(((f, c, s) for _, f, c, s in rows), mondays)


def old_unit_figures(scoped, *, level, period, now):
    """The per-case dashboard figures this change replaced."""
    from gridmap.evaluation.metrics import rank_units, unit_stats
    from gridmap.evaluation.selectors import metric_rows, score_weights

    units = unit_stats(metric_rows(scoped, period), level=level, period=period, now=now)
    return {u.key: u for u in rank_units(units, score_weights())}


@contextmanager
def old_paths():
    from gridmap.evaluation.selectors import evaluation_by_rows

    with ExitStack() as stack:
        stack.enter_context(mock.patch("gridmap.evaluation.views.evaluation_for", evaluation_by_rows))
        stack.enter_context(mock.patch("gridmap.evaluation.views.weekly_counts", old_weekly_counts))
        stack.enter_context(mock.patch("gridmap.dashboard.selectors.unit_figures", old_unit_figures))
        yield


def check_equal(admin) -> None:
    from django.utils import timezone

    from gridmap.dashboard.selectors import month_period
    from gridmap.evaluation.selectors import evaluation_by_rows, evaluation_for

    now = timezone.now()
    period = month_period(now)
    new, old = evaluation_for(admin, period, now), evaluation_by_rows(admin, period, now)
    for level in new:
        a = [(u.key, u.rank, u.filed, u.closed, u.open_now, u.overdue_now, u.recurrences) for u in new[level]]
        b = [(u.key, u.rank, u.filed, u.closed, u.open_now, u.overdue_now, u.recurrences) for u in old[level]]
        assert a == b, level
        for x, y in zip(new[level], old[level], strict=True):
            assert x.median_hours == y.median_hours
            assert (x.mean_hours is None) == (y.mean_hours is None)
            assert x.mean_hours is None or abs(x.mean_hours - y.mean_hours) <= 1e-9 * abs(y.mean_hours)


def measure(client, admin, repeat: int) -> list[tuple[str, float, float]]:
    from django.utils import timezone

    from gridmap.dashboard.selectors import month_period

    period = month_period(timezone.now())
    dates = {
        "start": timezone.localtime(period.start).date().isoformat(),
        "end": timezone.localtime(period.end).date().isoformat(),
    }
    pages = [
        ("/evaluation/", dates),
        ("/evaluation/ledger.xlsx", dates),
        ("/evaluation/figures/", {}),
        ("/dashboard/", {}),
    ]
    rows = []
    for url, query in pages:

        def new(url=url, query=query):
            response = client.get(url, query)
            assert response.status_code == 200, (url, response.status_code)

        def old(url=url, query=query):
            with old_paths():
                new(url, query)

        (t_old, _), (t_new, _) = interleaved([old, new], repeat)
        rows.append((url, t_old, t_new))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    name = create_database()
    try:
        town = build_town()
        client = Client()
        client.force_login(town["admin"])
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"evaluation pages, admin, {connection.vendor} ({engine}); best of {args.repeat}, seconds")
        print(f"{'problems':>9}  {'page':<26} {'per case':>9} {'grouped':>8} {'speed-up':>9}")
        have = 0
        for n in sorted(args.n):
            add_history(town, n - have, seed=n)
            have = n
            check_equal(town["admin"])
            for url, t_old, t_new in measure(client, town["admin"], args.repeat):
                print(f"{n:>9}  {url:<26} {t_old:>9.3f} {t_new:>8.3f} {t_old / t_new:>8.1f}x", flush=True)
    finally:
        connection.close()
        drop_database(name)


if __name__ == "__main__":
    main()
