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
