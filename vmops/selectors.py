"""Reads for the vmops pages: each returns a queryset or plain data in a fixed number of queries."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)

from contoso_images.core.models import Subscription
from contoso_images.operations import selectors as operation_selectors
from contoso_images.operations.models import UNFINISHED_STATUSES, Operation, OperationStatus
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.columns import Column, visible_columns
from vmops.models import BulkAction, ListPreference, VirtualMachine
from vmops.power import POWER_ACTIONS

SORTS: dict[str, tuple[Any, ...]] = {
    "name": ("name", "resource_group", "pk"),
    "-name": ("-name", "-resource_group", "pk"),
    "resource_group": ("resource_group", "name", "pk"),
    "-resource_group": ("-resource_group", "-name", "pk"),
    "location": ("location", "name", "pk"),
    "-location": ("-location", "-name", "pk"),
    "size": ("size", "name", "pk"),
    "-size": ("-size", "-name", "pk"),
    "power_state": ("power_state", "name", "pk"),
    "-power_state": ("-power_state", "-name", "pk"),
    "image": ("image_label", "name", "pk"),
    "-image": ("-image_label", "-name", "pk"),
    # Age: the oldest VM first (the earliest creation time), unknown ones last.
    "created": (F("created_at").asc(nulls_last=True), "name", "pk"),
    "-created": (F("created_at").desc(nulls_last=True), "name", "pk"),
    "changed": (F("settled_at").asc(nulls_last=True), "name", "pk"),
    "-changed": (F("settled_at").desc(nulls_last=True), "name", "pk"),
}
#: A pseudo power-state filter: every VM that is stopped but still billed for compute.
BILLED_STOPPED = "billed"
TRANSITIONING = "transitioning"
GENERALIZED = "generalized"
#: The state a VM shows while one of its power operations is under way, before Azure does:
#: the tiles, chart and filters count what the rows show.
PENDING_STATES = {action.kind: action.transition for action in POWER_ACTIONS}


def vm_queryset(*, user: Any) -> QuerySet[VirtualMachine]:
    """Every VM the user may see (all of them for any holder of view_virtualmachine)."""
    if not user.has_perm("vmops.view_virtualmachine"):
        return VirtualMachine.objects.none()
    return VirtualMachine.objects.all()


def vm_list(*, user: Any, filters: dict[str, Any], sort: str = "name") -> QuerySet[VirtualMachine]:
    """The filtered, sorted inventory (``unfinished_operations`` finds what runs on a page)."""
    qs = _filtered(vm_queryset(user=user).select_related("subscription"), filters)
    return qs.order_by(*SORTS.get(sort, SORTS["name"]))


def _filtered(qs: QuerySet[VirtualMachine], filters: dict[str, Any]) -> QuerySet[VirtualMachine]:
    if not filters.get("include_gone"):
        qs = qs.filter(gone_at__isnull=True)
    if value := filters.get("subscription"):
        qs = qs.filter(subscription__subscription_id=value)
    if value := filters.get("resource_group"):
        qs = qs.filter(resource_group__iexact=value)
    if value := filters.get("location"):
        qs = qs.filter(location=value)
    if value := filters.get("os_type"):
        qs = qs.filter(os_type=value)
    if value := filters.get("tag"):
        qs = _tag_filter(qs, *value)
    if value := filters.get("power_state"):
        qs = _power_state_filter(qs, value)
    if value := filters.get("q"):
        qs = qs.filter(
            Q(name__icontains=value)
            | Q(resource_group__icontains=value)
            | Q(size__icontains=value)
            | Q(image_label__icontains=value)
        )
    return qs


def unfinished_operations(vms: list[VirtualMachine]) -> dict[int, Operation]:
    """The unfinished operation of each VM that has one, by VM id (one query)."""
    keys = [vm.azure_id for vm in vms]
    if not keys:
        return {}
    # Who asked is shown on the row ("started by you"): joined, not one query per row.
    rows = Operation.objects.filter(
        target_key__in=keys, status__in=UNFINISHED_STATUSES
    ).select_related("requested_by")
    by_target = {op.target_key: op for op in rows}
    return {vm.pk: by_target[vm.azure_id] for vm in vms if vm.azure_id in by_target}


class TagValue(Func):
    """The text value of one tag, by its name, or NULL when the VM lacks the tag.

    Django's key transforms read a key that looks like a whole number ("1", "-1") as an array
    index: ``$[-1]`` is a JSON path error on SQLite (a 500 for ``?tag=-1``) and the wrong
    element elsewhere. A tag name is always an object key, so the path here always quotes it.
    """

    output_field = TextField()

    def __init__(self, key: str) -> None:
        super().__init__(F("tags"))
        self.key = key

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        lhs, params = compiler.compile(self.source_expressions[0])
        return f"JSON_EXTRACT({lhs}, %s)", [*params, "$." + json.dumps(self.key)]

    def as_postgresql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        lhs, params = compiler.compile(self.source_expressions[0])
        return f"({lhs} ->> %s::text)", [*params, self.key]


def _tag_filter(
    qs: QuerySet[VirtualMachine], key: str, value: str | None
) -> QuerySet[VirtualMachine]:
    """VMs carrying tag ``key`` (with ``value`` when given). The key goes into a quoted JSON
    path parameter, never into a lookup name or SQL: ``a__contains`` is just a key."""
    tag = TagValue(key)
    if value is None:
        return qs.alias(_tag=tag).filter(_tag__isnull=False)
    return qs.alias(_tag=tag).filter(_tag=value)


def _pending(kinds: list[str]) -> Exists:
    """True for a VM with an unfinished operation of one of these kinds (an index probe)."""
    return Exists(
        Operation.objects.filter(
            target_key=OuterRef("azure_id"), status__in=UNFINISHED_STATUSES, kind__in=kinds
        )
    )


def _shown_in(states: tuple[str, ...]) -> Q:
    """VMs the rows show in one of ``states``: the pending state of an unfinished power
    operation, else the cached power state."""
    kinds = [kind for kind, state in PENDING_STATES.items() if state in states]
    shown = Q(power_state__in=states) & ~Q(_pending(list(PENDING_STATES)))
    return shown | Q(_pending(kinds)) if kinds else shown


def _power_state_filter(qs: QuerySet[VirtualMachine], value: str) -> QuerySet[VirtualMachine]:
    if value == GENERALIZED:
        return qs.filter(generalized=True)
    if value == BILLED_STOPPED:
        return qs.filter(_shown_in((PowerState.STOPPED,)))
    if value == TRANSITIONING:
        return qs.filter(_shown_in(TRANSITIONAL_POWER_STATES))
    return qs.filter(_shown_in((value,)))


@dataclass(frozen=True)
class StateCount:
    """How many VMs of a resource group the rows show in a state."""

    resource_group: str
    state: str
    generalized: bool
    n: int


def vm_state_counts(*, user: Any, filters: dict[str, Any] | None = None) -> list[StateCount]:
    """VMs by resource group and state as the rows show them (a queued Deallocate counts as
    "deallocating"), for every filter but the power state one, in two queries: the cached
    states grouped, then the few VMs with an unfinished power operation moved over."""
    scope = _filtered(
        vm_queryset(user=user),
        {k: v for k, v in (filters or {}).items() if k != "power_state"},
    )
    counts: Counter[tuple[str, str, bool]] = Counter()
    keys = ("resource_group", "power_state", "generalized")
    for row in scope.values(*keys).annotate(n=Count("pk")).order_by():
        counts[(row["resource_group"], row["power_state"], row["generalized"])] += row["n"]
    pending = Subquery(
        Operation.objects.filter(
            target_key=OuterRef("azure_id"),
            status__in=UNFINISHED_STATUSES,
            kind__in=list(PENDING_STATES),
        ).values("kind")[:1]
    )
    busy = scope.filter(_pending(list(PENDING_STATES))).annotate(pending_kind=pending)
    for row in busy.values(*keys, "pending_kind"):
        counts[(row["resource_group"], row["power_state"], row["generalized"])] -= 1
        shown = PENDING_STATES[row["pending_kind"]]
        counts[(row["resource_group"], shown, row["generalized"])] += 1
    return [StateCount(rg, state, gen, n) for (rg, state, gen), n in sorted(counts.items()) if n]


@dataclass(frozen=True)
class Overview:
    total: int
    running: int
    billed_stopped: int
    deallocated: int
    transitioning: int
    generalized: int


def overview_of(counts: list[StateCount]) -> Overview:
    """The tiles: every one keeps its count while a power state filter picks one of them."""

    def total(*states: str) -> int:
        return sum(c.n for c in counts if c.state in states)

    return Overview(
        total=sum(c.n for c in counts),
        running=total(PowerState.RUNNING),
        billed_stopped=total(PowerState.STOPPED),
        deallocated=total(PowerState.DEALLOCATED),
        transitioning=total(*TRANSITIONAL_POWER_STATES),
        generalized=sum(c.n for c in counts if c.generalized),
    )


def chart_rows_of(counts: list[StateCount], power_state: str | None) -> list[dict[str, Any]]:
    """(resource_group, power_state, n) rows of the chart, the power state filter applied."""

    def shown(c: StateCount) -> bool:
        if not power_state:
            return True
        if power_state == GENERALIZED:
            return c.generalized
        if power_state == BILLED_STOPPED:
            return c.state == PowerState.STOPPED
        if power_state == TRANSITIONING:
            return c.state in TRANSITIONAL_POWER_STATES
        return c.state == power_state

    return [
        {"resource_group": c.resource_group, "power_state": c.state, "n": c.n}
        for c in counts
        if shown(c)
    ]


def vm_filter_choices(*, user: Any) -> dict[str, list[Any]]:
    """Options for the filter form: subscriptions, resource groups, locations, OS types."""
    live = vm_queryset(user=user).filter(gone_at__isnull=True)
    return {
        "subscriptions": list(Subscription.objects.order_by("display_name")),
        "resource_groups": list(
            live.order_by("resource_group").values_list("resource_group", flat=True).distinct()
        ),
        "locations": list(live.order_by("location").values_list("location", flat=True).distinct()),
        "os_types": list(
            live.exclude(os_type="")
            .order_by("os_type")
            .values_list("os_type", flat=True)
            .distinct()
        ),
    }


def vm_get(*, user: Any, pk: int) -> VirtualMachine:
    """One VM with its subscription; raises DoesNotExist for unknown or hidden VMs."""
    return vm_queryset(user=user).select_related("subscription").get(pk=pk)


def vm_operations(*, vm: VirtualMachine, limit: int = 50) -> list[Operation]:
    """The VM's operation history, newest first."""
    history = operation_selectors.operations_for(vm.azure_id).select_related("requested_by")
    return list(history[:limit])


