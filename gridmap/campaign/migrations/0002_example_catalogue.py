from django.db import migrations

from gridmap.campaign.catalogue import catalogue_load


def load(apps, schema_editor):
    catalogue_load(
        apps.get_model("campaign", "PointType"),
        apps.get_model("campaign", "ChecklistItem"),
        apps.get_model("problems", "EventCategory"),
    )


class Migration(migrations.Migration):
    dependencies = [("campaign", "0001_initial"), ("problems", "0009_citizen_ratings_positive_labels")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
