"""The input boundary's rules (gridmap.core.boundary, layers.validate.to_number) on their own, and
the migration that cleans what was stored before them."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.boundary import (
    TIME_FLOOR,
    BoundaryError,
    check_text,
    check_time,
    plausible_time,
    printable,
    whole_number,
)
from layers.validate import GeometryInputError, check_lonlat, to_number

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("bad", ["\x00", "a\x01", "\x1b[0m", "\x7f", "\x85", "\x9f", "\ud800", "a\udfffb"])
def test_control_characters_and_lone_surrogates_are_refused(bad):
    with pytest.raises(BoundaryError):
        check_text(bad)
    assert check_text(printable(bad)) == printable(bad)


@pytest.mark.parametrize("good", ["", "长街 8号", "a\tb\r\nc", "\u2028", "😀", "<b>&amp;</b>", "\xa0\u00ff"])
def test_ordinary_text_passes_unchanged(good):
    assert check_text(good) == good and printable(good) == good


def test_too_long_text_is_refused():
    with pytest.raises(BoundaryError):
        check_text("x" * 11, max_chars=10)


@given(st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)))
def test_printable_is_always_accepted_and_encodable(text):
    clean = printable(text)
    assert check_text(clean) == clean
    clean.encode("utf-8")


@pytest.mark.parametrize(
    "when",
    [datetime(1, 1, 1, tzinfo=SHANGHAI), datetime(1999, 12, 31, 23, 59, tzinfo=UTC), datetime(1, 1, 1),
     datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("Pacific/Kiritimati")),
     datetime(9999, 12, 31, 23), timezone.now() + timedelta(days=2)],
)  # fmt: skip
def test_times_outside_the_window_are_refused(when):
    with pytest.raises(BoundaryError):
        check_time(when)
    assert plausible_time(when) is None


def test_times_inside_the_window_pass():
    now = timezone.now()
    for when in (TIME_FLOOR, datetime(2000, 1, 1, 8, tzinfo=SHANGHAI), now, now + timedelta(minutes=9)):
        assert check_time(when, now=now) == when


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
       st.sampled_from([UTC, SHANGHAI, ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Kiritimati"), None]))  # fmt: skip
def test_check_time_only_refuses(moment, zone):
    when = moment.replace(tzinfo=zone)
    try:
        assert check_time(when) == when
    except BoundaryError:
        pass


@pytest.mark.parametrize("bad", ["²", "١٢", "𝟙", "1" * 19, "-1", "1.0", "", " ", "0x1", True, 1.0, None, [1]])
def test_whole_numbers_take_ascii_digits_only(bad):
    with pytest.raises(BoundaryError):
        whole_number(bad, lo=0, hi=10**18)


def test_whole_numbers_in_range():
    assert whole_number(" 42 ", lo=1, hi=100) == 42 and whole_number(7, lo=1, hi=100) == 7
    with pytest.raises(BoundaryError) as exc:
        whole_number("101", lo=1, hi=100)
    assert exc.value.code == "out_of_range"


@pytest.mark.parametrize("huge", [10**400, -(10**400), 10**309])
def test_a_huge_integer_coordinate_is_refused_not_an_overflow(huge):
    with pytest.raises(GeometryInputError):
        to_number(huge)
    with pytest.raises(GeometryInputError):
        check_lonlat(huge, 30)


# -- the cleaning migration ------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_migration_cleans_stored_text_and_times():
    from gridmap.problems.intake import problem_create
    from gridmap.problems.models import EventCategory, Problem, ProblemEvent, ProblemPhoto
    from tests.factories import LAT0, LON0, region_tree

    region_tree()
    problem, _ = problem_create(
        lon=LON0 + 0.001, lat=LAT0 + 0.001, category=EventCategory.objects.get(code="0301")
    )
    photo = ProblemPhoto.objects.create(problem=problem, image="problems/x.jpg")
    # the oldest time the database takes now (migration 0008); older ones were cleaned the same way
    year1 = datetime(1, 1, 2, tzinfo=UTC)
    Problem.objects.filter(pk=problem.pk).update(description="a\x01b\x1b\x85c\td", reported_at=year1)
    ProblemEvent.objects.filter(problem=problem).update(note="n\x7fo", at=year1)
    ProblemPhoto.objects.filter(pk=photo.pk).update(taken_at=year1)
    migration = importlib.import_module("gridmap.problems.migrations.0007_clean_stored_input")
    migration.clean(apps, SimpleNamespace(connection=connection))
    problem.refresh_from_db()
    assert problem.description == "abc\td" and problem.reported_at == TIME_FLOOR
    event = ProblemEvent.objects.get(problem=problem)
    assert event.note == "no" and event.at == TIME_FLOOR
    assert ProblemPhoto.objects.get(pk=photo.pk).taken_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "field"), [("Problem", "reported_at"), ("Problem", "deadline"), ("ProblemEvent", "at"),
                         ("ProblemPhoto", "taken_at")],
)  # fmt: skip
@pytest.mark.parametrize(
    "when",
    [
        datetime(1, 1, 1, tzinfo=SHANGHAI),
        datetime(1, 1, 1, 12, tzinfo=UTC),
        datetime(9999, 12, 31, 23, tzinfo=UTC),
    ],
)
def test_the_database_refuses_a_time_no_read_could_load(model, field, when):
    """A year-1 time east of UTC is a BC date on PostgreSQL (every read of the row failed); late
    in 9999 a time overflows in local time (every page showing it failed)."""
    from django.db import IntegrityError, transaction

    from gridmap.problems.intake import problem_create
    from gridmap.problems.models import EventCategory, ProblemPhoto
    from tests.factories import LAT0, LON0, region_tree

    region_tree()
    problem, _ = problem_create(
        lon=LON0 + 0.001, lat=LAT0 + 0.001, category=EventCategory.objects.get(code="0301")
    )
    ProblemPhoto.objects.create(problem=problem, image="problems/x.jpg")
    rows = apps.get_model("problems", model).objects.all()
    with pytest.raises((IntegrityError, OverflowError)), transaction.atomic():
        rows.update(**{field: when})


@pytest.mark.django_db
def test_the_admin_forms_take_the_text_rule_and_the_time_window(rf, admin_user):
    from django.contrib import admin
    from django.core.exceptions import ValidationError

    from gridmap.problems.models import Problem

    request = rf.get("/")
    request.user = admin_user
    form = admin.site._registry[Problem].get_form(request)()
    with pytest.raises(ValidationError):
        form.fields["description"].clean("a\x01b")
    with pytest.raises(ValidationError):
        form.fields["reported_at"].clean(["0001-01-01", "00:00:00"])
    assert form.fields["description"].clean("占道") == "占道"
    assert form.fields["reported_at"].clean(["2024-05-01", "08:00:00"]).year == 2024