def vm_operation(*, vm: VirtualMachine, pk: int) -> Operation | None:
    """One operation of this VM (None when the id belongs to another target)."""
    return operation_selectors.operations_for(vm.azure_id).filter(pk=pk).first()


def vm_by_resource_id(*, user: Any, resource_id: str) -> VirtualMachine | None:
    """The VM with this ARM id (ids are case-insensitive), if the user may see it."""
    return vm_queryset(user=user).filter(azure_id=resource_id.strip().lower()).first()


def vms_by_ids(*, user: Any, ids: list[int]) -> QuerySet[VirtualMachine]:
    """The VMs with these ids that the user may see, in name order."""
    return (
        vm_queryset(user=user)
        .select_related("subscription")
        .filter(pk__in=ids)
        .order_by(*SORTS["name"])
    )


def list_columns(*, user: Any) -> list[Column]:
    """The columns this user chose for the list (the defaults until they choose)."""
    chosen = (
        ListPreference.objects.filter(user_id=user.pk).values_list("columns", flat=True).first()
    )
    return visible_columns(chosen)


@dataclass(frozen=True)
class BulkRow:
    """One VM of a multi-select: what it got when asked, and how its operation is doing."""

    vm_id: int
    name: str
    resource_group: str
    subscription: str
    outcome: str
    reason: str
    operation: Operation | None


