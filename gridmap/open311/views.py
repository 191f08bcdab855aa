"""Open311 GeoReport v2 at ``/open311/v2/``: services, service definitions and requests, in JSON
or XML by the path's extension (``requests.json``, ``requests.xml``; anything else is a 404).

- ``service_code`` is the event category code, ``group`` its class; ``jurisdiction_id`` is the
  district code, optional while the deployment holds one district, 404 when unknown.
- Errors always come in the spec's format (``[{"code": 400, "description": ...}]`` or
  ``<errors><error>...``), 400/403/404/405/413/429, never an HTML page; messages are Chinese by
  default and English with ``lang=en`` or ``Accept-Language: en``.

Decisions
- Reading requests is scoped like every other output (``problems_visible_to``): a GET with an
  ``api_key`` sees what the key's owner may see, a signed-in session what its user may see.
  Without either, requests are readable only when the deployment opts in with
  ``GRIDMAP_OPEN311_PUBLIC_READ = True`` (default False: 403). Anonymous readers then see every
  request except rejected reports, without the media URL (photos are not reviewed for faces and
  number plates). No output ever names a reporter. Services and definitions are public.
- Writing needs an ``api_key`` (admin: *Open311 API keys*; the key is shown once and stored
  hashed); the problem is reported in the name of the key's owner. Calls are rate-limited per
  key (``GRIDMAP_OPEN311_RATE``, 120/min) and per address without a valid key
  (``GRIDMAP_OPEN311_ANON_RATE``, 30/min): 429.
- Personal data: ``email``, ``first_name``, ``last_name`` and ``phone`` are accepted and
  discarded, never stored (the key's owner is the accountable reporter; personal-information
  minimisation). ``device_id`` and ``account_id`` are kept as opaque client ids (echoed as
  ``account_id`` in the POST answer, never shown by GET); ``media_url`` is stored as given (not
  fetched) and shown when the request has no photo; a photo can be sent as a multipart ``media``
  file and is checked like every upload.
- Idempotence: see ``gridmap.open311.intake`` (same content from the same key within two
  minutes, or the same ``client_uuid``, answers with the first request).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gridmap.core.boundary import BoundaryError, check_text
from gridmap.core.faults import messages, with_retry_after
from gridmap.open311 import documents
from gridmap.open311.access import identify, jurisdiction, language
from gridmap.open311.formats import FORMATS, Open311Error, render, render_error
from gridmap.open311.intake import submit
from gridmap.open311.openapi import openapi_doc
from gridmap.open311.queries import MAX_RESULTS, filter_requests, in_jurisdiction, problems_for

View = Callable[..., HttpResponse]


def _text_error(request: HttpRequest, kwargs: dict[str, Any]) -> str | None:
    """The boundary's text rule (``gridmap.core.boundary.check_text``) over every parameter name
    and value and the path's parts: the message for the first one refused, else None."""
    params = [request.GET] + ([request.POST] if request.method == "POST" else [])
    pairs = [(k, v) for q in params for k in q for v in [k, *q.getlist(k)]]
    pairs += [(name, str(value)) for name, value in kwargs.items()]
    for name, value in pairs:
        try:
            check_text(value)
        except BoundaryError as exc:
            return f"{str(name)[:40]!r}: {exc.message}"
    return None


def _body_status(request: HttpRequest) -> int | None:
    """413 or 400 when a POST body cannot be read (checked first, before anything reads it)."""
    if request.method != "POST":
        return None
    try:
        request.POST  # noqa: B018
    except RequestDataTooBig:
        return 413
    except (TooManyFieldsSent, BadRequest):
        return 400
    return None


