"""Core's one sync pattern: claim, lease, throttling, "Refresh now", parallel units, kinds.

A made-up kind stands in for the apps' (the inventory and catalog have their own tests):
its sync function records what it was handed and does what each test tells it to.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contoso_images import azure
from contoso_images.core import schedules, sync
from contoso_images.core.models import Subscription, SyncRequest, SyncState
from contoso_images.core.sync import SyncKind, SyncResult, SyncUnit, sync_run, sync_status

NAME = "testkind"


@dataclass(frozen=True)
class CountResult(SyncResult):
    counted: int = 0


class Recorder:
    """The kind's sync function: records each unit it syncs, then runs ``self.then``."""

    def __init__(self) -> None:
        self.units: list[SyncUnit] = []
        self.then: Any = None
        self.lock = threading.Lock()

    def __call__(self, unit: SyncUnit) -> CountResult:
        with self.lock:
            self.units.append(unit)
        if self.then is not None:
            self.then(unit)
        return CountResult(unit.label, counted=len(self.units))


def _kind(recorder: Recorder, **overrides: Any) -> SyncKind:
    fields: dict[str, Any] = {
        "name": NAME,
        "sync": recorder,
        "result": CountResult,
        "task": "tests.core.test_sync.task",
        "every": "TESTKIND_SYNC_SECONDS",
        "page": "vmops:vm_list",
        "status_url": "vmops:vm_sync_status",
        "refresh_url": "vmops:vm_refresh",
        "view_permission": "vmops.view_virtualmachine",
        "refresh_action": "vmops.refresh_inventory",
        "noun": "the test cache",
        **overrides,
    }
    return SyncKind(**fields)


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setitem(sync._kinds, NAME, _kind(rec))
    return rec


@pytest.fixture
def subscriptions(emulator, db) -> list[Subscription]:
    """The emulated tenant's two subscriptions, as the gateway lists them."""
    from contoso_images.core.services import subscriptions_sync

    return subscriptions_sync()


def _state(subscription: Subscription) -> SyncState:
    return SyncState.objects.get(kind=NAME, subscription=subscription)


# --- one run --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_subscription_is_synced_once_and_its_state_recorded(recorder, subscriptions):
    before = timezone.now()
    results = sync_run(NAME)
    assert [r.unit for r in results] == [str(s) for s in subscriptions]
    assert all(isinstance(r, CountResult) and not r.error for r in results)
    assert [u.subscription for u in recorder.units] == subscriptions
    for unit in recorder.units:
        state = _state(unit.subscription)
        assert state.synced_at == unit.started_at >= before
        assert (state.error, state.retry_after, state.claimed_by) == ("", None, "")
        assert state.claimed_until is None  # released


