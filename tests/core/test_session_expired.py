"""An action clicked after the session expired goes to sign-in; the person is told it was
not sent, on the sign-in page and again on their page once signed in (issue #20, item 6)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from contoso_images.operations.models import Operation
from tests.conftest import PASSWORD
from tests.helpers import HX, vm_in_state

pytestmark = pytest.mark.django_db

PAGE = "/vms/?q=web"
ON_SIGN_IN = "Your session had expired, so your last action was not sent."
AFTER = "was not sent: your session had expired"


def _next(location: str) -> str:
    return parse_qs(urlsplit(location).query)["next"][0]


def _sign_in(client, user, next_url: str):
    return client.post(
        "/login/", {"username": user.username, "password": PASSWORD, "next": next_url}
    )


def test_an_htmx_action_after_the_session_expired_says_it_was_not_sent(
    client, inventory, operator_user
):
    vm = vm_in_state(inventory, "stopped")
    response = client.post(
        f"/vms/{vm.pk}/actions/deallocate/",
        headers={**HX, "HX-Target": vm.row_id, "HX-Current-URL": f"http://testserver{PAGE}"},
    )
    assert response.status_code == 200
    location = response["HX-Redirect"]
    assert urlsplit(location).path == "/login/"
    back_to = _next(location)
    assert urlsplit(back_to).path == "/vms/" and "q=web" in back_to
    assert not Operation.objects.exists()

    sign_in_page = client.get(location).content.decode()
    assert ON_SIGN_IN in sign_in_page

    signed_in = _sign_in(client, operator_user, back_to)
    assert signed_in.status_code == 302 and signed_in["Location"] == back_to
    flagged = client.get(back_to)
    assert flagged.status_code == 302 and flagged["Location"] == PAGE  # the flag is dropped
    page = client.get(PAGE).content.decode()
    assert AFTER in page
    assert AFTER not in client.get(PAGE).content.decode()  # said once
    assert not Operation.objects.exists()


def test_a_plain_form_post_after_the_session_expired_returns_to_its_page_saying_so(
    client, inventory, operator_user
):
    vm = vm_in_state(inventory, "stopped")
    response = client.post(
        f"/vms/{vm.pk}/actions/deallocate/", headers={"Referer": f"http://testserver/vms/{vm.pk}/"}
    )
    assert response.status_code == 302
    back_to = _next(response["Location"])
    assert urlsplit(back_to).path == f"/vms/{vm.pk}/"
    assert ON_SIGN_IN in client.get(response["Location"]).content.decode()
    _sign_in(client, operator_user, back_to)
    assert client.get(back_to)["Location"] == f"/vms/{vm.pk}/"
    assert AFTER in client.get(f"/vms/{vm.pk}/").content.decode()


def test_a_referer_from_elsewhere_is_not_where_sign_in_returns(client, inventory):
    vm = vm_in_state(inventory, "stopped")
    response = client.post(
        f"/vms/{vm.pk}/actions/deallocate/", headers={"Referer": "https://evil.example/x"}
    )
    back_to = _next(response["Location"])
    assert urlsplit(back_to).netloc == ""
    assert urlsplit(back_to).path == f"/vms/{vm.pk}/actions/deallocate/"


def test_a_poll_after_the_session_expired_sends_nothing_and_says_nothing(client, inventory):
    vm = vm_in_state(inventory, "running")
    response = client.get(
        f"/vms/{vm.pk}/row/", headers={**HX, "HX-Current-URL": f"http://testserver{PAGE}"}
    )
    assert response["HX-Redirect"] == "/login/?next=%2Fvms%2F%3Fq%3Dweb"
    assert ON_SIGN_IN not in client.get(response["HX-Redirect"]).content.decode()
