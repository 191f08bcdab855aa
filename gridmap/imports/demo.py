"""Loading the synthetic demo town (fixtures/demo_town) through the import core."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from gridmap.accounts.models import Department, Profile, Role
from gridmap.campaign.demo import campaign_demo_load
from gridmap.geography.models import Community
from gridmap.imports.core import ImportReport, import_frames
from gridmap.imports.demo_history import demo_history_fill
from gridmap.patrols.demo import demo_fill as patrols_demo_fill
from gridmap.problems.models import EventCategory
from gridmap.surveys.demo import demo_fill as surveys_demo_fill
from gridmap.tensteps.demo import demo_fill as tensteps_demo_fill
from layers.io import read_layer

DEMO_DIR = settings.BASE_DIR / "fixtures" / "demo_town"
# Order matters: areas before what is placed in them, facilities before problems link to them.
LAYERS = ["regions", "grids", "streets", "buildings", "facilities", "problems"]


def users_load(path: Path, password: str) -> list[dict[str, Any]]:
    """Create or update the demo users, their profiles and departments; returns the entries."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    user_model = get_user_model()
    hashed = make_password(password)  # one key derivation for all demo users, not one each
    for entry in entries:
        user, created = user_model.objects.get_or_create(username=entry["username"])
        if created:
            user.password = hashed
        user.is_staff = user.is_superuser = entry["role"] == Role.ADMIN
        user.first_name = entry.get("display_name", "")[:150]
        user.save()
        department = None
        if entry.get("department"):
            dep = entry["department"]
            department, _ = Department.objects.update_or_create(
                code=dep["code"], defaults={"name": dep["name"]}
            )
            department.categories.set(EventCategory.objects.filter(code__in=entry.get("categories", [])))
        Profile.objects.update_or_create(
            user=user,
            defaults={
                "role": entry["role"],
                "display_name": entry.get("display_name", ""),
                "department": department,
                "community": None,
            },
        )
    return entries


def communities_link(entries: list[dict[str, Any]]) -> None:
    """Tie heads and leaders to their community and inspectors to their patrol communities."""
    codes = dict(Community.objects.values_list("code", "pk"))
    for entry in entries:
        profile = Profile.objects.get(user__username=entry["username"])
        if entry.get("community_code"):
            profile.community_id = codes.get(entry["community_code"])
            profile.save(update_fields=["community"])
        if entry.get("patrol_communities"):
            profile.patrol_communities.set([codes[c] for c in entry["patrol_communities"] if c in codes])


def demo_load(directory: Path = DEMO_DIR) -> tuple[ImportReport, list[dict[str, Any]]]:
    """Load every demo layer in one transaction; loading again updates in place."""
    report = ImportReport()
    with transaction.atomic():
        entries = users_load(directory / "users.json", settings.GRIDMAP["DEMO_PASSWORD"])
        for target in LAYERS:
            result = read_layer(directory / f"{target}.geojson")
            for row, reason in result.rejected:
                report.reject(target, row, reason)
            import_frames(target, {target: result.frame}, source="demo", commit=True, report=report)
            if target == "regions":
                communities_link(entries)
        demo_history_fill()
        tensteps_demo_fill(entries)
        patrols_demo_fill()
        surveys_demo_fill()
        campaign_demo_load()  # inspection points and two past mock rounds
    return report, entries
