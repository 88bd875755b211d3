"""Finding operations whose task was lost or whose worker died, to queue them again.

Safe to run any time and from several processes: a duplicate task finds the row claimed and
does nothing, and a takeover resumes from the stored token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from contoso_images.operations.engine import timing
from contoso_images.operations.models import Operation, OperationStatus


@dataclass(frozen=True)
class Lost:
    #: Queued, but no task has started them within OPERATION_REQUEUE_AFTER_SECONDS.
    queued: list[int]
    #: Running, but their worker's lease ran out (it died, or paused them until then).
    expired: list[int]


def find() -> Lost:
    """The operations to queue again, each marked as queued now (so the next pass waits)."""
    now = timezone.now()
    grace = timedelta(seconds=timing.requeue_after_seconds())
    queued = list(
        Operation.objects.filter(
            status=OperationStatus.QUEUED, last_enqueued_at__lt=now - grace
        ).values_list("pk", flat=True)
    )
    expired = list(
        Operation.objects.filter(status=OperationStatus.RUNNING, lease_until__lt=now).values_list(
            "pk", flat=True
        )
    )
    Operation.objects.filter(pk__in=[*queued, *expired]).update(last_enqueued_at=now)
    return Lost(queued=queued, expired=expired)
