"""What a database backend lets the intake do, declared once per backend the way Django's
``connection.features`` classes are: the intake asks ``features()`` and never checks a vendor.

- ``reads_nearby_in_one_statement``: the candidates near a point (problems and facilities) come
  from one statement (``statement.nearby_query``; prepared unless ``GRIDMAP_DB_PREPARED`` is off,
  as behind PgBouncer in transaction mode) instead of two ORM queries.
- ``writes_in_one_statement``: the problem, its ``report`` event and the recurrence count are
  written by one statement, atomic by itself, with ``ON CONFLICT (uuid) DO NOTHING`` for a replay
  and the area stamp checked in the same statement (``statement.insert``); otherwise the ORM
  saves them in one transaction.
- ``writes_batches_in_one_statement``: a batch of problems from a file (``problems_insert``) and
  their events are written by one statement over array parameters (``bulk``); otherwise by the
  ORM's bulk insert.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class IntakeFeatures:
    reads_nearby_in_one_statement: bool = False
    writes_in_one_statement: bool = False
    writes_batches_in_one_statement: bool = False


BASE = IntakeFeatures()
POSTGIS = IntakeFeatures(
    reads_nearby_in_one_statement=True, writes_in_one_statement=True, writes_batches_in_one_statement=True
)
_BY_VENDOR = {"postgresql": POSTGIS}


def features() -> IntakeFeatures:
    """The intake features of the current connection's backend."""
    return _BY_VENDOR.get(connection.vendor, BASE)
