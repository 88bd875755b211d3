"""The billing pages: figures on the VM page, policies, dry runs, switching on, skip tonight,
savings; permissions and CSRF on every new POST."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from contoso_images.audit.models import AuditEvent
from contoso_images.core.sync import sync_run
from tests.factories import UserFactory
from tests.helpers import vm_in_state
from vmops.models import BillingPolicy, ComputePrice, Deallocation, PolicyKind, VirtualMachine
from vmops.services.guard import policy_save
from vmops.services.prices import PRICES

pytestmark = pytest.mark.django_db

POLICY_FORM = {
    "name": "Stopped for an hour",
    "kind": "stopped_for",
    "stopped_minutes": "60",
    "opt_out_tag": "contoso-keep-allocated=true",
    "time_zone": "UTC",
    "notice_minutes": "0",
}


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


@pytest.fixture
def admin(db):
    return UserFactory(username="ann-admin", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def _text(response) -> str:
    return unescape(response.content.decode())


def test_stopped_vm_page_says_what_it_costs_while_stopped(operator_client, inventory):
    vm = vm_in_state(inventory, "stopped")
    sync_run(PRICES)
    VirtualMachine.objects.filter(pk=vm.pk).update(
        settled_power_state="stopped", settled_at=timezone.now() - timedelta(hours=3)
    )
    html = _text(operator_client.get(f"/vms/{vm.pk}/"))
    assert "What it costs" in html
    price = ComputePrice.objects.filter(region=vm.location.lower(), size=vm.size.lower()).first()
    if price is None:
        assert "no price found" in html
    else:
        assert "for compute while stopped" in html and "so far since it stopped" in html
    assert (
        "Estimate at list price in USD, before discounts, reservations and savings plans." in html
    )


def test_deallocated_vm_page_says_disks_are_still_billed(operator_client, inventory):
    vm = vm_in_state(inventory, "deallocated")
    sync_run(PRICES)
    html = _text(operator_client.get(f"/vms/{vm.pk}/"))
    assert "Disks still billed about <strong>$" in html and "/month" in html


def test_running_vm_page_shows_price_per_hour_and_day(operator_client, inventory):
    vm = vm_in_state(inventory, "running")
    sync_run(PRICES)
    html = _text(operator_client.get(f"/vms/{vm.pk}/"))
    assert "/hour" in html or "no price found" in html


def test_admin_creates_a_policy_sees_its_dry_run_and_switches_it_on(admin_client, admin, inventory):
    response = admin_client.post("/billing/policies/new/", POLICY_FORM)
    assert response.status_code == 302
    policy = BillingPolicy.objects.get()
    assert not policy.enabled and policy.changed_by == admin
    html = _text(admin_client.get(f"/billing/policies/{policy.pk}/"))
    assert "Dry run: it sends nothing until switched on" in html
    assert "would be deallocated" in html
    admin_client.post(f"/billing/policies/{policy.pk}/switch/", {"enabled": "on"})
    policy.refresh_from_db()
    assert policy.enabled
    actions = list(
        AuditEvent.objects.filter(action__startswith="billing_guard.policy").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["billing_guard.policy.created", "billing_guard.policy.switched_on"]


def test_bad_policy_input_is_a_form_error(admin_client):
    bad = {**POLICY_FORM, "time_zone": "Mars/Olympus", "kind": "time_of_day"}
    response = admin_client.post("/billing/policies/new/", bad)
    assert response.status_code == 400
    html = _text(response)
    assert "Mars/Olympus is not a time zone name" in html
    assert "Choose at least one weekday." in html
    assert BillingPolicy.objects.count() == 0
    assert admin_client.post("/billing/policies/1/switch/", {"enabled": "x"}).status_code in (
        400,
        404,
    )


def _policy(admin) -> BillingPolicy:
    return policy_save(
        policy=BillingPolicy(name="P", kind=PolicyKind.STOPPED_FOR, stopped_minutes=60),
        user=admin,
        before=None,
    )


def test_operators_see_policies_and_dry_runs_but_may_not_change_them(
    operator_client, admin, inventory
):
    policy = _policy(admin)
    assert operator_client.get("/billing/").status_code == 200
    assert "would be deallocated" in _text(operator_client.get(f"/billing/policies/{policy.pk}/"))
    assert operator_client.get("/billing/policies/new/").status_code == 403
    assert operator_client.post("/billing/policies/new/", POLICY_FORM).status_code == 403
    assert (
        operator_client.post(f"/billing/policies/{policy.pk}/edit/", POLICY_FORM).status_code == 403
    )
    assert (
        operator_client.post(
            f"/billing/policies/{policy.pk}/switch/", {"enabled": "on"}
        ).status_code
        == 403
    )
    assert operator_client.post(f"/billing/policies/{policy.pk}/delete/").status_code == 403
    policy.refresh_from_db()
    assert not policy.enabled


@pytest.mark.parametrize("who", ["reviewer_client", "auditor_client"])
def test_reviewers_and_auditors_read_policies_without_dry_runs(request, who, admin):
    client = request.getfixturevalue(who)
    policy = _policy(admin)
    assert client.get("/billing/").status_code == 200
    html = _text(client.get(f"/billing/policies/{policy.pk}/"))
    assert policy.name in html and "would be deallocated" not in html
    assert (
        client.post(f"/billing/policies/{policy.pk}/switch/", {"enabled": "on"}).status_code == 403
    )


def test_people_without_a_role_see_nothing(client, roleless_user, admin):
    client.force_login(roleless_user)
    policy = _policy(admin)
    assert client.get("/billing/").status_code == 403
    assert client.get(f"/billing/policies/{policy.pk}/").status_code == 403
    assert client.get("/billing/savings/").status_code == 403


def test_every_new_post_needs_the_csrf_token(admin, operator_user, inventory):
    policy = _policy(admin)
    vm = vm_in_state(inventory, "running")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    for url, data in (
        ("/billing/policies/new/", POLICY_FORM),
        (f"/billing/policies/{policy.pk}/edit/", POLICY_FORM),
        (f"/billing/policies/{policy.pk}/switch/", {"enabled": "on"}),
        (f"/billing/policies/{policy.pk}/delete/", {}),
        (f"/vms/{vm.pk}/skip-tonight/", {"policy": policy.pk}),
        ("/billing/prices/refresh/", {}),
    ):
        assert strict.post(url, data).status_code == 403, url
    policy.refresh_from_db()
    assert not policy.enabled


def test_skip_tonight_needs_a_notice_and_operate(operator_client, reviewer_user, admin, inventory):
    vm = vm_in_state(inventory, "running")
    policy = _policy(admin)
    reviewer = Client()
    reviewer.force_login(reviewer_user)
    assert reviewer.post(f"/vms/{vm.pk}/skip-tonight/", {"policy": policy.pk}).status_code == 403
    # No notice is running for this VM: a 409 with a sentence, not a 500.
    response = operator_client.post(f"/vms/{vm.pk}/skip-tonight/", {"policy": policy.pk})
    assert response.status_code == 409
    assert operator_client.post(f"/vms/{vm.pk}/skip-tonight/", {"policy": "x"}).status_code == 400


def test_savings_page_shows_the_figure(operator_client, operator_user, inventory):
    vm = vm_in_state(inventory, "deallocated")
    Deallocation.objects.create(
        vm=vm,
        operation_id=1,
        requested_by=operator_user,
        started_at=timezone.now() - timedelta(hours=10),
        hourly=Decimal("0.10"),
        currency="USD",
    )
    html = _text(operator_client.get("/billing/savings/"))
    assert "$1.00" in html and "olivia-operator" in html
    assert "Saved so far by deallocating it from here" in _text(
        operator_client.get(f"/vms/{vm.pk}/")
    )