@pytest.mark.django_db
def test_a_unit_claimed_by_another_sync_is_skipped_without_calling_azure(recorder, subscriptions):
    first, second = subscriptions
    SyncState.objects.create(
        kind=NAME,
        subscription=first,
        claimed_by="other-host:1:1:abc",
        claimed_until=timezone.now() + timedelta(minutes=2),
    )
    results = sync_run(NAME)
    assert results[0].error == sync.SKIPPED_RUNNING
    assert [u.subscription for u in recorder.units] == [second]
    assert _state(first).claimed_by == "other-host:1:1:abc"  # not taken, not released


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_expires(recorder, subscriptions):
    first = subscriptions[0]
    SyncState.objects.create(
        kind=NAME,
        subscription=first,
        claimed_by="dead-host:1:1:abc",
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    results = sync_run(NAME, subscription=first)
    assert results[0].error == ""
    assert [u.subscription for u in recorder.units] == [first]
    assert _state(first).claimed_by == ""


@pytest.mark.django_db
def test_two_claims_of_one_unit_cannot_both_win(recorder, subscriptions):
    state = SyncState.objects.create(kind=NAME, subscription=subscriptions[0])
    winner = sync._claim(state, force=True)
    assert winner is not None
    assert sync._claim(state, force=True) is None
    sync._release(winner)
    assert sync._claim(state, force=True) is not None


@pytest.mark.django_db
def test_a_sync_whose_claim_was_taken_over_stops_writing(recorder, subscriptions, settings):
    """A sync silent past its lease has lost the unit: keep_alive says so, and it stops."""
    settings.SYNC_LEASE_SECONDS = 0  # every keep_alive renews

    def taken_over(unit: SyncUnit) -> None:
        SyncState.objects.filter(pk=unit.state.pk).update(claimed_by="another-worker")
        unit.keep_alive()
        raise AssertionError("keep_alive should have stopped the sync")

    recorder.then = taken_over
    (result,) = sync_run(NAME, subscription=subscriptions[0])
    assert result.error == sync.TAKEN_OVER
    state = _state(subscriptions[0])
    assert state.synced_at is None and state.error == ""
    assert state.claimed_by == "another-worker"  # left to the one that holds it


@pytest.mark.django_db
def test_keep_alive_renews_the_lease(recorder, subscriptions, settings):
    settings.SYNC_LEASE_SECONDS = 0
    seen = []

    def renew(unit: SyncUnit) -> None:
        settings.SYNC_LEASE_SECONDS = 600
        unit._renewed_at = 0.0
        unit.keep_alive()
        seen.append(SyncState.objects.get(pk=unit.state.pk).claimed_until)

    recorder.then = renew
    sync_run(NAME, subscription=subscriptions[0])
    assert seen[0] > timezone.now() + timedelta(seconds=500)


# --- failures and throttling ----------------------------------------------------------------


@pytest.mark.django_db
def test_throttling_is_recorded_and_only_a_forced_sync_goes_before_it(recorder, subscriptions):
    def throttled(unit: SyncUnit) -> None:
        raise azure.AzureError("TooManyRequests", "Slow down.", status_code=429, retry_after=120)

    recorder.then = throttled
    first = subscriptions[0]
    (result,) = sync_run(NAME, subscription=first)
    state = _state(first)
    assert result.throttled_until == state.retry_after
    assert state.retry_after > timezone.now() + timedelta(seconds=100)
    assert "throttl" in state.error.lower() and state.claimed_by == ""
    recorder.then = None
    (skipped,) = sync_run(NAME, subscription=first)
    assert skipped.error == sync.SKIPPED_THROTTLED and skipped.throttled_until
    assert len(recorder.units) == 1
    (forced,) = sync_run(NAME, subscription=first, force=True)
    assert forced.error == "" and len(recorder.units) == 2
    state.refresh_from_db()
    assert (state.error, state.retry_after) == ("", None)


@pytest.mark.django_db
def test_an_azure_failure_is_recorded_with_its_sentence(recorder, subscriptions):
    def fails(unit: SyncUnit) -> None:
        raise azure.AzureError("AuthorizationFailed", "No.", status_code=403)

    recorder.then = fails
    (result,) = sync_run(NAME, subscription=subscriptions[0])
    state = _state(subscriptions[0])
    assert result.error == state.error and "not allowed" in state.error
    assert state.synced_at is None and state.retry_after is None


@pytest.mark.django_db
def test_a_bug_releases_the_claim_and_is_raised(recorder, subscriptions):
    def bug(unit: SyncUnit) -> None:
        raise ZeroDivisionError

    recorder.then = bug
    with pytest.raises(ZeroDivisionError):
        sync_run(NAME, subscription=subscriptions[0])
    state = _state(subscriptions[0])
    assert (state.claimed_by, state.claimed_until) == ("", None)


# --- "Refresh now" --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refresh_asked_for_while_a_sync_runs_gets_a_sync_that_started_after_it(
    recorder, subscriptions, monkeypatch
):
    """The click's own task finds the unit busy and skips; the running sync runs again."""
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    first = subscriptions[0]
    clicks = []

    def click_during_first_run(unit: SyncUnit) -> None:
        if len(recorder.units) == 1:
            assert sync.sync_request(NAME) is True
            clicks.append(SyncRequest.objects.get(name=NAME).requested_at)
            (busy,) = sync_run(NAME, subscription=first)  # the click's task, meanwhile
            assert busy.error == sync.SKIPPED_RUNNING

    recorder.then = click_during_first_run
    (result,) = sync_run(NAME, subscription=first)
    assert result.error == ""
    assert len(recorder.units) == 2
    assert recorder.units[1].started_at > clicks[0]
    assert _state(first).synced_at == recorder.units[1].started_at


@pytest.mark.django_db
def test_sync_request_queues_the_kinds_task_once_per_window(recorder, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append((a, k)))
    assert sync.sync_request(NAME) is True
    assert sync.sync_request(NAME) is False
    assert queued == [
        (
            ("tests.core.test_sync.task",),
            {"task_name": f"{NAME}-sync-now", "group": f"{NAME}-sync"},
        )
    ]


