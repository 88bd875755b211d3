""" "Refresh now" and the sync status the list page watches."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contoso_images.core.models import SyncState
from tests.helpers import HX

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """View tests check what the request does; the engine is covered in test_power_actions."""
    monkeypatch.setattr("contoso_images.operations.engine.enqueue", lambda pk: None)


def test_refresh_with_htmx_returns_the_sync_status(operator_client, inventory, monkeypatch):
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    response = operator_client.post("/vms/refresh/", headers=HX)
    assert response.status_code == 200
    assert 'id="sync-status"' in response.content.decode()
    assert len(calls) == 1


def test_refresh_without_htmx_redirects(operator_client, inventory, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    response = operator_client.post("/vms/refresh/", follow=True)
    assert "Refreshing the inventory from Azure" in response.content.decode()


def test_sync_status_triggers_reload_once_synced(operator_client, inventory):
    since = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    response = operator_client.get("/vms/sync-status/", {"since": since}, headers=HX)
    assert response["HX-Trigger"] == '{"inventory-synced": {}}'
    future = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    response = operator_client.get("/vms/sync-status/", {"since": future}, headers=HX)
    assert "HX-Trigger" not in response
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert operator_client.get("/vms/sync-status/?since=garbage", headers=HX).status_code == 200
    naive = operator_client.get("/vms/sync-status/?since=2024-01-01T00:00:00", headers=HX)
    assert naive.status_code == 200


def test_throttled_sync_says_so_on_the_page(operator_client, inventory):
    SyncState.objects.filter(kind="inventory").update(
        retry_after=timezone.now() + timezone.timedelta(minutes=5),
        error="Azure is throttling requests.",
    )
    html = operator_client.get("/vms/").content.decode()
    assert "Azure is throttling requests; the next sync waits until" in html


def test_sync_status_stops_waiting_and_says_the_cluster_is_not_running(operator_client, inventory):
    long_ago = timezone.now() - timezone.timedelta(minutes=5)
    SyncState.objects.filter(kind="inventory").update(
        synced_at=long_ago - timezone.timedelta(minutes=1)
    )
    since = (long_ago + timezone.timedelta(seconds=1)).isoformat()
    html = operator_client.get("/vms/sync-status/", {"since": since}, headers=HX).content.decode()
    assert 'hx-trigger="every' not in html
    assert "the task cluster does not seem to be running (No task cluster has run yet.)" in html


def test_refresh_is_queued_once_however_often_it_is_clicked(
    operator_client, inventory, monkeypatch
):
    from django.core.cache import cache

    cache.clear()
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    for _ in range(3):
        operator_client.post("/vms/refresh/", headers=HX)
    assert len(calls) == 1


def test_reviewers_cannot_refresh_and_do_not_see_the_button(
    reviewer_client, inventory, monkeypatch
):
    """#12.9: a read-only role could POST "Refresh now" (it makes Azure calls for everyone)."""
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    assert reviewer_client.post("/vms/refresh/", headers=HX).status_code == 403
    assert calls == []
    assert "Refresh now" not in reviewer_client.get("/vms/").content.decode()
