"""The queue's first page read part by part (``queues.first_by_need``, index-served) is the first
page of the queue's one order (``queues.by_need``), whatever the cases: statuses, deadlines past,
future or none, look-backs due or not, and ties on every key."""

from datetime import UTC, datetime, timedelta

from django.contrib.gis.geos import Point
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.problems import queues
from gridmap.problems.models import EventCategory, Problem, Status
from tests.factories import LAT0, LON0

T0 = datetime(2026, 10, 1, 8, tzinfo=UTC)
hours = st.one_of(st.none(), st.integers(min_value=-3, max_value=3))
case = st.fixed_dictionaries(
    {
        "status": st.sampled_from([s.value for s in Status]),
        "deadline": hours,
        "lookback": st.one_of(st.none(), st.integers(min_value=-2, max_value=2)),
        "reported": st.integers(min_value=0, max_value=2),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(case, max_size=14), limit=st.integers(min_value=1, max_value=8))
def test_the_first_page_read_in_parts_is_the_first_page_of_the_queue(db, cases, limit):
    Problem.objects.all().delete()
    category = EventCategory.objects.get(code="0301")
    for c in cases:
        Problem.objects.create(
            geom=Point(LON0, LAT0),
            category=category,
            status=c["status"],
            reported_at=T0 + timedelta(hours=c["reported"]),
            deadline=None if c["deadline"] is None else T0 + timedelta(hours=c["deadline"]),
            lookback_due=None if c["lookback"] is None else T0.date() + timedelta(days=c["lookback"]),
        )
    everything = Problem.objects.all()
    expected = [p.pk for p in queues.by_need(everything)[:limit]]
    assert [p.pk for p in queues.first_by_need(everything, limit)] == expected