@dataclass(frozen=True)
class BulkProgress:
    rows: list[BulkRow]
    queued: int
    running: int
    succeeded: int
    failed: int
    skipped: int
    #: VMs that already had the same operation under way (counted by how it is doing too).
    already: int

    @property
    def unfinished(self) -> int:
        return self.queued + self.running

    @property
    def total(self) -> int:
        return self.queued + self.running + self.succeeded + self.failed + self.skipped


def bulk_progress(*, bulk: BulkAction, items: list[dict[str, Any]]) -> BulkProgress:
    """Counts over every VM of a multi-select and the rows of one page, in two queries."""
    ids = [item["operation"] for item in bulk.items if item.get("operation")]
    by_status = dict(
        Operation.objects.filter(pk__in=ids)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    page_ids = [item["operation"] for item in items if item.get("operation")]
    operations = Operation.objects.in_bulk(page_ids) if page_ids else {}
    rows = [
        BulkRow(
            vm_id=item["vm"],
            name=item["name"],
            resource_group=item["resource_group"],
            subscription=item.get("subscription", ""),
            outcome=item["outcome"],
            reason=item.get("reason", ""),
            operation=operations.get(item["operation"]) if item.get("operation") else None,
        )
        for item in items
    ]
    skipped = sum(1 for item in bulk.items if item["outcome"] == "skipped")
    return BulkProgress(
        rows=rows,
        queued=by_status.get(OperationStatus.QUEUED, 0),
        running=by_status.get(OperationStatus.RUNNING, 0),
        succeeded=by_status.get(OperationStatus.SUCCEEDED, 0),
        failed=by_status.get(OperationStatus.FAILED, 0),
        skipped=skipped,
        already=sum(1 for item in bulk.items if item["outcome"] == "already"),
    )
