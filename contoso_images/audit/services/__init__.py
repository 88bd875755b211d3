"""The audit record's services. Other apps call :func:`record` (see its docstring)::

from contoso_images.audit.services import Subject, record

with transaction.atomic():
    decision = ReviewDecision.objects.create(...)
    record(
        action="catalog.review.approve",
        actor=request.user,
        target=Subject(kind=image.arm_type, id=image.azure_id, name=image.name),
        parameters={"comment": decision.comment},
        related=("catalog.review", decision.pk),
    )
"""

from __future__ import annotations

from contoso_images.audit.models import Outcome
from contoso_images.audit.services.recording import Subject, record, record_many

__all__ = ["Outcome", "Subject", "record", "record_many"]
