"""Writes of problems besides intake (``gridmap.problems.intake``) and the lifecycle
(``gridmap.problems.lifecycle``): photos, on a problem or a positive-list site, and the positive
list itself.

Every photo goes through ``photos.problem_photo_attach`` (or ``positive_site_photo_attach``):
checked by the same size, pixel and EXIF rules (``photos.photo_check``), stored under a name the
client does not choose and served only through a scoped URL, with an audit event (a problem's
photo is tied to the event of the step it documents; a site's photo writes a site event).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.core.geoinput import point_from_lonlat
from gridmap.geography.selectors import community_for_point, grid_for_point, grids_visible_to
from gridmap.problems.lifecycle import TransitionConflict, TransitionForbidden, photo_may_add
from gridmap.problems.models import OPEN_STATUSES, PositiveSite, PositiveSiteEvent, ProblemEvent, ProblemPhoto
from gridmap.problems.photos import FORMATS, photo_check, problem_photo_attach
from gridmap.problems.selectors import problems_visible_to

SITE_ROLES = frozenset({Role.ADMIN, Role.COMMUNITY_HEAD, Role.GRID_LEADER})


def problem_photo_add(*, problem_id: int, upload: Any, lon: Any, lat: Any, user: Any) -> ProblemPhoto:
    """Attach a before-photo to an open problem ``user`` reported or acts on
    (``lifecycle.photo_may_add``), with its own ``photo`` event.

    Raises Problem.DoesNotExist (404) for a problem out of sight, TransitionForbidden (403) for one
    the user only sees, a 409 once it is finished (TransitionConflict), ValidationError (400) for
    a file that is not a real photo or bad coordinates. Where it was taken: its EXIF GPS position, else ``lon``/``lat``, else unknown.
    """
    problem = problems_visible_to(user).get(pk=problem_id)
    photo_may_add(problem, user)
    if problem.status not in OPEN_STATUSES:
        raise TransitionConflict(
            _("Photos can be added to open problems only."), status=problem.status, allowed=[]
        )
    point = point_from_lonlat(lon, lat) if lon not in (None, "") or lat not in (None, "") else None
    info = photo_check(upload, size=getattr(upload, "size", None))
    where = Point(*info.lonlat, srid=4326) if info.lonlat else point
    with transaction.atomic():
        event = ProblemEvent.objects.create(problem=problem, action="photo", from_status=problem.status,
                                            to_status=problem.status, actor=user, at=timezone.now(), geom=where)  # fmt: skip
        return problem_photo_attach(problem, upload, event=event, user=user, where=where, info=info)


def _may_place_site(user: Any, grid: Any, community: Any) -> None:
    """TransitionForbidden (a 403) unless ``user`` may keep a positive-list site at this place."""
    role = role_of(user)
    if role not in SITE_ROLES:
        raise TransitionForbidden(_("Your role may not add positive-list sites."))
    community_id = community.pk if community is not None else None
    if role == Role.COMMUNITY_HEAD and (community_id is None or community_id != user.profile.community_id):
        raise TransitionForbidden(_("The site is outside your community."))
    if role == Role.GRID_LEADER and (grid is None or not grids_visible_to(user).filter(pk=grid.pk).exists()):
        raise TransitionForbidden(_("The site is outside your grids."))


def positive_site_may_edit(user: Any, site: PositiveSite) -> None:
    """Who may add a site at its place may change it (its photo); TransitionForbidden otherwise."""
    _may_place_site(user, site.grid, site.community)


def positive_site_create(*, lon: Any, lat: Any, name: str, description: str, user: Any) -> PositiveSite:
    """A positive-list site, by an administrator anywhere, a community head in their community or
    a grid leader in their grids (TransitionForbidden, a 403, otherwise)."""
    point = point_from_lonlat(lon, lat)
    grid = grid_for_point(point)
    community = grid.community if grid else community_for_point(point)
    _may_place_site(user, grid, community)
    with transaction.atomic():
        site = PositiveSite.objects.create(
            name=name, description=description, geom=point, grid=grid, community=community, created_by=user
        )
        PositiveSiteEvent.objects.create(site=site, action="create", actor=user, at=site.created_at)
    return site


def positive_site_photo_attach(site: PositiveSite, upload: Any, *, user: Any) -> PositiveSite:
    """Set (or replace) the photo of ``site`` for ``user``, who must be allowed to edit it
    (TransitionForbidden otherwise): checked by the same rules as a problem's photo, stored under
    a name never used before (the site's id and a random part: a backup that read the old row
    must never find a newer file under its name) with a ``photo`` event, the old file removed
    once the change is committed."""
    positive_site_may_edit(user, site)
    info = photo_check(upload, size=getattr(upload, "size", None))
    old = site.photo.name if site.photo else None
    with transaction.atomic():
        locked = PositiveSite.objects.select_for_update().get(pk=site.pk)
        locked.photo.save(f"{site.pk}-{uuid.uuid4().hex}.{FORMATS[info.format]}", upload, save=True)
        PositiveSiteEvent.objects.create(
            site=locked, action="photo", actor=user, data={"replaced": bool(old)}
        )
    if old and old != locked.photo.name:
        transaction.on_commit(lambda: locked.photo.storage.delete(old))
    return locked
