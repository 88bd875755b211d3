"""Azure carries an action out and the answer is lost (a 5xx, a timeout, a dropped connection
from ARM's front door): the action must still reach Azure exactly once, and the record must
end right. azure-core would resend a POST after a 500/503/504; the gateway does not
(contoso_images/azure/retry.py), and the engine looks at the VM before sending again."""

from __future__ import annotations

import pytest

from contoso_images.operations import engine
from tests.helpers import vm_in_state
from vmops.services import vm_action_request

pytestmark = pytest.mark.django_db

#: kind -> (the state its VM starts in, the state Azure shows at the end, the REST verb)
KINDS = {
    "start": ("deallocated", "running", "start"),
    "power_off": ("running", "stopped", "powerOff"),
    "deallocate": ("running", "deallocated", "deallocate"),
    "restart": ("running", "running", "restart"),
}
LOSSES = {
    "500": {"status": 500},
    "503": {"status": 503},
    "504": {"status": 504},
    "timeout": {"timeout": True},
    "dropped": {"drop": True},
}


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("kind", KINDS)
def test_an_action_whose_answer_is_lost_reaches_azure_once(
    kind, loss, inventory, emulator, operator_user
):
    start, end, verb = KINDS[kind]
    vm = vm_in_state(inventory, start)
    operation, _ = vm_action_request(vm=vm, kind=kind, user=operator_user)
    emulator.clear_request_log()
    emulator.queue_fault(method="POST", path_contains=f"/{verb}", applied=True, **LOSSES[loss])

    done = engine.run(operation_id=operation.pk)

    assert done.status == "succeeded", (done.error_code, done.error_summary)
    vm.refresh_from_db()
    assert vm.power_state == end
    posts = [
        e
        for e in emulator.request_log()
        if e.method == "POST" and e.path.split("?")[0].lower().endswith(f"/{verb.lower()}")
    ]
    assert [e.applied for e in posts] == [True], [(e.status, e.lost) for e in posts]
    assert posts[0].lost
    assert done.steps.get().message == engine.EARLIER_ATTEMPT
