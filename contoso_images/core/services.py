"""Subscriptions (which ones the dashboard manages, recorded from Azure), and the claim that
keeps "Refresh now" to one sync however many people click it on however many processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from contoso_images import azure
from contoso_images.core.models import Subscription, SyncRequest

#: Clicks within this many seconds of a queued sync ask for nothing more.
SYNC_REQUEST_WINDOW_SECONDS = 30


def subscriptions_sync() -> list[Subscription]:
    """Record the subscriptions the gateway manages (one ARM call), keeping their sync state."""
    found = azure.subscriptions()
    known = {s.subscription_id: s for s in Subscription.objects.all()}
    result = []
    for sub in found:
        row = known.get(sub.id)
        if row is None:
            row = Subscription.objects.create(subscription_id=sub.id, display_name=sub.display_name)
        elif row.display_name != sub.display_name and sub.display_name:
            row.display_name = sub.display_name
            row.save(update_fields=["display_name"])
        result.append(row)
    return result


def sync_request_claim(name: str, now: datetime) -> bool:
    """True when this caller may queue the ``name`` sync now (none was asked for within
    SYNC_REQUEST_WINDOW_SECONDS); the database decides, not a per-process cache."""
    window_start = now - timedelta(seconds=SYNC_REQUEST_WINDOW_SECONDS)
    claimed = SyncRequest.objects.filter(name=name, requested_at__lte=window_start).update(
        requested_at=now
    )
    if claimed:
        return True
    _, created = SyncRequest.objects.get_or_create(name=name, defaults={"requested_at": now})
    return created
