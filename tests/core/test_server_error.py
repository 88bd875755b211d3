"""A 500 says what is known (issue #20, item 7): after an action was queued the server can
still fail drawing the answer, so an htmx click is not told "nothing was changed"."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from contoso_images.core import failures
from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from tests.helpers import HX, vm_in_state

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "static/js/app.js"


@pytest.fixture
def failing_client(operator_user, monkeypatch):
    """A client that gets the 500 page, as a browser would, instead of the exception; the
    answer drawn after the action was queued raises."""
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)

    def boom(*args, **kwargs):
        raise RuntimeError("the row could not be drawn")

    monkeypatch.setattr("vmops.views.vm._render_state", boom)
    monkeypatch.setattr("vmops.views.vm.redirect_back", boom)
    client = Client(raise_request_exception=False)
    client.force_login(operator_user)
    return client


def test_an_htmx_click_that_fails_after_queueing_is_told_it_may_have_been_queued(
    failing_client, inventory
):
    vm = vm_in_state(inventory, "stopped")
    response = failing_client.post(
        f"/vms/{vm.pk}/actions/deallocate/", headers={**HX, "HX-Target": vm.row_id}
    )
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text == failures.SERVER_FAILED
    assert "may or may not have been queued" in text and "Nothing was changed" not in text
    assert Operation.objects.filter(kind="vm.deallocate").exists()  # it was queued indeed


def test_a_page_that_fails_gets_the_500_page(failing_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = failing_client.post(f"/vms/{vm.pk}/actions/deallocate/", {"confirm": "yes"})
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Something went wrong" in response.content.decode()


def test_the_page_script_never_says_nothing_changed_after_a_server_failure():
    script = SCRIPT.read_text()
    assert "xhr.status >= 500" in script
    assert "The action may or may not " in script
