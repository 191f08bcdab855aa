from django.db import migrations

from gridmap.problems.catalogue import seed_categories


def seed(apps, schema_editor):
    seed_categories(apps.get_model("problems", "EventCategory"), apps.get_model("facilities", "FacilityKind"))


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial"), ("facilities", "0002_default_kinds")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
