from django.db import migrations

from gridmap.problems.catalogue import DEFAULT_CATEGORIES


def seed(apps, schema_editor):
    EventCategory = apps.get_model("problems", "EventCategory")
    FacilityKind = apps.get_model("facilities", "FacilityKind")
    kinds = {k.code: k for k in FacilityKind.objects.all()}
    for code, name, name_en, kind in DEFAULT_CATEGORIES:
        EventCategory.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "event_class": code[:2],
                "facility_kind": kinds.get(kind) if kind else None,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial"), ("facilities", "0002_default_kinds")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
