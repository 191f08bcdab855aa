"""The area stamp and the triggers that renew it (gridmap.geography.stamp)."""

from django.db import migrations, models


def install(apps, schema_editor):
    from gridmap.geography import stamp

    stamp.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from gridmap.geography import stamp

    stamp.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("geography", "0002_labels"),
    ]

    operations = [
        migrations.CreateModel(
            name="AreaStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("stamp", models.BigIntegerField(verbose_name="stamp")),
            ],
            options={
                "verbose_name": "area stamp",
                "verbose_name_plural": "area stamps",
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
