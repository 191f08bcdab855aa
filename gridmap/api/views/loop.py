"""The closed loop as actions on a problem: take a step, read the audit timeline, see duplicates."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request

from gridmap.api import inputs, listing
from gridmap.api.openapi import ANY_OBJECT, INT, NSTR, NUM, STR, TIME, obj
from gridmap.api.renderers import geojson_response, json_response, utc
from gridmap.api.schema import TRANSITION, TRANSITION_FORM, geo, responses
from gridmap.api.selectors import events_of, problem_visible
from gridmap.api.views.base import ApiView
from gridmap.api.views.problems import duplicates_of
from gridmap.core.jsonbody import BoundedJSONParser
from gridmap.problems.lifecycle import problem_transition
from gridmap.problems.models import Problem, ProblemEvent


def _event(e: ProblemEvent) -> dict:
    return {"id": e.pk, "action": e.action, "from_status": e.from_status or None,
            "to_status": e.to_status or None, "at": utc(e.at), "note": e.note, "data": e.data}  # fmt: skip


@extend_schema(tags=["closed loop"])
class ProblemTransitions(ApiView):
    parser_classes = (BoundedJSONParser, MultiPartParser)

    @extend_schema(
        request={"application/json": TRANSITION, "multipart/form-data": TRANSITION_FORM},
        responses=responses(geo(200, "TransitionFeature"), 403, 404, 409, 413, 415),
        description="Take one step of the loop (file, reject, mark_duplicate, dispatch, request_extension, "
        "decide_extension, handle, verify_pass, verify_fail, lookback_pass, lookback_fail). `handle` needs "
        "after-photos: send multipart with files under `photos` and `params` as JSON text. The answer is "
        "the problem's Feature with the recorded `event`; a step out of order is a 409 naming the "
        "current status and the allowed steps.",
    )
    def post(self, request: Request, pk: int) -> HttpResponse:
        if request.content_type.startswith("multipart/"):
            data = inputs.form_fields(request.data, request.FILES)
            photos = data.pop("photos", [])
            if not isinstance(photos, list):
                raise exceptions.ValidationError({"photos": [_("Send the photos as files.")]})
        else:
            data, photos = request.data, []
        step = inputs.step(data)
        outcome = problem_transition(
            problem_id=pk,
            action=step.action,
            actor=request.user,
            note=step.note,
            lon=step.lon,
            lat=step.lat,
            photos=photos,
            params=step.params,
        )
        try:
            feature = listing.PROBLEMS.one(request, pk)
        except Problem.DoesNotExist:  # the step took it out of the actor's sight
            feature = {"type": "Feature", "id": pk, "geometry": None, "properties": None}
        feature["event"] = _event(outcome.event)
        return geojson_response(feature)


@extend_schema(tags=["closed loop"])
class ProblemEvents(ApiView):
    @extend_schema(responses=responses({200: obj({"problem": INT, "events": {"type": "array", "items": obj({
        "id": INT, "action": STR, "from_status": NSTR, "to_status": NSTR, "at": TIME, "note": STR,
        "data": ANY_OBJECT}, extra=True)}})}, 404))  # fmt: skip
    def get(self, request: Request, pk: int) -> HttpResponse:
        """The audit timeline of a problem: every step, who took it, when and where, with photo ids."""
        problem = problem_visible(request.user, pk)
        return json_response({"problem": problem.pk, "events": events_of(problem)})


@extend_schema(tags=["closed loop"])
class ProblemDuplicates(ApiView):
    @extend_schema(responses=responses({200: obj({"problem": INT, "possible_duplicates": {
        "type": "array", "items": obj({"id": INT, "distance_m": NUM}, extra=True)}})}, 404))  # fmt: skip
    def get(self, request: Request, pk: int) -> HttpResponse:
        """Open problems of the same category within its duplicate radius (id, distance in metres)."""
        problem = problem_visible(request.user, pk)
        return json_response({"problem": problem.pk, "possible_duplicates": duplicates_of(problem)})
