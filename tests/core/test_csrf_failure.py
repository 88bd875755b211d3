"""A failed CSRF check is told apart from a role refusal, on the row and in the audit log."""

from __future__ import annotations

import pytest
from django.test import Client

from contoso_images.audit.models import AuditEvent
from contoso_images.operations.models import Operation
from tests.helpers import HX, vm_in_state

pytestmark = pytest.mark.django_db

SENTENCE = "Your session changed (signed in again in another tab?); reload the page and try again."


def test_a_stale_csrf_token_on_an_htmx_action_says_so_and_is_recorded(operator_user, inventory):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    vm = vm_in_state(inventory, "stopped")
    response = client.post(
        f"/vms/{vm.pk}/actions/deallocate/", headers={**HX, "HX-Target": vm.row_id}
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Refusal"] == "csrf"
    assert response.content.decode() == SENTENCE
    assert not Operation.objects.exists()
    denied = AuditEvent.objects.get(action="access.denied")
    assert denied.detail.startswith("CSRF check failed: ")
    assert "Nothing was sent." in denied.detail


def test_a_plain_form_post_with_a_stale_token_is_still_a_403(operator_user, inventory):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    vm = vm_in_state(inventory, "stopped")
    response = client.post(f"/vms/{vm.pk}/actions/deallocate/")
    assert response.status_code == 403
    assert response["X-Refusal"] == "csrf"


def test_the_page_script_gives_csrf_failures_their_own_sentence():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "static/js/app.js").read_text()
    assert 'getResponseHeader("X-Refusal") === "csrf"' in script
    assert SENTENCE in script
