"""Answers in: one check for both doors (the phone page and the spreadsheet), each response
written whole or not at all, idempotent on its client id (a phone's retry, or the same file
imported again, writes nothing more)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gridmap.accounts.models import Role
from gridmap.accounts.selectors import role_of
from gridmap.geography.models import Community
from gridmap.surveys.models import Answer, Question, Response, Survey

YES = {"yes", "y", "1", "是", "true"}
NO = {"no", "n", "0", "否", "false"}
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000


def checked_answers(survey: Survey, raw: Mapping[int, Any]) -> list[tuple[Question, int | None, str]]:
    """The answers of ``raw`` (question number -> what was typed), checked; every problem in one
    ValidationError."""
    found, errors = [], []
    for q in survey.questions.all():
        value = raw.get(q.number)
        text = "" if value is None else str(value).strip()
        if not text:
            if q.required:
                errors.append(_("Q%(n)s needs an answer.") % {"n": q.number})
            continue
        if q.kind == Question.Kind.RATING:
            try:
                number = int(float(text))
            except (ValueError, OverflowError):
                number = 0
            if str(number) != text and f"{number}.0" != text or not 1 <= number <= 5:
                errors.append(_("Q%(n)s: a rating is a whole number from 1 to 5.") % {"n": q.number})
                continue
            found.append((q, number, ""))
        elif q.kind == Question.Kind.YES_NO:
            if text.lower() not in YES | NO:
                errors.append(_("Q%(n)s: answer yes or no.") % {"n": q.number})
                continue
            found.append((q, 1 if text.lower() in YES else 0, ""))
        else:
            if len(text) > 1000 or "\x00" in text:
                errors.append(_("Q%(n)s: at most 1,000 characters.") % {"n": q.number})
                continue
            found.append((q, None, text))
    if errors:
        raise ValidationError(errors)
    return found


def _write(
    survey: Survey, community: Community, client_id: uuid.UUID, answers, source: str, user: Any
) -> Response:
    response = Response.objects.create(survey=survey, community=community, client_id=client_id, source=source,
                                       collected_by=user if getattr(user, "is_authenticated", False) else None)  # fmt: skip
    Answer.objects.bulk_create(
        [Answer(response=response, question=q, number=n, text=t) for q, n, t in answers]
    )
    return response


def response_submit(
    user: Any, survey: Survey, community: Community, client_id: uuid.UUID, raw: Mapping[int, Any]
) -> tuple[Response, bool]:
    """A response from the phone page and whether it was written now."""
    if not survey.open:
        raise ValidationError(_("This survey is closed."))
    done = Response.objects.filter(client_id=client_id).first()
    if done is not None:
        if done.survey_id != survey.pk:
            raise ValidationError(_("This client id belongs to another response."))
        return done, False
    answers = checked_answers(survey, raw)
    try:
        with transaction.atomic():
            return _write(survey, community, client_id, answers, Response.Source.PHONE, user), True
    except IntegrityError:  # the same retry at the same moment
        return Response.objects.get(client_id=client_id), False


def import_rows(user: Any, survey: Survey, upload: IO[bytes], size: int | None) -> dict[str, int]:
    """A spreadsheet of responses: a header row ``community`` (its code), ``Q1``, ``Q2``, …, then
    one response per row. Any bad row refuses the whole file, naming the rows; the same file
    imported again adds nothing (each row's client id comes from the file's content and row)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if role_of(user) != Role.ADMIN:
        raise PermissionDenied
    if size is not None and size > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."))
    content = upload.read()
    digest = hashlib.sha256(content).hexdigest()
    try:
        import io
        import zipfile

        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ValidationError(_("The file is not an .xlsx workbook.")) from None
    rows = book.worksheets[0].iter_rows(values_only=True) if book.worksheets else iter(())
    header = [str(h).strip().lower() if h is not None else "" for h in next(rows, ())]
    if not header or header[0] not in {"community", "社区", "社区代码"}:
        raise ValidationError(_("The first column must be the community code (header 'community')."))
    columns: dict[int, int] = {}
    for i, h in enumerate(header[1:], start=1):
        number = h[1:] if h.startswith("q") else h
        if number.isdigit():
            columns[i] = int(number)
    codes = dict(Community.objects.values_list("code", "pk"))
    ready, errors = [], []
    for n, row in enumerate(rows, start=2):
        if n - 1 > MAX_ROWS:
            raise ValidationError(_("At most 50,000 rows."))
        if row is None or all(v is None or str(v).strip() == "" for v in row):
            continue
        code = "" if row[0] is None else str(row[0]).strip().removesuffix(".0")
        if code not in codes:
            errors.append(_("Row %(n)s: unknown community %(code)s.") % {"n": n, "code": code[:20]})
            continue
        raw = {q: row[i] if i < len(row) else None for i, q in columns.items()}
        try:
            answers = checked_answers(survey, raw)
        except ValidationError as e:
            errors.append(_("Row %(n)s: %(why)s") % {"n": n, "why": " ".join(e.messages)})
            continue
        ready.append(
            (codes[code], uuid.uuid5(uuid.NAMESPACE_URL, f"survey:{survey.pk}:{digest}:{n}"), answers)
        )
    if errors:
        raise ValidationError(errors[:50])
    known = set(
        Response.objects.filter(client_id__in=[c for _, c, _ in ready]).values_list("client_id", flat=True)
    )
    written = 0
    with transaction.atomic():
        for community_id, client_id, answers in ready:
            if client_id in known:
                continue
            _write(survey, Community(pk=community_id), client_id, answers, Response.Source.IMPORT, user)
            written += 1
    return {"rows": len(ready), "written": written}
