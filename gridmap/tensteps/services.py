"""The ten steps' writes: a sub-item's state, its evidence, a step's stage acceptance. Each is one
transaction; permissions are checked here (``PermissionDenied``) and input by ``ValidationError``,
so every door answers the same."""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gridmap.geography.models import Community
from gridmap.problems.photos import FORMATS, MAX_BYTES, photo_check
from gridmap.tensteps.models import Acceptance, Evidence, ItemProgress, ItemStatus, Step, StepItem
from gridmap.tensteps.selectors import done_items, may_sign, may_work

PDF_END_WINDOW = 2048  # a PDF ends with %%EOF (and perhaps a newline or some padding)


def set_item(user: Any, community: Community, item: StepItem, status: str, note: str) -> ItemProgress:
    if not may_work(user, community):
        raise PermissionDenied
    if status not in ItemStatus.values:
        raise ValidationError(_("Unknown status."))
    with transaction.atomic():
        progress, _created = ItemProgress.objects.select_for_update().get_or_create(
            community=community, item=item
        )
        progress.status, progress.note, progress.updated_by = status, note, user
        progress.save()
    return progress


def evidence_kind(upload: IO[bytes], size: int | None) -> str:
    """The stored type of an evidence file: a photo through the photo check (jpg, png, webp), or a
    PDF (it starts with ``%PDF-`` and ends with ``%%EOF``); anything else is refused."""
    if size is not None and size > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."))
    upload.seek(0)
    head = upload.read(5)
    if head == b"%PDF-":
        upload.seek(0, 2)
        end = upload.tell()
        upload.seek(max(0, end - PDF_END_WINDOW))
        tail = upload.read()
        upload.seek(0)
        if b"%%EOF" not in tail:
            raise ValidationError(_("The PDF file is incomplete."))
        return "pdf"
    upload.seek(0)
    return FORMATS[photo_check(upload, size=size).format]


def add_evidence(user: Any, community: Community, item: StepItem, upload: Any, caption: str) -> Evidence:
    if not may_work(user, community):
        raise PermissionDenied
    extension = evidence_kind(upload, getattr(upload, "size", None))
    with transaction.atomic():
        progress, created = ItemProgress.objects.select_for_update().get_or_create(
            community=community, item=item, defaults={"status": ItemStatus.IN_PROGRESS, "updated_by": user}
        )
        if not created and progress.status == ItemStatus.NOT_STARTED:
            progress.status, progress.updated_by = ItemStatus.IN_PROGRESS, user
            progress.save()
        evidence = Evidence(progress=progress, extension=extension, caption=caption, uploaded_by=user)
        upload.seek(0)
        evidence.file.save(f"x.{extension}", upload, save=False)  # the stored name is ours
        evidence.save()
    return evidence


def sign(user: Any, community: Community, step: Step, decision: str, remarks: str) -> Acceptance:
    """Record a stage acceptance: "accepted" only when every sub-item of the step is done;
    "returned" says why (remarks required)."""
    if not may_sign(user, community):
        raise PermissionDenied
    if decision not in Acceptance.Decision.values:
        raise ValidationError(_("Unknown decision."))
    if decision == Acceptance.Decision.RETURNED and not remarks.strip():
        raise ValidationError(_("Say what is missing when returning a step."))
    with transaction.atomic():
        Community.objects.select_for_update().filter(pk=community.pk).first()  # one decision at a time
        if decision == Acceptance.Decision.ACCEPTED:
            items = set(step.items.values_list("pk", flat=True))
            if not items or not items <= done_items([community.pk])[community.pk]:
                raise ValidationError(_("Every sub-item of the step must be done before it is accepted."))
        return Acceptance.objects.create(
            community=community, step=step, decision=decision, remarks=remarks.strip(), signed_by=user
        )
