"""The notification bell and the page of the signed-in user's recent operations."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from contoso_images.core.htmx import HtmxHttpRequest
from contoso_images.operations.notifications import (
    notification_summary,
    outcomes_mark_seen,
    recent_notifications,
)

#: The bell polls quickly only while something of the user's is under way.
BUSY_POLL_SECONDS = 5
IDLE_POLL_SECONDS = 60
_ID = re.compile(r"\A[0-9]{1,18}\Z")


@require_GET
@vary_on_headers("HX-Request")
def notifications(request: HttpRequest) -> HttpResponse:
    """Every signed-in user sees their own operations (nothing to check beyond sign-in)."""
    items = recent_notifications(user=request.user)
    unread_ids = [item.operation.pk for item in items if item.unread]
    context = {
        "items": items,
        "unread_ids": unread_ids,
        # The bell loads once these are marked seen, not beside that POST with stale counts.
        "bell_after_seen": bool(unread_ids),
    }
    return render(request, "operations/notifications.html", context)


@require_GET
def notifications_bell(request: HtmxHttpRequest) -> HttpResponse:
    if not request.htmx:
        return redirect("operations:notifications")
    summary = notification_summary(user=request.user)
    context = {
        "summary": summary,
        "poll_seconds": BUSY_POLL_SECONDS if summary.in_progress else IDLE_POLL_SECONDS,
    }
    return render(request, "operations/notifications.html#bell", context)


@require_POST
def notifications_seen(request: HtmxHttpRequest) -> HttpResponse:
    """Mark the outcomes the page showed as seen (a POST: opening the page sends it)."""
    ids = [int(v) for v in request.POST.getlist("op") if _ID.match(v)]
    outcomes_mark_seen(user=request.user, ids=ids)
    if request.htmx:
        response = HttpResponse(status=204)
        trigger_client_event(response, "operations-changed")
        return response
    return redirect("operations:notifications")
