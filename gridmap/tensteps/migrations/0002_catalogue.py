from django.db import migrations


def load(apps, schema_editor):
    from gridmap.tensteps.catalogue import load

    load(apps.get_model("tensteps", "Step"), apps.get_model("tensteps", "StepItem"))


class Migration(migrations.Migration):
    dependencies = [("tensteps", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
