"""Reads for the vmops pages: each returns a queryset or plain data in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from contoso_images.core.models import Subscription
from contoso_images.operations import selectors as operation_selectors
from contoso_images.operations.models import Operation
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.models import VirtualMachine

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
    "changed": (F("state_changed_at").asc(nulls_last=True), "name", "pk"),
    "-changed": (F("state_changed_at").desc(nulls_last=True), "name", "pk"),
}
#: A pseudo power-state filter: every VM that is stopped but still billed for compute.
BILLED_STOPPED = "billed"
TRANSITIONING = "transitioning"
GENERALIZED = "generalized"


def vm_queryset(*, user: Any) -> QuerySet[VirtualMachine]:
    """Every VM the user may see (all of them for any holder of view_virtualmachine)."""
    if not user.has_perm("vmops.view_virtualmachine"):
        return VirtualMachine.objects.none()
    return VirtualMachine.objects.all()


def vm_list(*, user: Any, filters: dict[str, Any], sort: str = "name") -> QuerySet[VirtualMachine]:
    """The filtered, sorted inventory (``unfinished_operations`` finds what runs on a page)."""
    qs = vm_queryset(user=user).select_related("subscription")
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
    if value := filters.get("power_state"):
        qs = _power_state_filter(qs, value)
    if value := filters.get("q"):
        qs = qs.filter(
            Q(name__icontains=value)
            | Q(resource_group__icontains=value)
            | Q(size__icontains=value)
            | Q(image_label__icontains=value)
        )
    return qs.order_by(*SORTS.get(sort, SORTS["name"]))


def unfinished_operations(vms: list[VirtualMachine]) -> dict[int, Operation]:
    """The unfinished operation of each VM that has one, by VM id (one query)."""
    by_target = operation_selectors.unfinished_by_target(vm.azure_id for vm in vms)
    return {vm.pk: by_target[vm.azure_id] for vm in vms if vm.azure_id in by_target}


def _power_state_filter(qs: QuerySet[VirtualMachine], value: str) -> QuerySet[VirtualMachine]:
    if value == BILLED_STOPPED:
        return qs.filter(power_state=PowerState.STOPPED)
    if value == TRANSITIONING:
        return qs.filter(power_state__in=TRANSITIONAL_POWER_STATES)
    if value == GENERALIZED:
        return qs.filter(generalized=True)
    return qs.filter(power_state=value)


@dataclass(frozen=True)
class Overview:
    total: int
    running: int
    billed_stopped: int
    deallocated: int
    transitioning: int
    generalized: int


def vm_overview(*, user: Any) -> Overview:
    """The tile counts, in one aggregate query."""
    live = vm_queryset(user=user).filter(gone_at__isnull=True)
    counts = live.aggregate(
        total=Count("pk"),
        running=Count("pk", filter=Q(power_state=PowerState.RUNNING)),
        billed_stopped=Count("pk", filter=Q(power_state=PowerState.STOPPED)),
        deallocated=Count("pk", filter=Q(power_state=PowerState.DEALLOCATED)),
        transitioning=Count("pk", filter=Q(power_state__in=TRANSITIONAL_POWER_STATES)),
        generalized=Count("pk", filter=Q(generalized=True)),
    )
    return Overview(**counts)


def vm_counts_by_group_and_state(*, user: Any) -> list[dict[str, Any]]:
    """Rows of (resource_group, power_state, n) for the chart, in one GROUP BY query."""
    return list(
        vm_queryset(user=user)
        .filter(gone_at__isnull=True)
        .values("resource_group", "power_state")
        .annotate(n=Count("pk"))
        .order_by("resource_group", "power_state")
    )


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


@dataclass(frozen=True)
class SyncStatus:
    last_synced_at: Any
    errors: list[Subscription]
    throttled_until: Any


def inventory_sync_status(subscriptions: list[Subscription] | None = None) -> SyncStatus:
    subs = subscriptions if subscriptions is not None else list(Subscription.objects.all())
    synced = [s.synced_at for s in subs if s.synced_at]
    throttled = [s.sync_retry_after for s in subs if s.sync_retry_after]
    return SyncStatus(
        last_synced_at=max(synced) if synced else None,
        errors=[s for s in subs if s.sync_error],
        throttled_until=max(throttled) if throttled else None,
    )


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
