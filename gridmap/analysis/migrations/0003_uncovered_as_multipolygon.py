"""The uncovered part of a grid is stored as a MultiPolygon (precompute._geos): rows stored as a
Polygon before are made MultiPolygons, so every gap layer has one geometry type."""

from django.contrib.gis.geos import MultiPolygon
from django.db import migrations


def to_multi(apps, schema_editor):
    GridCoverage = apps.get_model("analysis", "GridCoverage")
    rows = GridCoverage.objects.filter(geom__isnull=False).only("pk", "geom")
    changed = []
    for row in rows.iterator(chunk_size=2000):
        if row.geom.geom_type == "Polygon":
            row.geom = MultiPolygon(row.geom, srid=row.geom.srid)
            changed.append(row)
        if len(changed) >= 2000:
            GridCoverage.objects.bulk_update(changed, ["geom"])
            changed = []
    GridCoverage.objects.bulk_update(changed, ["geom"])


class Migration(migrations.Migration):
    dependencies = [("analysis", "0002_route_visits")]

    operations = [migrations.RunPython(to_multi, migrations.RunPython.noop)]
