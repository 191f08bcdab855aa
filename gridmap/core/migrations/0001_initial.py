"""The change stamps (gridmap.core.stamps); the triggers are installed after every migrate."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ChangeStamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=20, verbose_name="kind")),
                ("town", models.BigIntegerField(default=0, verbose_name="town")),
                ("stamp", models.BigIntegerField(verbose_name="stamp")),
            ],
            options={
                "verbose_name": "change stamp",
                "verbose_name_plural": "change stamps",
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "town"), name="core_changestamp_kind_town")
                ],
            },
        ),
    ]
