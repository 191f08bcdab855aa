from django.db import migrations

from gridmap.open311.catalogue import seed_attributes


def seed(apps, schema_editor):
    seed_attributes(apps.get_model("open311", "ServiceAttribute"), apps.get_model("problems", "EventCategory"))


class Migration(migrations.Migration):
    dependencies = [("open311", "0001_initial"), ("problems", "0002_default_categories")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
