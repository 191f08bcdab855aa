from django.db import migrations

from gridmap.facilities.catalogue import seed_kinds


def seed(apps, schema_editor):
    seed_kinds(apps.get_model("facilities", "FacilityKind"))


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
