"""One way to keep a cache in step with Azure, whatever it caches.

A *kind* of sync (the VM inventory, the catalog's custom images, ...) is registered once by
its app, in ``AppConfig.ready``, with the function that syncs one unit (a subscription, or a
scope such as a region). Everything around that function lives here, once:

- :func:`sync_run` is the one entry point (the schedule, "Refresh now" and the ``sync_*``
  commands all call it): it lists the units, claims each unit's :class:`SyncState` row in the
  database before syncing it (a conditional UPDATE that takes a lease the sync renews as it
  goes), so the schedule, a click and a second task cluster never run two syncs of one unit
  at once, and a claim abandoned by a dead worker expires; units run side by side, up to
  ``SYNC_PARALLEL_SUBSCRIPTIONS``;
- throttling: an :class:`AzureError` that says "throttled" records when Azure wants us back,
  and every sync of that unit but a forced one waits until then;
- :func:`sync_request` is "Refresh now": one queued sync per window however many people
  click on however many processes; a click while the unit is being synced makes that sync
  run once more when it ends, so the page gets a sync that started after the click;
- :func:`sync_status` is what the page shows, for any kind.

Core never imports the apps: they hand their kind over with :func:`register`.

Adding a kind (retail prices per region, say) takes:

1. a ``SyncResult`` subclass with its counts, and a function syncing one claimed
   :class:`SyncUnit` (``unit.subscription``, or ``unit.scope`` for a kind with ``scopes=``),
   calling ``unit.keep_alive()`` as pages arrive and marking nothing gone until its listing
   is complete (``read_ahead`` overlaps reading the next page with writing this one);
2. ``sync.register(SyncKind(name=..., sync=..., result=..., task=..., every=..., ...))`` in
   the app's ``AppConfig.ready`` (this also schedules it) and its interval setting;
3. the task ``task`` names: ``return sync_report(sync_run(NAME))``;
4. two URLs pointing at ``core.sync_views.sync_refresh`` / ``sync_status_view`` with
   ``{"kind": NAME}``, and ``{% include "core/includes/sync_status.html" %}`` on the page
   with ``sync = sync_status(NAME, user=request.user)`` in its context.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, connections
from django.db.models import Q
from django.utils import timezone

from contoso_images import azure
from contoso_images.core import roles, schedules
from contoso_images.core.models import Subscription, SyncRequest, SyncState
from contoso_images.core.services import subscriptions_sync, sync_request_claim
from contoso_images.core.users import Person

logger = logging.getLogger(__name__)

#: A sync renews its claim at most this often (a third of the lease): one UPDATE per few pages.
RENEW_FRACTION = 3
#: A sync asked for again while it ran runs again at most this many times in a row.
MAX_RERUNS = 5
SKIPPED_THROTTLED = "skipped: Azure asked us to wait"
SKIPPED_RUNNING = "skipped: a sync of it is already running"
TAKEN_OVER = "stopped: its claim expired and another worker took the sync over"


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """What one sync of one unit did, or why it did not run. Each kind subclasses it with
    its own counts (and ``__str__``); a unit skipped or failed gets the subclass, empty."""

    unit: str
    error: str = ""
    throttled_until: datetime | None = None

    def __str__(self) -> str:
        return f"{self.unit}: {self.error or 'synced'}"


# --- kinds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncKind:
    """Everything core needs to know about one kind of sync.

    ``sync`` syncs one unit and returns its result (an instance of ``result``); it raises
    :class:`AzureError` when Azure failed, which is recorded on the unit's state, and must
    only mark things gone once its whole listing has been read. It calls
    ``unit.keep_alive()`` now and then (every page, say) so a long sync keeps its claim.
    """

    #: The key: ``SyncState.kind``, ``SyncRequest.name``, task names and the schedule name.
    name: str
    sync: Callable[[SyncUnit], SyncResult]
    result: type[SyncResult]
    #: Dotted path of the app's task: the schedule and "Refresh now" queue it.
    task: str
    #: The setting holding the schedule's interval in seconds.
    every: str
    #: URL names of the page showing the status, of the status poll and of "Refresh now".
    page: str
    status_url: str
    refresh_url: str
    #: Who may see the status; and the action (``core.roles.register_action_permission``)
    #: whose holders may ask Azure now, so apps above the owner can add their own roles.
    view_permission: str
    refresh_action: str
    #: What a refresh refreshes, in a sentence: "Refreshing the inventory from Azure".
    noun: str
    synced_text: str = "Last synced"
    never_synced_text: str = "Not synced yet"
    #: The status block's element id and the event it sends the page once synced.
    element_id: str = ""
    event: str = ""
    #: The units to sync when they are not the subscriptions: scopes such as regions.
    scopes: Callable[[], list[str]] | None = None

    @property
    def dom_id(self) -> str:
        return self.element_id or f"{self.name}-sync-status"

    @property
    def synced_event(self) -> str:
        return self.event or f"{self.name}-synced"

    def may_view(self, user: Person) -> bool:
        return bool(user.has_perm(self.view_permission))

    def may_refresh(self, user: Person) -> bool:
        return self.may_view(user) and roles.user_may(user, self.refresh_action)


_kinds: dict[str, SyncKind] = {}


def register(kind: SyncKind) -> None:
    """Declare a kind of sync and its schedule (idempotent: apps call it from ``ready``)."""
    _kinds[kind.name] = kind
    schedules.register(f"{kind.name}-sync", kind.task, every=kind.every)


def kind_get(name: str) -> SyncKind:
    """The registered kind called ``name`` (KeyError for an unknown one)."""
    return _kinds[name]


def registered() -> list[SyncKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.name)


# --- one unit, claimed -----------------------------------------------------------------------


class SyncTakenOver(Exception):
    """This sync's claim expired while it was silent and another worker holds it now."""


