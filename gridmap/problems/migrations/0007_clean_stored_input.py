"""Clean what was stored before the input boundary (``gridmap.core.boundary``) existed, so that no
old row keeps breaking a page or an export:

- text: control characters (C0 other than tab, line feed and carriage return; DEL; C1) are
  removed from problem descriptions, step notes, extension reasons and positive-list sites;
- times: a report time or step time before 2000-01-01 (UTC) becomes 2000-01-01 (on PostGIS a
  year-1 time in local time was stored as a BC date that no read can load), one after year 9999
  begins becomes the migration's time; the optional times of a problem (filed, deadline, …)
  outside 0001-01-02..9999-12-30 are cleared, as is a photo's EXIF time outside
  2000-01-01..now+1 day (the photo stays). Migration 0008 then keeps every stored time inside
  0001-01-02..9999-12-30 with a CHECK constraint.

Times are changed by ``UPDATE … WHERE`` without reading them (a BC date cannot be read); text is
read only for the rows whose text matches. The rule is repeated here, frozen, as migrations should
not follow later code.
"""

import re
from datetime import UTC, datetime, timedelta

from django.db import migrations

FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
LOW, HIGH = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)
OPTIONAL = ["filed_at", "dispatched_at", "deadline", "handled_at", "closed_at", "escalated_at", "lookback_done_at"]
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same class as a regular expression both databases understand (PostgreSQL cannot hold NUL).
PATTERN = r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
TEXTS = {
    "Problem": ["description"],
    "ProblemEvent": ["note"],
    "ExtensionRequest": ["reason"],
    "PositiveSite": ["name", "description"],
}


def clean(apps, schema_editor):
    pattern = PATTERN if schema_editor.connection.vendor == "postgresql" else r"[\x00" + PATTERN[1:]
    for model_name, fields in TEXTS.items():
        model = apps.get_model("problems", model_name)
        for name in fields:
            rows = model.objects.filter(**{f"{name}__regex": pattern}).values_list("pk", name)
            for pk, value in list(rows.iterator()):
                model.objects.filter(pk=pk).update(**{name: CONTROL.sub("", value)})
    now = datetime.now(UTC)
    problem = apps.get_model("problems", "Problem")
    problem.objects.filter(reported_at__lt=FLOOR).update(reported_at=FLOOR)
    problem.objects.filter(reported_at__gt=HIGH).update(reported_at=now)
    for name in OPTIONAL:
        problem.objects.filter(**{f"{name}__lt": LOW}).update(**{name: None})
        problem.objects.filter(**{f"{name}__gt": HIGH}).update(**{name: None})
    event = apps.get_model("problems", "ProblemEvent")
    event.objects.filter(at__lt=FLOOR).update(at=FLOOR)
    event.objects.filter(at__gt=HIGH).update(at=now)
    photo = apps.get_model("problems", "ProblemPhoto")
    photo.objects.filter(taken_at__lt=FLOOR).update(taken_at=None)
    photo.objects.filter(taken_at__gt=now + timedelta(days=1)).update(taken_at=None)


class Migration(migrations.Migration):
    dependencies = [("problems", "0006_positive_site_events")]

    operations = [migrations.RunPython(clean, migrations.RunPython.noop)]
