"""gridmap.core.prepared: statements prepared once per database session, answering as plain ones."""

import pytest
from django.db import connection, transaction

from gridmap.core import prepared

pytestmark = pytest.mark.django_db
SQL = "SELECT %s + 1, %s"


def run(params):
    with connection.cursor() as cursor:
        prepared.execute(cursor, SQL, params)
        return cursor.fetchall()


def session_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_answers_as_a_plain_statement():
    with connection.cursor() as cursor:
        cursor.execute(SQL, [41, "文字 'quoted'"])
        plain = cursor.fetchall()
    assert run([41, "文字 'quoted'"]) == plain == [(42, "文字 'quoted'")]
    assert run([1, None]) == [(2, None)]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)  # closes the connection: no test transaction around it
def test_prepared_once_per_session_and_again_on_a_new_connection():
    name = prepared.statement_name(SQL)
    run([1, "a"])
    assert name in session_statements()
    with transaction.atomic():  # a rolled-back transaction does not take the statement away
        run([2, "b"])
        transaction.set_rollback(True)
    assert run([3, "c"]) == [(4, "c")]
    connection.close()  # a new session has nothing prepared: it prepares again
    assert name not in session_statements()
    assert run([5, "d"]) == [(6, "d")] and name in session_statements()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)  # closes the connection: a session of its own
def test_off_behind_pgbouncer_nothing_is_prepared_and_the_answers_are_the_same(settings):
    on = [run([41, "文字 'quoted'"]), run([1, None])]
    connection.close()
    settings.GRIDMAP_DB_PREPARED = False
    assert [run([41, "文字 'quoted'"]), run([1, None])] == on
    assert session_statements() == set()


def test_the_intake_writes_the_same_rows_with_and_without_prepared_statements(settings, monkeypatch):
    """The statement writer and reads, prepared and plain, and the ORM writer: the same rows."""
    import random
    from datetime import timedelta

    from django.forms.models import model_to_dict
    from django.utils import timezone

    from gridmap.problems.intake import problem_intake
    from gridmap.problems.intake import write as writer
    from gridmap.problems.models import Problem, ProblemEvent
    from tests.problems.test_services_intake import make_town, spot, writers

    rng = random.Random(7)
    town = make_town(rng)

    def rows(problem: Problem) -> tuple:
        p = Problem.objects.get(pk=problem.pk)
        event = ProblemEvent.objects.get(problem=p)
        values = {k: v for k, v in model_to_dict(p).items() if k not in {"id", "uuid", "geom"}}
        event_values = {k: v for k, v in model_to_dict(event).items() if k not in {"id", "problem", "geom"}}
        return values, event_values, p.geom.ewkt, event.geom.ewkt

    for i in range(30):
        x, y = spot(rng)
        kwargs = {"lon": x, "lat": y, "category": town["categories"][i % 2], "description": f"第{i}",
                  "reporter": town["reporter"], "reported_at": timezone.now() - timedelta(minutes=i)}  # fmt: skip
        seen = []
        for use_prepared in (True, False):
            settings.GRIDMAP_DB_PREPARED = use_prepared
            for one_statement in writers():
                monkeypatch.setattr(writer, "one_statement", lambda flag=one_statement: flag)
                with transaction.atomic():
                    result = problem_intake(**kwargs)
                    seen.append((rows(result.problem), result.duplicates))
                    transaction.set_rollback(True)
        assert all(s == seen[0] for s in seen), (x, y)
