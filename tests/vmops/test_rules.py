"""The state rules behind every enabled and disabled action button."""

from __future__ import annotations

import pytest

from vmops.rules import action_availability, grouped_reasons, vm_action_choices
from vmops.specs import power_spec


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
    (step,) = power_spec(kind).steps
    assert step.shows_done(state) is done


def test_reasons_shared_by_several_actions_show_once():
    class Vm:
        power_state, generalized, gone_at = "deallocating", False, None

    choices = vm_action_choices(vm=Vm())
    assert [c.allowed for c in choices] == [False] * 4
    assert grouped_reasons(choices) == [
        ("Start, Stop, Deallocate, Restart", "The VM is deallocating; wait for it.")
    ]
