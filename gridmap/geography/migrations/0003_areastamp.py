"""The area stamp's first version: a table renewed by its own triggers (0004 replaces it by a
view of the change stamps; those triggers are installed after migrate)."""

from django.db import migrations, models


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
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
    ]
