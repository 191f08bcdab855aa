"""The area stamp becomes a view of the change stamp of kind ``areas`` (gridmap.core.stamps):
one row, id 1, ``stamp`` — the old table's shape, for SQL that reads it."""

from django.db import migrations, models

VIEW = (
    'CREATE VIEW "geography_areastamp" AS SELECT 1 AS "id", "s" AS "stamp" FROM '
    '(SELECT CAST(SUM("stamp") AS BIGINT) AS "s" FROM "core_changestamp" WHERE "kind" = \'areas\') v '
    'WHERE "s" IS NOT NULL'
)


def drop_old_triggers(apps, schema_editor):
    from gridmap.geography import stamp

    stamp.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("geography", "0003_areastamp"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_old_triggers, migrations.RunPython.noop),
        migrations.DeleteModel(name="AreaStamp"),
        migrations.CreateModel(
            name="AreaStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("stamp", models.BigIntegerField(verbose_name="stamp")),
            ],
            options={
                "verbose_name": "area stamp",
                "verbose_name_plural": "area stamps",
                "managed": False,
            },
        ),
        migrations.RunSQL(VIEW, 'DROP VIEW "geography_areastamp"'),
    ]
