"""The state rules behind every enabled and disabled action button."""

from __future__ import annotations

import pytest

from vmops.power import POWER_ACTIONS, power_action
from vmops.rules import VmState


def action_availability(*, kind, power_state, generalized, gone=False, busy_with=""):
    state = VmState(power_state, generalized=generalized, gone=gone, busy_with=busy_with)
    return power_action(kind).availability(state)


def primary_action(*, power_state, generalized):
    state = VmState(power_state, generalized=generalized)
    primary = [a.value for a in POWER_ACTIONS if a.is_primary(state)]
    assert len(primary) <= 1, primary
    return primary[0] if primary else ""


@pytest.mark.parametrize(
    ("kind", "power_state", "allowed"),
    [
        ("start", "stopped", True),
        ("start", "deallocated", True),
        ("start", "running", False),
        ("power_off", "running", True),
        ("power_off", "stopped", False),
        ("power_off", "deallocated", False),
        ("deallocate", "running", True),
        ("deallocate", "stopped", True),
        ("deallocate", "deallocated", False),
        ("restart", "running", True),
        ("restart", "stopped", False),
        ("restart", "deallocated", False),
        ("start", "unknown", True),
    ],
)
def test_power_rules(kind, power_state, allowed):
    result = action_availability(kind=kind, power_state=power_state, generalized=False)
    assert result.allowed is allowed
    assert bool(result.reason) is not allowed


@pytest.mark.parametrize("state", ["starting", "stopping", "deallocating"])
@pytest.mark.parametrize("kind", ["start", "power_off", "deallocate", "restart"])
def test_nothing_while_the_vm_is_in_transition(kind, state):
    result = action_availability(kind=kind, power_state=state, generalized=False)
    assert not result.allowed
    assert "wait for it" in result.reason


@pytest.mark.parametrize("kind", ["start", "power_off", "restart"])
def test_generalized_vm_cannot_be_started_or_stopped(kind):
    for state in ("stopped", "deallocated"):
        result = action_availability(kind=kind, power_state=state, generalized=True)
        assert not result.allowed
        assert result.reason.startswith("Generalized VMs cannot be started again")


def test_generalized_vm_still_allocated_may_be_deallocated_to_stop_billing():
    assert action_availability(kind="deallocate", power_state="stopped", generalized=True).allowed
    assert not action_availability(
        kind="deallocate", power_state="deallocated", generalized=True
    ).allowed


def test_gone_and_busy_vms_say_why():
    gone = action_availability(kind="start", power_state="stopped", generalized=False, gone=True)
    assert gone.reason == "This VM no longer exists in Azure."
    busy = action_availability(
        kind="start", power_state="stopped", generalized=False, busy_with="Deallocate"
    )
    assert busy.reason == "Deallocate is already in progress."


@pytest.mark.parametrize(
    ("kind", "state", "done"),
    [
        ("deallocate", "deallocated", True),
        ("deallocate", "stopped", False),
        ("power_off", "stopped", True),
        ("power_off", "deallocated", True),
        ("start", "running", True),
        ("restart", "running", False),
    ],
)
def test_already_done_needs_no_call(kind, state, done):
    assert (state in power_action(kind).done_in) is done


def test_reasons_shared_by_several_actions_show_once():
    from django.utils import timezone

    from vmops.models import VirtualMachine
    from vmops.rows import vm_row

    vm = VirtualMachine(pk=1, name="web-01", power_state="deallocating", reported_at=timezone.now())
    row = vm_row(vm, None, can_operate=True)
    assert [a.allowed for a in row.actions] == [False] * 4
    assert row.offered == []
    assert row.idle_reason == "The VM is deallocating; wait for it."
    assert row.reasons == [
        ("Start, Stop, Deallocate, Restart", "The VM is deallocating; wait for it.")
    ]


@pytest.mark.parametrize(
    ("state", "generalized", "primary"),
    [
        ("running", False, "power_off"),
        ("stopped", False, "deallocate"),
        ("deallocated", False, "start"),
        ("stopped", True, "deallocate"),
        ("deallocated", True, ""),
        ("starting", False, ""),
    ],
)
def test_the_primary_action_is_what_the_state_most_often_asks_for(state, generalized, primary):
    assert primary_action(power_state=state, generalized=generalized) == primary


@pytest.mark.parametrize(
    ("kind", "state", "asks"),
    [
        ("restart", "running", True),
        ("deallocate", "running", True),
        ("deallocate", "unknown", True),
        ("deallocate", "stopped", False),  # only stopped: one click
        ("power_off", "running", True),
        ("start", "deallocated", False),
    ],
)
def test_which_actions_ask_first_naming_the_vm(kind, state, asks):
    question = power_action(kind).confirmation(power_state=state, name="sql-prod-01")
    assert bool(question) is asks
    assert not question or "sql-prod-01" in question


def test_offered_actions_put_the_primary_first():
    from django.utils import timezone

    from vmops.models import VirtualMachine
    from vmops.rows import vm_row

    vm = VirtualMachine(pk=2, name="b", power_state="stopped", reported_at=timezone.now())
    row = vm_row(vm, None, can_operate=True)
    assert [a.kind for a in row.offered] == ["deallocate", "start"]
    assert [a.kind for a in row.actions][2:] == ["power_off", "restart"]


@pytest.mark.parametrize(
    "state",
    [
        VmState("stopped", gone=True),
        VmState("stopped", busy_with="Deallocate"),
        VmState("deallocating"),
    ],
)
def test_captures_and_power_actions_share_the_guards(state):
    from vmops.capture.rules import capture_availability

    reasons = {power_action(a).availability(state).reason for a in ("start", "deallocate")}
    reasons.add(capture_availability(kind="gallery_generalized", state=state).reason)
    assert len(reasons) == 1 and reasons != {""}


def test_a_capture_of_a_generalized_vm_must_be_generalized():
    from vmops.capture.rules import capture_availability

    state = VmState("deallocated", generalized=True)
    assert capture_availability(kind="gallery_generalized", state=state).allowed
    specialized = capture_availability(kind="gallery_specialized", state=state)
    assert specialized.reason == "A generalized VM can only be captured as a generalized image."


def test_each_power_action_is_one_spec_and_its_label_is_read_from_it():
    from vmops.choices import PowerAction
    from vmops.forms import BulkActionForm

    assert [a.action for a in POWER_ACTIONS] == list(PowerAction)
    assert [a.label for a in PowerAction] == [a.label for a in POWER_ACTIONS]
    assert [a.label for a in POWER_ACTIONS] == ["Start", "Stop", "Deallocate", "Restart"]
    choices = BulkActionForm.base_fields["action"].choices
    assert choices == [(a.value, a.label) for a in POWER_ACTIONS]
    with pytest.raises(KeyError):
        power_action("hibernate")
