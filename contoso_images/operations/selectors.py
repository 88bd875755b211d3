"""Reads of operations for the pages, each in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from contoso_images.operations.models import UNFINISHED_STATUSES, Operation


def operations_for(target_key: str) -> QuerySet[Operation]:
    """Every operation on one target, newest first."""
    return Operation.objects.filter(target_key=target_key).order_by("-requested_at", "-pk")


def unfinished_by_target(target_keys: Iterable[str]) -> dict[str, Operation]:
    """The unfinished operation of each of these targets that has one (one query)."""
    keys = list(target_keys)
    if not keys:
        return {}
    rows = Operation.objects.filter(target_key__in=keys, status__in=UNFINISHED_STATUSES)
    return {op.target_key: op for op in rows}