def endpoint(*methods: str) -> Callable[[View], View]:
    """Format from the path, allowed methods, language, and every failure in the spec's format."""

    def wrap(view: View) -> View:
        @wraps(view)
        def run(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            body_status = _body_status(request)
            with translation.override(language(request, read_body=body_status is None)):
                try:
                    if fmt not in FORMATS:
                        raise Open311Error(404, _("Unknown format: use .json or .xml."))
                    if request.method not in methods:
                        raise Open311Error(405, _("Method not allowed."))
                    if body_status == 413:
                        raise Open311Error(413, _("The request body is too large."))
                    if body_status is not None:
                        raise Open311Error(
                            400, _("The form could not be read (too many fields or a bad encoding).")
                        )
                    text_error = _text_error(request, kwargs)
                    if text_error is not None:
                        raise Open311Error(400, text_error)
                    return view(request, *args, fmt=fmt, **kwargs)
                except Open311Error as exc:
                    response = render_error(exc, fmt)
                except ValidationError as exc:
                    response = render_error(Open311Error(400, " ".join(str(m) for m in exc.messages)), fmt)
            if response.status_code == 405:
                response["Allow"] = ", ".join(methods)
            return response

        # exempt from CSRF: a POST is authenticated by its api_key, and another method gets the
        # spec's 405 rather than a CSRF refusal
        return csrf_exempt(run)

    return wrap


@endpoint("GET", "HEAD")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    identify(request, key_required=False)
    jurisdiction(request)
    docs = [documents.service_doc(c) for c in documents.services_queryset()]
    return render(docs, fmt, root="services")


@endpoint("GET", "HEAD")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    identify(request, key_required=False)
    jurisdiction(request)
    category = documents.services_queryset().filter(code=code[:20]).first()
    if category is None:
        raise Open311Error(404, _("Unknown service_code."))
    return render(documents.definition_doc(category), fmt, root="service_definition")


@endpoint("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        caller = identify(request, key_required=True)
        intake = submit(request, caller, jurisdiction(request))
        doc = {
            "service_request_id": str(intake.problem.pk),
            "service_notice": documents.service_notice(intake.problem.category),
            "account_id": intake.submission.account_id or None,
        }
        return render([doc], fmt, root="service_requests", status=201 if intake.created else 200)
    caller = identify(request, key_required=False)
    problems = in_jurisdiction(problems_for(caller), jurisdiction(request))
    found = documents.requests_queryset(filter_requests(problems, request))[:MAX_RESULTS]
    docs = [documents.request_doc(p, request, public=caller.anonymous) for p in found]
    return render(docs, fmt, root="service_requests")


@endpoint("GET", "HEAD")
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    caller = identify(request, key_required=False)
    problems = in_jurisdiction(problems_for(caller), jurisdiction(request))
    found = None
    if request_id.isdigit() and request_id.isascii() and len(request_id) <= 18:
        found = documents.requests_queryset(problems.filter(pk=int(request_id))).first()
    if found is None:
        raise Open311Error(404, _("No such request."))
    return render(
        [documents.request_doc(found, request, public=caller.anonymous)], fmt, root="service_requests"
    )


@endpoint("GET", "HEAD")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    doc = {
        "changeset": "2024-01-01T00:00:00+08:00",
        "contact": "",
        "key_service": _("API keys are issued by the administrator (admin: Open311 API keys)."),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": request.build_absolute_uri(request.path.rsplit("discovery", 1)[0]),
                "changeset": "2024-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "application/xml"],
            },
            {  # the JSON endpoints described in OpenAPI 3.0
                "specification": "https://spec.openapis.org/oas/v3.0.3",
                "url": request.build_absolute_uri(reverse("open311-openapi")),
                "changeset": "2024-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json"],
            },
        ],
    }
    return render(doc, fmt, root="discovery")


@endpoint("GET", "HEAD")
def openapi(request: HttpRequest, fmt: str) -> HttpResponse:
    """The OpenAPI document of the JSON endpoints (``gridmap.open311.openapi``)."""
    return render(openapi_doc(request), "json", root="openapi")


def fault(request: HttpRequest, status: int, message: Callable[[], str] | None = None) -> HttpResponse:
    """A failure in the spec's format, XML when the path asks: a path no endpoint serves, or one
    no endpoint answered (an uncaught exception, a database down: gridmap/urls.py's handlers);
    a 503 says when to retry. ``message`` is called in the caller's language."""
    fmt = "xml" if request.path_info.lower().endswith(".xml") else "json"
    with translation.override(language(request, read_body=False)):
        if message is not None:
            text = message()
        elif status == 404:
            text = _("No such endpoint: see discovery.json.")
        else:
            text = messages().get(status, str(status))
        return with_retry_after(render_error(Open311Error(status, text), fmt))


@csrf_exempt  # a POST to a path no endpoint serves gets this 404, not a CSRF refusal
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other path under the prefix: a 404 in the spec's format (XML when the path asks)."""
    return fault(request, 404)
