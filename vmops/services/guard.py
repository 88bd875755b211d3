"""The billing guard: policies that deallocate VMs which are billed for nothing, by themselves,
safely and on the record.

Two kinds of policy (``vmops.models.PolicyKind``):

- *Stopped for more than N minutes*: VMs Stopped (allocated) for longer than N minutes in the
  policy's scope (subscriptions, resource groups, tags) are deallocated;
- *At a time of day*: VMs with the policy's tags are deallocated at ``at_time`` in the
  policy's time zone on the chosen weekdays (auto-shutdown), once that day; during the notice
  period before it their pages say so and an operator may skip tonight.

The opt-out tag always wins; nothing happens in quiet hours. :func:`policy_plan` is the dry
run: what the policy would do now, VM by VM, and why. :func:`guard_run` (the schedule's task)
asks for exactly the VMs the plan marked, through the operations engine in one transaction
per policy (one operation per VM; a VM already busy with an operation, a capture's included,
is refused and the refusal recorded). The operations are asked for on behalf of the person
who last changed the policy, named in the audit record as "billing guard: <policy name>".
A policy in dry-run mode never acts.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contoso_images.audit.models import Outcome
from contoso_images.audit.services.recording import Subject, record
from contoso_images.operations.registry import OperationEvent
from contoso_images.operations.selectors import unfinished_by_target
from contoso_images.operations.services import RequestItem, operation_request_many
from vmops.choices import PowerState
from vmops.models import BillingPolicy, PolicyKind, PolicySkip, VirtualMachine
from vmops.power import DEALLOCATE
from vmops.rules import VmState
from vmops.services.prices import HOURS_PER_DAY, PriceBook, money, price_book

logger = logging.getLogger(__name__)

ACT, SKIP = "deallocate", "skip"
AUDIT_KIND = "billing_policy"
#: Power states a time-of-day policy deallocates from (a deallocated VM has nothing left).
_TIME_OF_DAY_STATES = (PowerState.RUNNING, PowerState.STOPPED)


def zone_of(policy: BillingPolicy) -> ZoneInfo:
    try:
        return ZoneInfo(policy.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_tag(text: str) -> tuple[str, str]:
    """``key=value`` (the value may be empty: ``key=`` or ``key``)."""
    key, _, value = (text or "").partition("=")
    return key.strip(), value.strip()


def _has_tag(tags: dict[str, Any], key: str, value: str) -> bool:
    """Tag names are case-insensitive in Azure; values compared as written, without case."""
    for name, found in (tags or {}).items():
        if name.lower() == key.lower() and str(found).lower() == value.lower():
            return True
    return False


def in_quiet_hours(policy: BillingPolicy, now: datetime) -> bool:
    if policy.quiet_start is None or policy.quiet_end is None:
        return False
    local = now.astimezone(zone_of(policy)).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def fire_moment(policy: BillingPolicy, on: date) -> datetime:
    """When a time-of-day policy acts on the local date ``on``, as an aware UTC moment.

    The wall-clock time is kept across a DST change (19:00 is 19:00 in winter and summer).
    A time that does not exist that day (in the spring gap) is read with the offset before
    the gap, as zoneinfo does: 02:30 on the spring-forward night is 03:30 summer time; a time
    that happens twice (the autumn fold) is its first occurrence."""
    local = datetime.combine(on, policy.at_time or time(19, 0)).replace(tzinfo=zone_of(policy))
    return local.astimezone(ZoneInfo("UTC"))


def _late_limit() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "BILLING_GUARD_LATE_MINUTES", 60)))


def due_date(policy: BillingPolicy, now: datetime) -> date | None:
    """The local date whose moment has come (and not passed by more than the late limit) for
    a time-of-day policy, if it has not acted that day; else None."""
    local = now.astimezone(zone_of(policy))
    for day in (local.date(), local.date() - timedelta(days=1)):
        if day.weekday() not in (policy.weekdays or []):
            continue
        moment = fire_moment(policy, day)
        if moment <= now < moment + _late_limit() and policy.last_acted_on != day:
            return day
    return None


def next_moment(policy: BillingPolicy, now: datetime) -> tuple[date, datetime] | None:
    """The next local date and moment a time-of-day policy acts (today's, until it acted)."""
    if policy.kind != PolicyKind.TIME_OF_DAY or not policy.weekdays:
        return None
    local = now.astimezone(zone_of(policy))
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in policy.weekdays or policy.last_acted_on == day:
            continue
        moment = fire_moment(policy, day)
        if moment + _late_limit() > now:
            return day, moment
    return None


# --- The plan (dry run) -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanEntry:
    vm: VirtualMachine
    decision: str  # ACT or SKIP
    reason: str
    daily_saving: Decimal | None = None

    @property
    def acts(self) -> bool:
        return self.decision == ACT

    @property
    def saving_text(self) -> str:
        return money(self.daily_saving) if self.acts else ""


@dataclass(frozen=True)
class Plan:
    policy: BillingPolicy
    now: datetime
    entries: list[PlanEntry] = field(default_factory=list)
    #: Why the policy does nothing now at all ("quiet hours", "not its time"), or "".
    idle_reason: str = ""
    #: For a time-of-day policy: the local date it acts for.
    on_date: date | None = None
    #: What a time-of-day policy would do at its next moment (not now): never acted on.
    preview: bool = False

    @property
    def acting(self) -> list[PlanEntry]:
        return [entry for entry in self.entries if entry.acts]

    @property
    def daily_saving(self) -> Decimal:
        return sum((e.daily_saving or Decimal(0) for e in self.acting), Decimal(0))

    @property
    def daily_saving_text(self) -> str:
        return money(self.daily_saving)

    @property
    def unpriced(self) -> int:
        return sum(1 for e in self.acting if e.daily_saving is None)


def scoped_vms(policy: BillingPolicy) -> QuerySet[VirtualMachine]:
    """The policy's scope as far as the database can filter it (tags are matched in Python,
    case-insensitively)."""
    vms = VirtualMachine.objects.filter(gone_at__isnull=True).select_related("subscription")
    if policy.subscriptions:
        vms = vms.filter(
            subscription__subscription_id__in=[s.lower() for s in policy.subscriptions]
        )
    if policy.kind == PolicyKind.STOPPED_FOR:
        vms = vms.filter(power_state=PowerState.STOPPED)
    else:
        vms = vms.filter(power_state__in=_TIME_OF_DAY_STATES)
    return vms.order_by("name", "resource_group")


def _in_scope(policy: BillingPolicy, vm: VirtualMachine) -> bool:
    groups = {g.lower() for g in policy.resource_groups or []}
    if groups and vm.resource_group.lower() not in groups:
        return False
    return all(_has_tag(vm.tags, k, str(v)) for k, v in (policy.tags or {}).items())


def policy_plan(
    policy: BillingPolicy,
    *,
    now: datetime | None = None,
    book: PriceBook | None = None,
    vms: list[VirtualMachine] | None = None,
    busy: dict[str, Any] | None = None,
) -> Plan:
    """What the policy would do now, VM by VM, and why (the dry run). Nothing is written.

    A fixed number of queries however many VMs: the scope, the operations under way, the
    price book and the skips."""
    now = now or timezone.now()
    on_date: date | None = None
    if policy.kind == PolicyKind.TIME_OF_DAY:
        on_date = due_date(policy, now)
        if on_date is None:
            upcoming = next_moment(policy, now)
            if upcoming is None:
                return Plan(policy, now, idle_reason="Not its time: no weekday is chosen.")
            day, moment = upcoming
            local = f"{moment.astimezone(zone_of(policy)):%a %d %b %H:%M} ({policy.time_zone})"
            # What it would do then, if nothing changes: shown, never acted on.
            ahead = policy_plan(policy, now=moment, book=book, vms=vms, busy=busy)
            return Plan(
                policy,
                now,
                ahead.entries,
                idle_reason=f"Not its time: nothing is deallocated now. It acts next at {local}; "
                "below, what it would do then if nothing changes.",
                on_date=day,
                preview=True,
            )
    if in_quiet_hours(policy, now):
        return Plan(
            policy,
            now,
            idle_reason=f"Quiet hours ({policy.quiet_start:%H:%M}–{policy.quiet_end:%H:%M} "
            f"{policy.time_zone}): nothing is deallocated now.",
            on_date=on_date,
        )
    book = book or price_book()
    candidates = [
        vm for vm in (vms if vms is not None else scoped_vms(policy)) if _in_scope(policy, vm)
    ]
    if busy is None:
        busy = unfinished_by_target(vm.azure_id for vm in candidates)
    skipped: set[int] = set()
    if on_date is not None:
        skipped = set(
            PolicySkip.objects.filter(policy=policy, on_date=on_date).values_list(
                "vm_id", flat=True
            )
        )
    opt_key, opt_value = parse_tag(policy.opt_out_tag)
    entries = [
        _judge(policy, vm, now, book, busy.get(vm.azure_id), opt_key, opt_value, vm.pk in skipped)
        for vm in candidates
    ]
    return Plan(policy, now, entries, on_date=on_date)


def _judge(
    policy: BillingPolicy,
    vm: VirtualMachine,
    now: datetime,
    book: PriceBook,
    operation: Any,
    opt_key: str,
    opt_value: str,
    skipped_tonight: bool,
) -> PlanEntry:
    if opt_key and _has_tag(vm.tags, opt_key, opt_value):
        return PlanEntry(vm, SKIP, f"Opted out with the tag {opt_key}={opt_value}.")
    if skipped_tonight:
        return PlanEntry(vm, SKIP, "An operator chose to skip it tonight.")
    if operation is not None:
        return PlanEntry(vm, SKIP, f"{operation.label} is under way; it is left alone.")
    availability = DEALLOCATE.availability(VmState.of(vm, busy_with=""))
    if not availability.allowed:
        return PlanEntry(vm, SKIP, availability.reason)
    hourly = book.hourly(vm)
    daily = None if hourly is None else hourly * HOURS_PER_DAY
    if policy.kind == PolicyKind.STOPPED_FOR:
        limit = timedelta(minutes=policy.stopped_minutes)
        since = vm.in_state_since
        if since is None:
            reason = (
                "Stopped (allocated) since before the dashboard first saw it: how long is "
                f"not known, so it counts as more than {policy.stopped_minutes} minutes."
            )
            return PlanEntry(vm, ACT, reason, daily)
        stopped_for = now - since
        minutes = int(stopped_for.total_seconds() // 60)
        if stopped_for <= limit:
            return PlanEntry(
                vm,
                SKIP,
                f"Stopped (allocated) for {minutes} minutes, "
                f"not more than {policy.stopped_minutes}.",
            )
        return PlanEntry(
            vm,
            ACT,
            f"Stopped (allocated) for {minutes} minutes, more than {policy.stopped_minutes}.",
            daily,
        )
    label = (
        PowerState(vm.power_state).label if vm.power_state in PowerState.values else vm.power_state
    )
    local = f"{(policy.at_time or time(19)):%H:%M} {policy.time_zone}"
    return PlanEntry(vm, ACT, f"{label}; its tag asks for deallocation at {local}.", daily)


# --- Notices on the VM page -------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    policy: BillingPolicy
    vm: VirtualMachine
    at: datetime
    on_date: date
    skipped: bool

    @property
    def local_time(self) -> str:
        return f"{self.at.astimezone(zone_of(self.policy)):%H:%M}"


def vm_notices(vm: VirtualMachine, *, now: datetime | None = None) -> list[Notice]:
    """Time-of-day policies (switched on) that will deallocate this VM within their notice
    period: the VM page says "will be deallocated at 19:00" and offers "skip tonight"."""
    now = now or timezone.now()
    found = []
    policies = BillingPolicy.objects.filter(
        kind=PolicyKind.TIME_OF_DAY, enabled=True, notice_minutes__gt=0
    )
    for policy in policies:
        upcoming = next_moment(policy, now)
        if upcoming is None:
            continue
        day, moment = upcoming
        if not (moment - timedelta(minutes=policy.notice_minutes) <= now < moment):
            continue
        if vm.gone_at or vm.power_state not in _TIME_OF_DAY_STATES or not _in_scope(policy, vm):
            continue
        if policy.subscriptions and vm.subscription.subscription_id not in policy.subscriptions:
            continue
        key, value = parse_tag(policy.opt_out_tag)
        if key and _has_tag(vm.tags, key, value):
            continue
        skipped = PolicySkip.objects.filter(policy=policy, vm=vm, on_date=day).exists()
        found.append(Notice(policy, vm, moment, day, skipped))
    return found


def skip_tonight(*, policy: BillingPolicy, vm: VirtualMachine, user: Any) -> Notice:
    """An operator keeps the VM allocated tonight; recorded in the audit. Raises ValueError
    when the policy gives no notice for this VM now."""
    notice = next((n for n in vm_notices(vm) if n.policy.pk == policy.pk), None)
    if notice is None:
        raise ValueError("This policy is not about to deallocate this VM.")
    with transaction.atomic():
        PolicySkip.objects.get_or_create(
            policy=policy,
            vm=vm,
            on_date=notice.on_date,
            defaults={"skipped_by": user, "skipped_at": timezone.now()},
        )
        record(
            action="billing_guard.skip_tonight",
            actor=user,
            target=vm.target,
            parameters={"policy": policy.name, "on_date": notice.on_date.isoformat()},
            detail=f"Kept allocated tonight despite {policy.actor_name}.",
        )
    return notice


# --- Running ---------------------------------------------------------------------------------


def guard_actor(policy: BillingPolicy) -> Any:
    """A copy of ``policy.changed_by`` whose display name is the policy's (the audit copies
    the display name; the operation's ``requested_by`` stays the real user)."""
    return _actor_for(policy.changed_by, policy.name)


def _actor_for(user: Any, policy_name: str) -> Any:
    """A copy of ``user`` whose display name says the policy acted (the audit copies the
    display name; user id and username stay the person's, who answers for the policy)."""
    if user is None:
        return None
    actor = copy.copy(user)
    name = f"billing guard: {policy_name} (last changed by {user.get_username()})"
    actor.get_full_name = lambda: name
    return actor


def on_operation_event(event: OperationEvent) -> None:
    """Operations listener: how a deallocation the guard asked for ended, recorded with the
    policy as the actor (the engine's own record names the person it acted for). Runs in
    the engine's transaction: once, with the end it records."""
    operation = event.operation
    if operation is None or event.kind != DEALLOCATE.kind:
        return
    if event.name not in ("succeeded", "failed", "canceled"):
        return
    name = str((operation.parameters or {}).get("billing_guard") or "")
    if not name:
        return
    record(
        action=f"billing_guard.deallocate.{event.name}",
        actor=_actor_for(operation.requested_by, name),
        target=event.target,
        outcome={
            "succeeded": Outcome.SUCCEEDED,
            "failed": Outcome.FAILED,
            "canceled": Outcome.CANCELED,
        }[event.name],
        parameters={"policy": name, "reason": (operation.parameters or {}).get("reason", "")},
        detail=operation.error_summary if event.name == "failed" else "",
        operation=operation,
    )


@dataclass(frozen=True)
class RunResult:
    policy: str
    enabled: bool
    planned: int
    queued: int
    already: int
    refused: int
    idle_reason: str = ""

    def __str__(self) -> str:
        if self.idle_reason:
            return f"{self.policy}: {self.idle_reason}"
        mode = "" if self.enabled else " (dry run: nothing sent)"
        return (
            f"{self.policy}{mode}: {self.planned} to deallocate, {self.queued} queued, "
            f"{self.already} already under way, {self.refused} refused"
        )


def policy_run(
    policy: BillingPolicy,
    *,
    now: datetime | None = None,
    book: PriceBook | None = None,
    claimed: set[str] | None = None,
) -> RunResult:
    """Apply one policy now: exactly the VMs its plan marks, in one transaction with the
    audit record of the run. ``claimed`` holds VMs another policy of this run already asked
    for (never two operations for one VM)."""
    now = now or timezone.now()
    claimed = claimed if claimed is not None else set()
    with transaction.atomic():
        # Locks the policy row: two guard runs racing apply it once (the second sees the date).
        policy = (
            BillingPolicy.objects.select_for_update(of=("self",))
            .select_related("changed_by")
            .get(pk=policy.pk)
        )
        plan = policy_plan(policy, now=now, book=book)
        if plan.preview or (plan.idle_reason and not plan.entries):
            return RunResult(policy.name, policy.enabled, 0, 0, 0, 0, plan.idle_reason)
        acting = [e for e in plan.acting if e.vm.azure_id not in claimed]
        if not policy.enabled:
            return RunResult(policy.name, False, len(acting), 0, 0, 0)
        actor = guard_actor(policy)
        if actor is None:
            record(
                action="billing_guard.run",
                target=Subject(kind=AUDIT_KIND, id=f"policy:{policy.pk}", name=policy.name),
                outcome=Outcome.REFUSED,
                detail=f"{policy.actor_name}: nobody answers for it (its last editor is gone).",
            )
            return RunResult(policy.name, True, len(acting), 0, 0, len(acting))
        queued = already = refused = 0
        if acting:
            items = [
                RequestItem(
                    target=e.vm.target,
                    subject=e.vm,
                    parameters={
                        "power_state_when_requested": e.vm.power_state,
                        "billing_guard": policy.name,
                        "policy": policy.pk,
                        "reason": e.reason,
                    },
                )
                for e in acting
            ]
            result = operation_request_many(kind=DEALLOCATE.kind, items=items, user=actor)
            queued, already, refused = len(result.created), len(result.already), len(result.refused)
        claimed.update(e.vm.azure_id for e in acting)
        if plan.on_date is not None:
            BillingPolicy.objects.filter(pk=policy.pk).update(last_acted_on=plan.on_date)
        record(
            action="billing_guard.run",
            actor=actor,
            target=Subject(kind=AUDIT_KIND, id=f"policy:{policy.pk}", name=policy.name),
            parameters={"policy": policy.name, "kind": policy.kind},
            result={
                "deallocate": [e.vm.name for e in acting][:200],
                "queued": queued,
                "already": already,
                "refused": refused,
                "skipped": len(plan.entries) - len(plan.acting),
                "estimated_daily_saving": str(plan.daily_saving),
            },
            detail=f"{policy.actor_name}: {queued} deallocations queued.",
        )
    return RunResult(policy.name, True, len(acting), queued, already, refused)


def guard_run(*, now: datetime | None = None) -> list[RunResult]:
    """Apply every policy (the schedule's task); dry-run policies only report."""
    now = now or timezone.now()
    book = price_book()
    claimed: set[str] = set()
    results = []
    for policy in BillingPolicy.objects.order_by("pk"):
        try:
            results.append(policy_run(policy, now=now, book=book, claimed=claimed))
        except Exception:  # one policy failing must not stop the others
            logger.exception("Billing guard policy %s failed", policy.name)
    return results


# --- Changing a policy --------------------------------------------------------------------------

AUDITED_FIELDS = (
    "name",
    "kind",
    "enabled",
    "stopped_minutes",
    "subscriptions",
    "resource_groups",
    "tags",
    "opt_out_tag",
    "time_zone",
    "quiet_start",
    "quiet_end",
    "at_time",
    "weekdays",
    "notice_minutes",
)


def policy_state(policy: BillingPolicy) -> dict[str, Any]:
    state = {}
    for name in AUDITED_FIELDS:
        value = getattr(policy, name)
        state[name] = value.isoformat() if isinstance(value, time) else value
    return state


def policy_save(
    *, policy: BillingPolicy, user: Any, before: dict[str, Any] | None, action: str = ""
) -> BillingPolicy:
    """Save a policy (new or changed) on behalf of ``user`` with its audit record (before
    and after), in one transaction: the change and its record commit together."""
    policy.changed_by = user
    policy.changed_at = timezone.now()
    after = policy_state(policy)
    with transaction.atomic():
        created = policy.pk is None
        policy.save()
        record(
            action=action
            or ("billing_guard.policy.created" if created else "billing_guard.policy.changed"),
            actor=user,
            target=Subject(kind=AUDIT_KIND, id=f"policy:{policy.pk}", name=policy.name),
            parameters={"before": before or {}, "after": after},
            detail=_changes_sentence(before or {}, after),
        )
    return policy


def _changes_sentence(before: dict[str, Any], after: dict[str, Any]) -> str:
    changed = [name for name in after if before.get(name) != after[name]]
    if not before:
        return "Policy created (dry run until switched on)."
    return "Changed: " + (", ".join(changed) if changed else "nothing")


def policy_delete(*, policy: BillingPolicy, user: Any) -> None:
    with transaction.atomic():
        record(
            action="billing_guard.policy.deleted",
            actor=user,
            target=Subject(kind=AUDIT_KIND, id=f"policy:{policy.pk}", name=policy.name),
            parameters={"before": policy_state(policy), "after": {}},
        )
        policy.delete()
