"""Reads for the vmops pages: each returns a queryset or plain data in a fixed number of queries."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from catalog.models import CatalogImage
from contoso_images.core.models import Subscription
from contoso_images.core.users import Person, signed_in
from contoso_images.operations import selectors as operation_selectors
from contoso_images.operations.models import UNFINISHED_STATUSES, Operation, OperationStatus
from vmops.choices import TRANSITIONAL_POWER_STATES, PowerState
from vmops.columns import Column, visible_columns
from vmops.models import BulkAction, ComputePrice, InventoryCount, ListPreference, VirtualMachine
from vmops.power import POWER_ACTIONS
from vmops.services.lineage import risky_images_q

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
    # Waste: what a Stopped (allocated) VM costs per day for nothing (``with_prices``);
    # the costliest first when descending, VMs without a price last either way.
    "waste": (F("waste_daily").asc(nulls_last=True), "name", "pk"),
    "-waste": (F("waste_daily").desc(nulls_last=True), "name", "pk"),
}
#: The sorts a page can seek by (every key a plain column): ``(field, descending)`` each.
KEYSET_SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    name: tuple((key.lstrip("-"), key.startswith("-")) for key in keys)
    for name, keys in SORTS.items()
    if all(isinstance(key, str) for key in keys)
}
#: A pseudo power-state filter: every VM that is stopped but still billed for compute.
BILLED_STOPPED = "billed"
TRANSITIONING = "transitioning"
GENERALIZED = "generalized"
#: The state a VM shows while one of its power operations is under way, before Azure does:
#: the tiles, chart and filters count what the rows show.
PENDING_STATES = {action.kind: action.transition for action in POWER_ACTIONS}


def vm_queryset(*, user: Person) -> QuerySet[VirtualMachine]:
    """Every VM the user may see (all of them for any holder of view_virtualmachine)."""
    if not user.has_perm("vmops.view_virtualmachine"):
        return VirtualMachine.objects.none()
    return VirtualMachine.objects.all()


def vm_list(
    *, user: Person, filters: dict[str, Any], sort: str = "name"
) -> QuerySet[VirtualMachine]:
    """The filtered, sorted inventory (``unfinished_operations`` finds what runs on a page)."""
    qs = _filtered(vm_queryset(user=user).select_related("subscription"), filters)
    return with_prices(qs).order_by(*SORTS.get(sort, SORTS["name"]))


_MONEY: DecimalField[Any, Any] = DecimalField(max_digits=20, decimal_places=6)


def with_prices(qs: QuerySet[VirtualMachine]) -> QuerySet[VirtualMachine]:
    """Annotate each VM with its cached compute price per hour (``hourly_price``, None: no
    price found) and its waste per day (``waste_daily``: the price of a day for a Stopped
    (allocated) VM, 0 in any other state), in the same query: 10,000 VMs, one query."""
    price = ComputePrice.objects.filter(
        region=OuterRef("price_region"),
        size=OuterRef("price_size"),
        os_type=OuterRef("price_os"),
        currency=str(getattr(settings, "PRICES_CURRENCY", "USD")).upper(),
    ).values("hourly")[:1]
    return qs.annotate(
        price_region=Lower("location"),
        price_size=Lower("size"),
        price_os=Case(
            When(os_type__iexact="windows", then=Value("Windows")), default=Value("Linux")
        ),
        hourly_price=Subquery(price, output_field=_MONEY),
        waste_daily=Case(
            When(
                power_state=PowerState.STOPPED,
                gone_at__isnull=True,
                then=ExpressionWrapper(F("hourly_price") * Value(24), output_field=_MONEY),
            ),
            default=Value(0),
            output_field=_MONEY,
        ),
    )


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
    if filters.get("image_risk"):
        qs = qs.filter(catalog_image__in=CatalogImage.objects.filter(risky_images_q()))
    if value := filters.get("q"):
        qs = _search(qs, value)
    return qs


def risky_image_count(*, user: Person, filters: dict[str, Any] | None = None) -> int:
    """The tile "On a deprecated, past end-of-life or rejected image".

    The risky catalog entries are read first (a few rows), so the count is a lookup of their
    VMs by the ``catalog_image`` index, not a pass over the inventory; none, no count at all."""
    risky = list(CatalogImage.objects.filter(risky_images_q()).values_list("pk", flat=True))
    if not risky:
        return 0
    scoped = {k: v for k, v in (filters or {}).items() if k != "image_risk"}
    return _filtered(vm_queryset(user=user).filter(catalog_image_id__in=risky), scoped).count()


#: The trigram index finds substrings of three characters or more.
TRIGRAM = 3


def _search(qs: QuerySet[VirtualMachine], text: str) -> QuerySet[VirtualMachine]:
    """VMs whose name, resource group, size or image contains ``text`` (any case).

    The LIKE comparisons decide, as they always did; an index narrows the rows they read. On
    SQLite that is the FTS5 trigram table ``vmops_vm_search`` (kept by triggers), which
    matches a superset (it folds case beyond ASCII); on PostgreSQL, trigram GIN indexes on the
    very expressions icontains compares. Shorter text than a trigram reads every row.
    """
    like = (
        Q(name__icontains=text)
        | Q(resource_group__icontains=text)
        | Q(size__icontains=text)
        | Q(image_label__icontains=text)
    )
    if connection.vendor == "sqlite" and len(text) >= TRIGRAM:
        phrase = '"' + text.replace('"', '""') + '"'
        found = RawSQL("SELECT rowid FROM vmops_vm_search WHERE vmops_vm_search MATCH %s", [phrase])
        return qs.filter(like, pk__in=found)
    return qs.filter(like)


def cursor_of(vm: VirtualMachine, sort: str) -> str:
    """The sort key of one row, as a URL-safe token: the next page starts after it."""
    fields = KEYSET_SORTS.get(sort)
    if not fields:
        return ""
    values = [getattr(vm, field) for field, _ in fields]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _cursor_values(token: str, sort: str) -> list[Any] | None:
    """The values of a cursor token, or None for anything that is not one of ours."""
    fields = KEYSET_SORTS.get(sort)
    if not fields or not token or len(token) > MAX_CURSOR:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(fields):
        return None
    if not all(isinstance(v, str) for v in values[:-1]) or type(values[-1]) is not int:
        return None
    return values


#: Longer is not a cursor of ours (a 400-character image label, JSON, base64).
MAX_CURSOR = 2_000


def seek_page(
    qs: QuerySet[VirtualMachine], *, sort: str, after: str = "", before: str = "", size: int
) -> list[VirtualMachine] | None:
    """The ``size`` rows after (or before) a cursor, read from the sort's index by their
    key: a deep page costs what page 1 does, where an OFFSET reads every row before it.
    None when there is no usable cursor (the caller counts pages the usual way)."""
    backwards = not after and bool(before)
    values = _cursor_values(after or before, sort)
    if values is None:
        return None
    fields = KEYSET_SORTS[sort]
    beyond = Q()
    for i, (field, descending) in enumerate(fields):
        step = Q(**{f"{field}__{'lt' if descending != backwards else 'gt'}": values[i]})
        for earlier, (name, _) in enumerate(fields[:i]):
            step &= Q(**{name: values[earlier]})
        beyond |= step
    first, descending = fields[0]
    # A plain range on the leading column as well, so the database seeks, not scans.
    lead = Q(**{f"{first}__{'lte' if descending != backwards else 'gte'}": values[0]})
    rows = qs.filter(lead, beyond)
    if backwards:
        rows = rows.order_by(*(name if desc else f"-{name}" for name, desc in fields))
    found = list(rows[:size])
    return found[::-1] if backwards else found


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

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
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


def _pending(kinds: list[str]) -> Q:
    """True for a VM with an unfinished operation of one of these kinds. The unfinished
    operations are few: read once (not once per VM, as a correlated EXISTS would)."""
    busy = Operation.objects.filter(status__in=UNFINISHED_STATUSES, kind__in=kinds)
    return Q(azure_id__in=busy.values("target_key"))


def _shown_in(states: tuple[str, ...]) -> Q:
    """VMs the rows show in one of ``states``: the pending state of an unfinished power
    operation, else the cached power state."""
    kinds = [kind for kind, state in PENDING_STATES.items() if state in states]
    shown = Q(power_state__in=states) & ~_pending(list(PENDING_STATES))
    return shown | _pending(kinds) if kinds else shown


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


def vm_state_counts(*, user: Person, filters: dict[str, Any] | None = None) -> list[StateCount]:
    """VMs by resource group and state as the rows show them (a queued Deallocate counts as
    "deallocating"), for every filter but the power state one, in two queries: the cached
    states grouped, then the few VMs with an unfinished power operation moved over."""
    scoped = {k: v for k, v in (filters or {}).items() if k != "power_state"}
    scope = _filtered(vm_queryset(user=user), scoped)
    counts: Counter[tuple[str, str, bool]] = Counter()
    keys = ("resource_group", "power_state", "generalized")
    grouped = (
        _counted(user=user, filters=scoped)
        if set(scoped) <= COUNTED_FILTERS
        else scope.values(*keys).annotate(n=Count("pk")).order_by()
    )
    for row in grouped:
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


#: The filters the kept inventory counts answer (the others group the VMs they select).
COUNTED_FILTERS = {"subscription", "resource_group", "location", "os_type"}


def _counted(*, user: Person, filters: dict[str, Any]) -> QuerySet[Any]:
    """Live VMs by resource group, power state and generalized, from the counts the
    database keeps (``InventoryCount``): a few hundred rows at any inventory size."""
    return (
        _count_rows(user=user, filters=filters)
        .values("resource_group", "power_state", "generalized")
        .annotate(n=Sum("n"))
        .order_by()
    )


def cost_rows(*, user: Person, filters: dict[str, Any]) -> QuerySet[Any]:
    """``(location, size, os_type, power_state, n)`` of the live VMs the filters select, for
    the price totals (``vmops.services.prices.totals``): from the kept counts when the filters
    are ones they answer, else grouped from the VMs (one query either way)."""
    scoped = {k: v for k, v in filters.items() if k != "power_state"}
    state = filters.get("power_state")
    if set(scoped) <= COUNTED_FILTERS:
        rows = _count_rows(user=user, filters=scoped)
        if state == GENERALIZED:
            rows = rows.filter(generalized=True)
        elif state == BILLED_STOPPED:
            rows = rows.filter(power_state=PowerState.STOPPED)
        elif state == TRANSITIONING:
            rows = rows.filter(power_state__in=TRANSITIONAL_POWER_STATES)
        elif state:
            rows = rows.filter(power_state=state)
        return (
            rows.values_list("location", "size", "os_type", "power_state")
            .annotate(n=Sum("n"))
            .order_by()
        )
    return (
        vm_list(user=user, filters=filters)
        .filter(gone_at__isnull=True)
        .order_by()
        .values_list("location", "size", "os_type", "power_state")
        .annotate(n=Count("pk"))
    )


def _count_rows(*, user: Person, filters: dict[str, Any]) -> QuerySet[InventoryCount]:
    """The kept counts the filters select (none for a user who may not see VMs)."""
    if not user.has_perm("vmops.view_virtualmachine"):
        return InventoryCount.objects.none()
    rows = InventoryCount.objects.filter(n__gt=0)
    if value := filters.get("subscription"):
        rows = rows.filter(subscription__subscription_id=value)
    if value := filters.get("resource_group"):
        rows = rows.filter(resource_group__iexact=value)
    if value := filters.get("location"):
        rows = rows.filter(location=value)
    if value := filters.get("os_type"):
        rows = rows.filter(os_type=value)
    return rows


def count_shown(counts: list[StateCount], power_state: str | None) -> int:
    """How many VMs the list shows: the counts the tiles and chart read, the power state
    filter applied (the rows and the counts agree on what a VM shows), so the page needs
    no COUNT over the VMs."""
    return sum(row["n"] for row in chart_rows_of(counts, power_state))


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


def vm_filter_choices(*, user: Person) -> dict[str, list[Any]]:
    """Options for the filter form: subscriptions, resource groups, locations, OS types."""
    if not user.has_perm("vmops.view_virtualmachine"):
        live = InventoryCount.objects.none()
    else:
        # The kept counts (a few hundred rows), not the VMs: the same cost at any size.
        live = InventoryCount.objects.filter(n__gt=0)
    facets = list(live.values_list("resource_group", "location", "os_type").distinct())
    return {
        "subscriptions": list(Subscription.objects.order_by("display_name")),
        "resource_groups": sorted({rg for rg, _, _ in facets}),
        "locations": sorted({loc for _, loc, _ in facets}),
        "os_types": sorted({os for _, _, os in facets if os}),
    }


def vm_get(*, user: Person, pk: int) -> VirtualMachine:
    """One VM with its subscription; raises DoesNotExist for unknown or hidden VMs."""
    return vm_queryset(user=user).select_related("subscription").get(pk=pk)


def vm_operations(*, vm: VirtualMachine, limit: int = 50) -> list[Operation]:
    """The VM's operation history, newest first."""
    history = operation_selectors.operations_for(vm.azure_id).select_related("requested_by")
    return list(history[:limit])


def vm_operation(*, vm: VirtualMachine, pk: int) -> Operation | None:
    """One operation of this VM (None when the id belongs to another target)."""
    return operation_selectors.operations_for(vm.azure_id).filter(pk=pk).first()


def vm_by_resource_id(*, user: Person, resource_id: str) -> VirtualMachine | None:
    """The VM with this ARM id (ids are case-insensitive), if the user may see it."""
    return vm_queryset(user=user).filter(azure_id=resource_id.strip().lower()).first()


def vms_by_ids(*, user: Person, ids: list[int]) -> QuerySet[VirtualMachine]:
    """The VMs with these ids that the user may see, in name order."""
    return (
        vm_queryset(user=user)
        .select_related("subscription")
        .filter(pk__in=ids)
        .order_by(*SORTS["name"])
    )


def list_columns(*, user: Person) -> list[Column]:
    """The columns this user chose for the list (the defaults until they choose)."""
    chosen = (
        ListPreference.objects.filter(user=signed_in(user))
        .values_list("columns", flat=True)
        .first()
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
