from django.db import migrations

from gridmap.facilities.catalogue import DEFAULT_KINDS


def seed(apps, schema_editor):
    FacilityKind = apps.get_model("facilities", "FacilityKind")
    for code, name, name_en, class_code, geom, color, radius, spacing in DEFAULT_KINDS:
        FacilityKind.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "class_code": class_code,
                "component_class": class_code[:2],
                "geom_type": geom,
                "color": color,
                "service_radius_m": radius,
                "max_spacing_m": spacing,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