# --- side by side ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_subscriptions_are_synced_side_by_side_up_to_the_setting(recorder, emulator, settings):
    from contoso_images.core.services import subscriptions_sync

    settings.SYNC_PARALLEL_SUBSCRIPTIONS = 2
    subscriptions = subscriptions_sync()
    both_inside = threading.Barrier(2, timeout=30)
    threads = set()

    def meet(unit: SyncUnit) -> None:
        threads.add(threading.get_ident())
        both_inside.wait()  # only passes when the other subscription is being synced too

    recorder.then = meet
    results = sync_run(NAME)
    assert [r.error for r in results] == ["", ""]
    assert [r.unit for r in results] == [str(s) for s in subscriptions]
    assert len(threads) == 2 and threading.get_ident() not in threads
    assert SyncState.objects.filter(kind=NAME, synced_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_inside_a_transaction_units_run_in_turn_in_the_callers_thread(
    recorder, subscriptions, settings
):
    settings.SYNC_PARALLEL_SUBSCRIPTIONS = 4
    threads = []
    recorder.then = lambda unit: threads.append(threading.get_ident())
    sync_run(NAME)
    assert threads == [threading.get_ident()] * 2


# --- kinds whose unit is not a subscription, status, registration ---------------------------


@pytest.mark.django_db
def test_a_kind_can_sync_scopes_instead_of_subscriptions(monkeypatch):
    recorder = Recorder()
    kind = _kind(recorder, scopes=lambda: ["westeurope", "eastus"])
    monkeypatch.setitem(sync._kinds, NAME, kind)

    def eastus_fails(unit: SyncUnit) -> None:
        if unit.scope == "eastus":
            raise azure.AzureError("ServiceUnavailable", "Down.", status_code=503)

    recorder.then = eastus_fails
    results = sync_run(NAME)
    assert [r.unit for r in results] == ["westeurope", "eastus"]
    assert [u.scope for u in recorder.units] == ["westeurope", "eastus"]
    with pytest.raises(ValueError, match="not a subscription"):
        _ = recorder.units[0].subscription
    states = SyncState.objects.filter(kind=NAME, subscription__isnull=True)
    assert {s.scope for s in states} == {"westeurope", "eastus"}
    status = sync_status(NAME, user=_user_with())
    assert [s.unit_label for s in status.errors] == ["eastus"]
    assert status.last_synced_at == SyncState.objects.get(scope="westeurope").synced_at


def _user_with(*perms: str) -> Any:
    class User:
        def has_perm(self, perm: str) -> bool:
            return perm in perms

    return User()


@pytest.mark.django_db
def test_status_says_when_the_kind_last_synced_what_failed_and_who_may_refresh(
    recorder, subscriptions
):
    now = timezone.now()
    first, second = subscriptions
    SyncState.objects.create(kind=NAME, subscription=first, synced_at=now)
    SyncState.objects.create(
        kind=NAME,
        subscription=second,
        synced_at=now - timedelta(hours=1),
        error="Throttled.",
        retry_after=now + timedelta(minutes=5),
    )
    SyncState.objects.create(kind="other", subscription=first, synced_at=now + timedelta(hours=1))
    viewer = _user_with("vmops.view_virtualmachine")
    status = sync_status(NAME, user=viewer)
    assert status.last_synced_at == now
    assert [s.subscription for s in status.errors] == [second]
    assert status.throttled_until == now + timedelta(minutes=5)
    assert status.may_refresh is False
    operator = _user_with("vmops.view_virtualmachine", "vmops.operate_virtualmachine")
    assert sync_status(NAME, user=operator).may_refresh is True
    assert sync_status(NAME, user=_user_with("vmops.operate_virtualmachine")).may_refresh is False


def test_registering_a_kind_registers_its_schedule(monkeypatch):
    monkeypatch.setattr(sync, "_kinds", {})
    monkeypatch.setattr(schedules, "_registry", {})
    kind = _kind(Recorder())
    sync.register(kind)
    assert sync.kind_get(NAME) is kind and sync.registered() == [kind]
    assert schedules.registered() == [
        schedules.ScheduledTask(
            f"{NAME}-sync", "tests.core.test_sync.task", "TESTKIND_SYNC_SECONDS"
        )
    ]


def test_the_apps_register_the_inventory_and_the_catalog():
    inventory, catalog = sync.kind_get("inventory"), sync.kind_get("catalog")
    assert (inventory.task, inventory.every) == (
        "vmops.tasks.inventory_sync_scheduled",
        "INVENTORY_SYNC_SECONDS",
    )
    assert (catalog.task, catalog.every) == (
        "catalog.tasks.catalog_sync_scheduled",
        "CATALOG_SYNC_SECONDS",
    )
    names = {task.name for task in schedules.registered()}
    assert {"inventory-sync", "catalog-sync"} <= names


# --- reading ahead --------------------------------------------------------------------------


def test_read_ahead_yields_in_order_and_raises_where_the_reader_failed():
    def pages():
        yield from ([1], [2], [3])
        raise azure.AzureError("InternalServerError", "Boom.", status_code=500)

    seen = []
    with pytest.raises(azure.AzureError, match="Boom"):
        for page in sync.read_ahead(pages(), depth=2):
            seen.append(page)
    assert seen == [[1], [2], [3]]


def test_read_ahead_reads_in_another_thread_at_most_depth_ahead():
    read, caller = [], threading.get_ident()

    def pages():
        for n in range(10):
            read.append((n, threading.get_ident()))
            yield n

    reader = sync.read_ahead(pages(), depth=2)
    assert next(reader) == 0
    assert len(read) <= 1 + 2 + 1  # the one handed over, two waiting, one in hand
    assert list(reader) == list(range(1, 10))
    assert {thread for _, thread in read} != {caller}


def test_a_caller_that_stops_early_stops_the_reader():
    closed = threading.Event()

    def pages():
        try:
            yield from range(1000)
        finally:
            closed.set()

    for n in sync.read_ahead(pages(), depth=1):
        if n == 2:
            break
    assert closed.wait(5)  # the reader closed the listing instead of reading it all
