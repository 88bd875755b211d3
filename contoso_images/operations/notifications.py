"""The notification bell: each user's own operations and how they ended.

Operations are the shared record of what each user asked for, so the bell reads them directly
(``requested_by`` is indexed with ``requested_at``). An outcome is unread until its requester
has seen it (``outcome_seen_at``); a failure stays unread, and counted on the bell, until then,
so an AllocationFailed is not lost when the user has navigated away.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from contoso_images.core.models import Subscription
from contoso_images.core.users import Person, signed_in
from contoso_images.operations.models import UNFINISHED_STATUSES, Operation, OperationStatus

#: Operations listed on the notifications page, newest first.
RECENT = 50
#: The ARM type whose targets have pages in the VM inventory (linked by resource id).
VM_TYPE = "Microsoft.Compute/virtualMachines"

_UNREAD = Q(outcome_seen_at__isnull=True) & ~Q(status__in=UNFINISHED_STATUSES)


@dataclass(frozen=True)
class BellSummary:
    in_progress: int
    unread: int
    unread_failures: int
    #: The newest unread failure, for a message the moment it is noticed.
    latest_failure: Operation | None = None


def notification_summary(*, user: Person) -> BellSummary:
    """What the bell shows, in two queries whatever the number of operations."""
    if not user.is_authenticated:
        return BellSummary(0, 0, 0)
    mine = Operation.objects.filter(requested_by=user)
    counts = mine.aggregate(
        in_progress=Count("pk", filter=Q(status__in=UNFINISHED_STATUSES)),
        unread=Count("pk", filter=_UNREAD),
        unread_failures=Count("pk", filter=_UNREAD & Q(status=OperationStatus.FAILED)),
    )
    latest = None
    if counts["unread_failures"]:
        latest = (
            mine.filter(_UNREAD, status=OperationStatus.FAILED)
            .order_by("-finished_at", "-pk")
            .first()
        )
    return BellSummary(latest_failure=latest, **counts)


@dataclass(frozen=True)
class Notification:
    operation: Operation
    #: The subscription's display name (a person reads names, not GUIDs).
    subscription: str
    unread: bool
    #: True when the target has a page to link to (VMs, by their ARM id).
    is_vm: bool


def recent_notifications(*, user: Person, limit: int = RECENT) -> list[Notification]:
    """The user's latest operations with their outcome, newest first (two queries)."""
    operations = list(
        Operation.objects.filter(requested_by=signed_in(user)).order_by("-requested_at", "-pk")[
            :limit
        ]
    )
    names = subscription_names({op.target_subscription_id for op in operations})
    return [
        Notification(
            operation=op,
            subscription=names.get(op.target_subscription_id.lower(), op.target_subscription_id),
            unread=not op.is_unfinished and op.outcome_seen_at is None,
            is_vm=op.target_type.lower() == VM_TYPE.lower(),
        )
        for op in operations
    ]


def subscription_names(ids: set[str]) -> dict[str, str]:
    """Display names of these subscriptions by lower-cased id (one query)."""
    if not ids:
        return {}
    rows = Subscription.objects.filter(subscription_id__in=ids).values_list(
        "subscription_id", "display_name"
    )
    return {sub_id.lower(): name for sub_id, name in rows if name}


def outcomes_mark_seen(*, user: Person, ids: list[int]) -> int:
    """Mark these finished operations of the user as seen; returns how many were unread.

    Only outcomes the user was shown are marked (the ids the page listed), so an operation
    that ends while the page is open stays unread.
    """
    return (
        Operation.objects.filter(requested_by=signed_in(user), pk__in=ids)
        .filter(_UNREAD)
        .update(outcome_seen_at=timezone.now())
    )
