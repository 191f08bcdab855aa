"""Evaluation, ledgers, figures and dashboard at 10k and 100k problems, three ways: the per-case
path (one row per case aggregated in Python, kept callable for this bench and the tests), the
figures grouped from the cases in the database (what every scope narrower than the city uses),
and the daily summary (``gridmap.evaluation.summary``: what a city-wide scope reads), in-process,
on the database that DATABASE_URL names (run it once on PostGIS and once on SpatiaLite).

The town of ``bench_data`` (100 grids with leaders) gets ``n`` problems with a history over three
months around now: statuses in the loop's proportions, filing, closing and deadlines, departments
and handlers, reworks, extensions, a few recurrences (bulk-created: the figures read only the
stored fields). The summary is rebuilt (``--full``, timed), and refreshed after 100 cases closed
through the loop (with their events, timed). Each page is timed through the test client (admin),
best of ``--repeat``, the three paths interleaved, the figures of every path checked equal first:
the evaluation page over the last 30 days, the figures page's default weeks, the dashboard's
month. Then the ledger of the whole history (91 days): written in the response (the direct path)
and by the export job, each with its time and peak Python memory (tracemalloc).

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
from bench.timing import interleaved, peak_mib  # noqa: E402


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


def old_unit_figures(scoped, *, level, period, now, summary_until=None):
    """The per-case dashboard figures this change replaced."""
    from gridmap.evaluation.metrics import rank_units, unit_stats
    from gridmap.evaluation.selectors import metric_rows, score_weights

    units = unit_stats(metric_rows(scoped, period), level=level, period=period, now=now)
    return {u.key: u for u in rank_units(units, score_weights())}


@contextmanager
def grouped_paths():
    """The figures grouped from the cases, as before the summary."""
    with mock.patch("gridmap.evaluation.summary.as_of", lambda: None):
        yield


@contextmanager
def old_paths():
    from gridmap.evaluation.selectors import evaluation_by_rows

    with ExitStack() as stack:
        stack.enter_context(grouped_paths())
        stack.enter_context(mock.patch("gridmap.evaluation.views.evaluation_for", evaluation_by_rows))
        stack.enter_context(mock.patch("gridmap.evaluation.views.weekly_counts", old_weekly_counts))
        stack.enter_context(mock.patch("gridmap.dashboard.selectors.unit_figures", old_unit_figures))
        yield


def check_equal(admin) -> None:
    from django.utils import timezone

    from gridmap.dashboard.selectors import month_period
    from gridmap.evaluation.metrics import Period

    now = timezone.now()
    for period in (month_period(now), Period(*_period(recent_dates(30)))):
        check_period(admin, period, now)


def check_period(admin, period, now) -> None:
    from gridmap.evaluation.selectors import evaluation_by_rows, evaluation_for

    with grouped_paths():
        grouped = evaluation_for(admin, period, now)
    summed, old = evaluation_for(admin, period, now), evaluation_by_rows(admin, period, now)
    for new in (grouped, summed):
        for level in new:
            a = [(u.key, u.rank, u.filed, u.filed_closed, u.closed, u.open_now, u.overdue_now, u.recurrences)
                 for u in new[level]]  # fmt: skip
            b = [(u.key, u.rank, u.filed, u.filed_closed, u.closed, u.open_now, u.overdue_now, u.recurrences)
                 for u in old[level]]  # fmt: skip
            assert a == b, level
            for x, y in zip(new[level], old[level], strict=True):
                assert x.median_hours == y.median_hours
                assert (x.mean_hours is None) == (y.mean_hours is None)
                assert x.mean_hours is None or abs(x.mean_hours - y.mean_hours) <= 1e-9 * abs(y.mean_hours)


def recent_dates(days: int) -> dict[str, str]:
    """The ``days`` whole local days up to today, as the evaluation form takes them."""
    from django.utils import timezone

    today = timezone.localdate()
    return {
        "start": (today - timedelta(days=days - 1)).isoformat(),
        "end": (today + timedelta(days=1)).isoformat(),
    }


def measure(client, repeat: int, per_case: bool = True) -> list[tuple[str, float | None, float, float]]:
    dates = recent_dates(30)
    pages = [("/evaluation/", dates), ("/evaluation/figures/", {}), ("/dashboard/", {})]
    rows = []
    for url, query in pages:

        def summed(url=url, query=query):
            response = client.get(url, query)
            assert response.status_code == 200, (url, response.status_code)

        def grouped(url=url, query=query):
            with grouped_paths():
                summed(url, query)

        def old(url=url, query=query):
            with old_paths():
                summed(url, query)

        if per_case:
            (t_old, _), (t_grouped, _), (t_new, _) = interleaved([old, grouped, summed], repeat)
        else:
            t_old, ((t_grouped, _), (t_new, _)) = None, interleaved([grouped, summed], repeat)
        rows.append((url, t_old, t_grouped, t_new))
    return rows


def measure_ledger(client, admin, days: int = 91) -> list[tuple[str, float, float, int]]:
    """(way, best of 2 seconds, peak MiB, cases) of the ledger of the last ``days`` days: in the
    response, and by the job."""

    from django.core.files.storage import default_storage

    from gridmap.evaluation import ledger
    from gridmap.evaluation.metrics import Period
    from gridmap.evaluation.selectors import ledger_problems
    from gridmap.evaluation.tasks import export_ledger

    dates = recent_dates(days)
    cases = ledger_problems(admin, Period(*_period(dates))).count()
    rows = []

    def direct():
        with mock.patch.object(ledger, "DIRECT_LIMIT", 10**9):
            response = client.get("/evaluation/ledger.xlsx", dates)
        assert response.status_code == 200

    def job():
        default_storage.delete(export_ledger(lambda *a, **k: None, user_id=admin.pk, **dates)["file"])

    (t_direct, _), (t_job, _) = interleaved([direct, job], 2)
    rows.append(("ledger.xlsx in the response", t_direct, peak_mib(direct), cases))
    rows.append(("ledger.xlsx by the job", t_job, peak_mib(job), cases))
    return rows


def _period(dates):
    from datetime import date

    from gridmap.core.dates import local_midnight

    return local_midnight(date.fromisoformat(dates["start"])), local_midnight(
        date.fromisoformat(dates["end"])
    )


def refresh_after_changes(n_changed: int = 100) -> tuple[float, float, dict]:
    """(full rebuild s, refresh after ``n_changed`` cases closed now through the loop s, its result)."""
    import time

    from django.utils import timezone

    from gridmap.evaluation import summary
    from gridmap.problems.models import Problem, ProblemEvent

    t0 = time.perf_counter()
    summary.refresh(full=True)
    full = time.perf_counter() - t0
    now = timezone.now()
    ids = list(
        Problem.objects.filter(status="dispatched").order_by("pk").values_list("pk", flat=True)[:n_changed]
    )
    Problem.objects.filter(pk__in=ids).update(status="closed", closed_at=now, closed_on_time=True)
    ProblemEvent.objects.bulk_create([ProblemEvent(problem_id=i, action="verify_pass", at=now) for i in ids])
    t0 = time.perf_counter()
    result = summary.refresh()
    return full, time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--skip-per-case", action="store_true", help="time only the grouped and summary paths"
    )
    parser.add_argument("--ledger-days", type=int, default=91, help="the ledger's period, days up to today")
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
        have = 0
        for n in sorted(args.n):
            add_history(town, n - have, seed=n)
            have = n
            full, incremental, result = refresh_after_changes()
            print(f"{n:>9}  summary: full rebuild {full:.3f} s; refresh after 100 cases closed {incremental:.3f} s"
                  f" ({result['days']} days, {result['rows']} rows)")  # fmt: skip
            if not args.skip_per_case:
                check_equal(town["admin"])
            print(
                f"{'problems':>9}  {'page':<26} {'per case':>9} {'grouped':>8} {'summary':>8} {'vs grouped':>10}"
            )
            for url, t_old, t_grouped, t_new in measure(client, args.repeat, not args.skip_per_case):
                old = "—" if t_old is None else f"{t_old:.3f}"
                print(f"{n:>9}  {url:<26} {old:>9} {t_grouped:>8.3f} {t_new:>8.3f} {t_grouped / t_new:>9.1f}x",
                      flush=True)  # fmt: skip
            for way, seconds, mib, cases in measure_ledger(client, town["admin"], args.ledger_days):
                print(f"{n:>9}  {way:<26} {seconds:>7.3f} s, peak {mib:.1f} MiB, {cases} cases", flush=True)
    finally:
        connection.close()
        drop_database(name)


if __name__ == "__main__":
    main()