@dataclass
class SyncUnit:
    """One unit of a kind, claimed for this sync: what the kind's function syncs."""

    state: SyncState
    #: When this sync began asking Azure: rows written after it hold newer news.
    started_at: datetime
    token: str
    _renewed_at: float = field(default=0.0, repr=False)

    @property
    def subscription(self) -> Subscription:
        """The subscription of a subscription kind (ValueError for a scope kind)."""
        if self.state.subscription is None:
            raise ValueError(f"{self.state} is not a subscription's sync")
        return self.state.subscription

    @property
    def scope(self) -> str:
        return self.state.scope

    @property
    def label(self) -> str:
        return self.state.unit_label

    def keep_alive(self) -> None:
        """Renew the lease (at most every third of it); raises :class:`SyncTakenOver` when
        the claim is gone, so a sync that stalled past its lease stops writing."""
        now = timezone.now()
        lease = lease_seconds()
        if now.timestamp() - self._renewed_at < lease / RENEW_FRACTION:
            return
        renewed = SyncState.objects.filter(pk=self.state.pk, claimed_by=self.token).update(
            claimed_until=now + timedelta(seconds=lease)
        )
        if not renewed:
            raise SyncTakenOver(str(self.state))
        self._renewed_at = now.timestamp()


def lease_seconds() -> float:
    return float(getattr(settings, "SYNC_LEASE_SECONDS", 300))


def parallel_units() -> int:
    return max(1, int(getattr(settings, "SYNC_PARALLEL_SUBSCRIPTIONS", 2)))


def _new_token() -> str:
    """Names the claiming worker: host, process, thread, and a nonce for this claim."""
    return (
        f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:12]}"
    )[:200]


def _claim(state: SyncState, *, force: bool) -> SyncUnit | None:
    """Claim the unit with one conditional UPDATE: free (or its lease expired) and, unless
    forced, not asked by Azure to wait. None when another sync holds it or Azure said wait."""
    now = timezone.now()
    token = _new_token()
    rows = SyncState.objects.filter(pk=state.pk).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )
    if not force:
        rows = rows.filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
    if not rows.update(claimed_by=token, claimed_until=now + timedelta(seconds=lease_seconds())):
        return None
    return SyncUnit(state=state, started_at=now, token=token, _renewed_at=now.timestamp())


def _release(unit: SyncUnit) -> None:
    SyncState.objects.filter(pk=unit.state.pk, claimed_by=unit.token).update(
        claimed_by="", claimed_until=None
    )


def _skipped(kind: SyncKind, state: SyncState, *, force: bool) -> SyncResult:
    state.refresh_from_db(fields=["retry_after", "claimed_until"])
    now = timezone.now()
    if not force and state.retry_after and state.retry_after > now:
        return kind.result(
            state.unit_label, error=SKIPPED_THROTTLED, throttled_until=state.retry_after
        )
    return kind.result(state.unit_label, error=SKIPPED_RUNNING)


def _sync_once(kind: SyncKind, unit: SyncUnit) -> SyncResult:
    """Run the kind's function on a claimed unit and record how it went."""
    label = unit.label
    try:
        result = kind.sync(unit)
    except azure.AzureError as exc:
        retry_at = None
        if exc.is_throttled:
            retry_at = unit.started_at + timedelta(seconds=exc.retry_after or 60)
        SyncState.objects.filter(pk=unit.state.pk).update(error=exc.sentence, retry_after=retry_at)
        logger.warning("%s sync of %s failed: %s", kind.name, label, exc)
        return kind.result(label, error=exc.sentence, throttled_until=retry_at)
    except SyncTakenOver:
        logger.warning("%s sync of %s %s", kind.name, label, TAKEN_OVER)
        return kind.result(label, error=TAKEN_OVER)
    SyncState.objects.filter(pk=unit.state.pk).update(
        synced_at=unit.started_at, error="", retry_after=None
    )
    return result


def _asked_again_since(kind: SyncKind, moment: datetime) -> bool:
    """Someone clicked "Refresh now" after ``moment`` (their task may have found the unit
    busy and left it to the sync running then)."""
    return SyncRequest.objects.filter(name=kind.name, requested_at__gt=moment).exists()


