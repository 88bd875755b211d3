"""Subscriptions: which ones the dashboard manages, recorded from Azure."""

from __future__ import annotations

from contoso_images import azure
from contoso_images.core.models import Subscription


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
