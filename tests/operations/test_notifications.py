"""The notification bell: each user's own operations, their outcomes, unread until seen."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contoso_images.operations.models import Operation
from contoso_images.operations.notifications import notification_summary
from tests.factories import (
    OperationFactory,
    SubscriptionFactory,
    UserFactory,
    VirtualMachineFactory,
)
from tests.helpers import HX

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm(db):
    sub = SubscriptionFactory(subscription_id="1111-2222", display_name="Contoso Pilot Dev")
    return VirtualMachineFactory(subscription=sub, name="dev-sql-01")


def _failed(vm, user, **extra):
    return OperationFactory(
        vm=vm,
        kind="vm.start",
        status="failed",
        requested_by=user,
        finished_at=timezone.now(),
        error_code="AllocationFailed",
        error_summary="Azure has no capacity for this size in the region right now.",
        **extra,
    )


def test_bell_counts_failures_unread_until_seen_and_what_is_in_progress(
    operator_client, operator_user, vm
):
    _failed(vm, operator_user)
    other = VirtualMachineFactory(subscription=vm.subscription)
    OperationFactory(vm=other, kind="vm.deallocate", status="running", requested_by=operator_user)
    OperationFactory(vm=VirtualMachineFactory(), kind="vm.start", status="failed")  # not theirs
    response = operator_client.get("/notifications/bell/", headers=HX)
    html = response.content.decode()
    assert html.startswith('<a id="bell" class="bell bell-alert"')
    # Visible words, not a title only a mouse can read.
    assert '<span class="badge badge-failed">1 failed</span>' in html
    assert '<span class="badge badge-busy">1 running</span>' in html
    assert "title=" not in html
    assert 'hx-trigger="every 5s, operations-changed from:body"' in html
    assert 'data-failure-text="Start of dev-sql-01 failed: Azure has no capacity' in html


def test_bell_polls_slowly_when_nothing_is_under_way(operator_client):
    html = operator_client.get("/notifications/bell/", headers=HX).content.decode()
    assert 'hx-trigger="every 60s, operations-changed from:body"' in html
    assert "badge" not in html


def test_page_lists_the_users_operations_with_links_and_subscription_names(
    operator_client, operator_user, vm
):
    _failed(vm, operator_user)
    html = operator_client.get("/notifications/").content.decode()
    assert f'href="/vms/resource/?id={vm.azure_id}">dev-sql-01</a>' in html
    assert "rg-test · Contoso Pilot Dev</span>" in html and "· 1111-2222" not in html
    assert "AllocationFailed" in html and '<span class="badge badge-new">new</span>' in html


def test_opening_the_page_marks_what_it_showed_as_seen_with_a_post(
    operator_client, operator_user, vm
):
    shown = _failed(vm, operator_user)
    html = operator_client.get("/notifications/").content.decode()
    assert f'<input type="hidden" name="op" value="{shown.pk}">' in html
    assert 'hx-post="/notifications/seen/" hx-trigger="load"' in html
    # The bell waits for that POST, so it never shows the counts from before it.
    bell = html.split('<a id="bell"')[1].split(">")[0]
    assert 'hx-trigger="operations-changed from:body"' in bell
    shown.refresh_from_db()
    assert shown.outcome_seen_at is None  # a GET changes nothing
    later = _failed(VirtualMachineFactory(subscription=vm.subscription), operator_user)
    response = operator_client.post("/notifications/seen/", {"op": [shown.pk]}, headers=HX)
    assert response.status_code == 204
    assert response["HX-Trigger"] == '{"operations-changed": {}}'
    shown.refresh_from_db()
    later.refresh_from_db()
    assert shown.outcome_seen_at is not None
    assert later.outcome_seen_at is None  # it ended after the page was drawn
    assert notification_summary(user=operator_user).unread_failures == 1


def test_nobody_marks_someone_elses_outcomes(operator_client, vm):
    theirs = _failed(vm, UserFactory(username="someone-else"))
    operator_client.post("/notifications/seen/", {"op": [theirs.pk, "²"]})
    theirs.refresh_from_db()
    assert theirs.outcome_seen_at is None


def test_marking_seen_needs_post_and_csrf(operator_user, vm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    op = _failed(vm, operator_user)
    assert client.get("/notifications/seen/").status_code == 405
    assert client.post("/notifications/seen/", {"op": [op.pk]}).status_code == 403
    op.refresh_from_db()
    assert op.outcome_seen_at is None


def test_bell_and_page_take_a_fixed_number_of_queries(operator_client, operator_user, vm):
    def count(url, **headers):
        with CaptureQueriesContext(connection) as ctx:
            assert operator_client.get(url, headers=headers).status_code == 200
        return len(ctx.captured_queries)

    _failed(vm, operator_user)
    small = (count("/notifications/bell/", **HX), count("/notifications/"))
    for _ in range(30):
        _failed(VirtualMachineFactory(subscription=vm.subscription), operator_user)
    assert (count("/notifications/bell/", **HX), count("/notifications/")) == small


def test_bell_fragment_url_sends_a_page_load_to_the_page(operator_client):
    assert operator_client.get("/notifications/bell/")["Location"] == "/notifications/"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/notifications/")["Location"].startswith("/login/")
    assert not Operation.objects.exists()