def _sync_unit(kind: SyncKind, state: SyncState, *, force: bool) -> SyncResult:
    """Claim, sync, release; once more if a refresh was asked for while it ran."""
    result: SyncResult | None = None
    for _ in range(1 + MAX_RERUNS):
        unit = _claim(state, force=force)
        if unit is None:
            return result or _skipped(kind, state, force=force)
        try:
            result = _sync_once(kind, unit)
        finally:
            _release(unit)
        if result.error or not _asked_again_since(kind, unit.started_at):
            return result
    assert result is not None
    return result


# --- reading ahead ---------------------------------------------------------------------------

_Item = TypeVar("_Item")
_DONE = object()
#: How often a reader waiting on a full queue looks whether the consumer gave up (seconds).
_READER_POLL = 0.5


def read_ahead(items: Iterable[_Item], *, depth: int = 2) -> Iterator[_Item]:
    """``items`` read by a thread of its own, at most ``depth`` ahead of the caller.

    A listing's next page is fetched and parsed while the caller writes the one before
    (SQLite and PostgreSQL drivers release the GIL while they work; Azure's answer takes
    network time), so the two overlap instead of taking turns; memory holds ``depth``
    pages more. An exception raised while reading is raised to the caller after the items
    before it. The reader must not use the database (it has no transaction of the caller's).
    If the caller stops early, the reader stops after the item it is reading.
    """
    ahead: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        """Hand an entry over; False once the caller has stopped reading."""
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=_READER_POLL)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the caller, who raises it
            put((_DONE, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=reader, name="sync-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ahead.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()


# --- the entry point -------------------------------------------------------------------------


def _state_of(kind: SyncKind, subscription: Subscription) -> SyncState:
    state, _ = SyncState.objects.get_or_create(kind=kind.name, subscription=subscription)
    state.subscription = subscription
    return state


def _states(kind: SyncKind) -> list[SyncState]:
    """The unit rows of a kind, created on first sight: every subscription the gateway
    manages (the ones known in the database when Azure cannot list them), or the scopes."""
    if kind.scopes is not None:
        return [
            SyncState.objects.get_or_create(kind=kind.name, subscription=None, scope=scope)[0]
            for scope in kind.scopes()
        ]
    try:
        subscriptions = subscriptions_sync()
    except azure.AzureError as exc:
        logger.warning("Listing subscriptions failed: %s", exc)
        subscriptions = list(Subscription.objects.all())
    return [_state_of(kind, subscription) for subscription in subscriptions]


def _in_thread(kind: SyncKind, state: SyncState, force: bool) -> SyncResult:
    try:
        return _sync_unit(kind, state, force=force)
    finally:
        connections.close_all()  # this thread's connections only


def sync_run(
    name: str, *, force: bool = False, subscription: Subscription | None = None
) -> list[SyncResult]:
    """Sync every unit of the kind called ``name`` (or only ``subscription``); one result
    per unit, in unit order.

    ``force`` ignores Azure's "wait until" (the ``sync_*`` commands), never another sync's
    claim. Units run side by side up to ``SYNC_PARALLEL_SUBSCRIPTIONS``, except inside a
    transaction (a test's, say), which other threads could not see: there they run in turn.
    """
    kind = kind_get(name)
    states = [_state_of(kind, subscription)] if subscription is not None else _states(kind)
    workers = 1 if connection.in_atomic_block else min(parallel_units(), len(states))
    if workers <= 1:
        return [_sync_unit(kind, state, force=force) for state in states]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{name}-sync") as pool:
        return list(pool.map(lambda state: _in_thread(kind, state, force), states))


def sync_report(results: list[SyncResult]) -> str:
    """The task's answer, as django-q2 keeps it: one sentence per unit."""
    return "; ".join(str(result) for result in results)


def sync_request(name: str) -> bool:
    """Queue a sync of the kind now ("Refresh now"), once however often it is asked for;
    True when one was queued.

    The database decides, not a per-process cache: a conditional UPDATE claims the window,
    so four web processes without Redis still queue one sync for twenty clicks.
    """
    from django_q.tasks import async_task

    kind = kind_get(name)
    if not sync_request_claim(kind.name, timezone.now()):
        return False
    async_task(kind.task, task_name=f"{kind.name}-sync-now", group=f"{kind.name}-sync")
    return True


# --- what the page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    kind: SyncKind
    last_synced_at: datetime | None
    #: Units whose last sync failed (throttled ones included: the page says so once).
    errors: list[SyncState]
    throttled_until: datetime | None
    may_refresh: bool


def sync_status(name: str, *, user: Person) -> SyncStatus:
    """How the kind's syncs went, for the status block of its page (one query)."""
    kind = kind_get(name)
    states = list(SyncState.objects.filter(kind=kind.name).select_related("subscription"))
    synced = [s.synced_at for s in states if s.synced_at]
    throttled = [s.retry_after for s in states if s.retry_after]
    return SyncStatus(
        kind=kind,
        last_synced_at=max(synced) if synced else None,
        errors=[s for s in states if s.error],
        throttled_until=max(throttled) if throttled else None,
        may_refresh=kind.may_refresh(user),
    )
