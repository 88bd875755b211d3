"""The billing guard: its dry run, its runs on the operations engine, the time-of-day policy
across DST, notices and "skip tonight", and the audit of policies and their actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contoso_images.audit.models import AuditEvent
from contoso_images.operations.models import Operation
from tests.factories import (
    OperationFactory,
    SubscriptionFactory,
    UserFactory,
    VirtualMachineFactory,
)
from vmops.models import BillingPolicy, ComputePrice, PolicyKind, PolicySkip, VirtualMachine
from vmops.services import guard
from vmops.services.guard import fire_moment, guard_run, policy_plan, policy_save

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def admin(db):
    return UserFactory(username="ann-admin", is_superuser=True, is_staff=True)


def _policy(admin, **fields) -> BillingPolicy:
    values = {"name": "Stopped too long", "kind": PolicyKind.STOPPED_FOR, "stopped_minutes": 60}
    values.update(fields)
    return policy_save(policy=BillingPolicy(**values), user=admin, before=None)


def _stopped(minutes: int, **fields) -> VirtualMachine:
    values = {
        "power_state": "stopped",
        "settled_power_state": "stopped",
        "settled_at": NOW - timedelta(minutes=minutes),
        "location": "eastus",
        "size": "Standard_D2s_v5",
    }
    values.update(fields)
    return VirtualMachineFactory(**values)


def _price():
    ComputePrice.objects.create(
        region="eastus",
        size="standard_d2s_v5",
        os_type="Linux",
        currency="USD",
        hourly=Decimal("0.096"),
        fetched_at=NOW,
    )


def _acting(plan) -> set[str]:
    return {entry.vm.name for entry in plan.acting}


def test_dry_run_lists_what_and_why_with_the_daily_saving(admin):
    _price()
    old = _stopped(90, name="old")
    _stopped(30, name="recent")
    VirtualMachineFactory(name="running", power_state="running")
    VirtualMachineFactory(name="gone", power_state="stopped", gone_at=NOW)
    plan = policy_plan(_policy(admin), now=NOW)
    assert _acting(plan) == {"old"}
    reasons = {e.vm.name: (e.decision, e.reason) for e in plan.entries}
    assert reasons["old"] == ("deallocate", "Stopped (allocated) for 90 minutes, more than 60.")
    assert reasons["recent"][0] == "skip" and "30 minutes" in reasons["recent"][1]
    assert "running" not in reasons and "gone" not in reasons
    assert plan.daily_saving == Decimal("0.096") * 24
    assert plan.daily_saving_text == "$2.30"
    assert old.pk in {e.vm.pk for e in plan.acting}


def test_opt_out_tag_always_wins(admin):
    _stopped(600, name="kept", tags={"Contoso-Keep-Allocated": "TRUE", "env": "dev"})
    _stopped(600, name="taken", tags={"env": "dev"})
    plan = policy_plan(_policy(admin, tags={"env": "dev"}), now=NOW)
    assert _acting(plan) == {"taken"}
    kept = next(e for e in plan.entries if e.vm.name == "kept")
    assert "Opted out" in kept.reason


def test_scope_by_subscription_resource_group_and_tag(admin):
    sub = SubscriptionFactory()
    _stopped(600, name="in", subscription=sub, resource_group="rg-dev", tags={"team": "a"})
    _stopped(600, name="other-rg", subscription=sub, resource_group="rg-prod", tags={"team": "a"})
    _stopped(600, name="other-tag", subscription=sub, resource_group="rg-dev", tags={"team": "b"})
    _stopped(600, name="other-sub", resource_group="rg-dev", tags={"team": "a"})
    policy = _policy(
        admin, subscriptions=[sub.subscription_id], resource_groups=["RG-DEV"], tags={"team": "a"}
    )
    assert _acting(policy_plan(policy, now=NOW)) == {"in"}


def test_quiet_hours_act_on_nothing(admin):
    _stopped(600, name="old")
    policy = _policy(
        admin, quiet_start=time(11, 0), quiet_end=time(13, 0), time_zone="UTC", enabled=True
    )
    plan = policy_plan(policy, now=NOW)
    assert plan.acting == [] and "Quiet hours" in plan.idle_reason
    guard_run(now=NOW)
    assert Operation.objects.count() == 0
    # Across midnight too.
    policy.quiet_start, policy.quiet_end = time(22, 0), time(6, 0)
    assert guard.in_quiet_hours(policy, NOW.replace(hour=23))
    assert not guard.in_quiet_hours(policy, NOW)


def test_a_vm_with_an_operation_or_capture_under_way_is_left_alone(admin):
    busy = _stopped(600, name="busy")
    OperationFactory(vm=busy, kind="capture.vm", status="running")
    _stopped(600, name="free")
    plan = policy_plan(_policy(admin), now=NOW)
    assert _acting(plan) == {"free"}
    assert "under way" in next(e for e in plan.entries if e.vm.name == "busy").reason


def test_dry_run_mode_sends_nothing(admin):
    _stopped(600, name="old")
    _policy(admin)
    results = guard_run(now=NOW)
    assert Operation.objects.count() == 0
    assert "dry run" in str(results[0])


def test_the_run_deallocates_exactly_what_the_dry_run_listed_once(admin):
    _price()
    for minutes in (10, 70, 200, 5000):
        _stopped(minutes, name=f"vm-{minutes}")
    _stopped(900, name="opted", tags={"contoso-keep-allocated": "true"})
    policy = _policy(admin, enabled=True)
    listed = _acting(policy_plan(policy, now=NOW))
    guard_run(now=NOW)
    operations = Operation.objects.filter(kind="vm.deallocate")
    assert {o.target_name for o in operations} == listed == {"vm-70", "vm-200", "vm-5000"}
    assert all(o.requested_by == admin for o in operations)
    assert all(o.parameters["billing_guard"] == policy.name for o in operations)
    # A second run (a second policy too) never makes a second operation for a VM.
    _policy(admin, name="Second", enabled=True)
    guard_run(now=NOW)
    assert Operation.objects.filter(kind="vm.deallocate").count() == 3
    requested = AuditEvent.objects.filter(action="vm.deallocate.requested")
    assert requested.count() == 3
    assert {e.actor_display for e in requested} == {
        "billing guard: Stopped too long (last changed by ann-admin)"
    }
    run = AuditEvent.objects.filter(action="billing_guard.run").order_by("sequence").first()
    assert run.result_data["queued"] == 3
    assert run.actor_username == "ann-admin"


def test_policy_changes_are_audited_before_and_after(admin):
    policy = _policy(admin)
    before = guard.policy_state(policy)
    policy.enabled = True
    policy_save(policy=policy, user=admin, before=before)
    event = AuditEvent.objects.filter(action="billing_guard.policy.changed").get()
    assert event.parameters_data["before"]["enabled"] is False
    assert event.parameters_data["after"]["enabled"] is True
    assert event.detail == "Changed: enabled"
    assert event.actor_username == "ann-admin"


def _evening(admin, **fields):
    values = {
        "name": "Evening",
        "kind": PolicyKind.TIME_OF_DAY,
        "at_time": time(19, 0),
        "time_zone": "Europe/Amsterdam",
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "tags": {"shutdown": "evening"},
        "enabled": True,
    }
    values.update(fields)
    return _policy(admin, **values)


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 28), 18),  # Saturday, CET (UTC+1)
        (date(2026, 3, 29), 17),  # Sunday: clocks went forward at 02:00, CEST (UTC+2)
        (date(2026, 10, 24), 17),  # Saturday, CEST
        (date(2026, 10, 25), 18),  # Sunday: clocks went back at 03:00, CET
    ],
)
def test_time_of_day_keeps_the_wall_clock_across_dst(admin, day, utc_hour):
    policy = _evening(admin)
    assert fire_moment(policy, day) == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    vm = VirtualMachineFactory(name="desk", power_state="running", tags={"shutdown": "evening"})
    moment = datetime.combine(day, time(utc_hour), tzinfo=UTC)
    early = policy_plan(policy, now=moment - timedelta(minutes=1))
    # Before its time the dry run previews what it would do then, and the run does nothing.
    assert early.preview and _acting(early) == {"desk"} and "Not its time" in early.idle_reason
    guard_run(now=moment - timedelta(minutes=1))
    assert Operation.objects.count() == 0
    plan = policy_plan(policy, now=moment + timedelta(minutes=1))
    assert _acting(plan) == {"desk"}
    guard_run(now=moment + timedelta(minutes=1))
    assert Operation.objects.filter(target_key=vm.azure_id).count() == 1
    policy.refresh_from_db()
    assert policy.last_acted_on == day
    # Once a day: the next run that day does nothing, even after the VM is started again.
    Operation.objects.update(status="succeeded")
    guard_run(now=moment + timedelta(minutes=6))
    assert Operation.objects.filter(target_key=vm.azure_id).count() == 1


def test_a_spring_gap_time_acts_after_the_gap(admin):
    policy = _evening(admin, at_time=time(2, 30))
    # 02:30 does not exist in Amsterdam on 2026-03-29: read with the winter offset, it is
    # 01:30 UTC (03:30 summer time), once.
    assert fire_moment(policy, date(2026, 3, 29)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 happens twice on 2026-10-25: the first (summer time, 00:30 UTC) is the one.
    assert fire_moment(policy, date(2026, 10, 25)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_time_of_day_only_on_chosen_weekdays_and_not_hours_late(admin):
    policy = _evening(admin, weekdays=[0])  # Mondays
    VirtualMachineFactory(name="desk", power_state="running", tags={"shutdown": "evening"})
    monday = datetime(2026, 12, 7, 18, 5, tzinfo=UTC)  # 19:05 in Amsterdam
    assert _acting(policy_plan(policy, now=monday)) == {"desk"}
    assert not policy_plan(policy, now=monday).preview
    assert policy_plan(policy, now=monday + timedelta(days=1)).preview  # Tuesday: next Monday
    assert policy_plan(policy, now=monday + timedelta(hours=3)).preview  # too late today
    guard_run(now=monday + timedelta(hours=3))
    assert Operation.objects.count() == 0


def test_notice_and_skip_tonight(admin, operator_user):
    policy = _evening(admin, notice_minutes=60)
    vm = VirtualMachineFactory(name="desk", power_state="running", tags={"shutdown": "evening"})
    before = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # 18:30 in Amsterdam
    notices = guard.vm_notices(vm, now=before)
    assert [n.local_time for n in notices] == ["19:00"]
    assert guard.vm_notices(vm, now=before - timedelta(hours=1)) == []
    PolicySkip.objects.create(
        policy=policy, vm=vm, on_date=date(2026, 12, 7), skipped_by=operator_user, skipped_at=before
    )
    plan = policy_plan(policy, now=before + timedelta(minutes=31))
    assert not plan.preview and plan.acting == []
    assert "skip it tonight" in plan.entries[0].reason


def test_dry_run_of_10000_vms_in_a_constant_number_of_queries(admin):
    _price()
    policy = _policy(admin)
    sub = SubscriptionFactory()
    VirtualMachine.objects.bulk_create(
        VirtualMachine(
            subscription=sub,
            resource_group="rg",
            name=f"bulk-{i}",
            azure_id=f"/x/{i}",
            location="eastus",
            size="Standard_D2s_v5",
            os_type="Linux",
            power_state="stopped",
            settled_power_state="stopped",
            settled_at=NOW - timedelta(hours=2),
            reported_at=NOW,
        )
        for i in range(10_000)
    )
    with CaptureQueriesContext(connection) as queries:
        plan = policy_plan(policy, now=NOW)
    assert len(plan.acting) == 10_000
    assert len(queries) <= 5
