""" "Refresh now" and the sync status a page watches, for every kind of sync.

Each app points its own URLs (and URL names) at these two views with ``kind=`` (its
registered :class:`~contoso_images.core.sync.SyncKind`); the kind says who may see and who
may refresh, which page to go back to and what the block says.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from contoso_images.core.health import health_report
from contoso_images.core.htmx import HtmxHttpRequest, since_param
from contoso_images.core.sync import SyncKind, kind_get, sync_request, sync_status

#: After this long without the requested sync, the page stops waiting and says why.
SYNC_WAIT_LIMIT = timedelta(minutes=2)
STATUS_TEMPLATE = "core/includes/sync_status.html"


def _kind_for(request: HttpRequest, name: str) -> SyncKind:
    kind = kind_get(name)
    if not request.user.is_authenticated or not kind.may_view(request.user):
        raise PermissionDenied
    return kind


@require_POST
def sync_refresh(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    """Queue a sync now (once, however often it is clicked); the page watches until it ran.

    Only the roles the kind names: it makes Azure calls on behalf of everyone.
    """
    sync_kind = _kind_for(request, kind)
    if not sync_kind.may_refresh(request.user):
        raise PermissionDenied(f"Your role may not refresh {sync_kind.noun} from Azure.")
    requested_at = timezone.now()
    sync_request(sync_kind.name)
    if request.htmx:
        return _status_response(request, sync_kind, since=requested_at)
    messages.info(request, f"Refreshing {sync_kind.noun} from Azure; the list updates in a moment.")
    return redirect(sync_kind.page)


@require_GET
def sync_status_view(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    sync_kind = _kind_for(request, kind)
    if not request.htmx:
        return redirect(sync_kind.page)
    return _status_response(request, sync_kind, since=since_param(request))


def _status_response(
    request: HttpRequest, kind: SyncKind, *, since: datetime | None
) -> HttpResponse:
    sync = sync_status(kind.name, user=request.user)
    waiting = since is not None and (sync.last_synced_at is None or sync.last_synced_at < since)
    waiting = waiting and not sync.errors
    stalled = since is not None and waiting and timezone.now() - since > SYNC_WAIT_LIMIT
    context: dict[str, Any] = {
        "sync": sync,
        "sync_waiting": waiting and not stalled,
        "sync_stalled": stalled,
        "sync_since": since.isoformat() if since else "",
    }
    if stalled:
        context["cluster_detail"] = health_report()["cluster"]["detail"]
    response = render(request, STATUS_TEMPLATE, context)
    if since is not None and not waiting:
        trigger_client_event(response, kind.synced_event)
    return response
