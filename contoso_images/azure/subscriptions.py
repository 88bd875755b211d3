"""Subscriptions the dashboard manages, and the regions of one of them.

With ``AZURE_SUBSCRIPTION_IDS`` empty, every subscription the credential can see is managed (in
emulator mode: the emulator's). When set, only those, in that order.
"""

from __future__ import annotations

from contoso_images.azure.clients import subscription_client
from contoso_images.azure.config import current
from contoso_images.azure.errors import gateway_call
from contoso_images.azure.raw import as_raw, obj, text
from contoso_images.azure.types import Region, Subscription


@gateway_call
def subscriptions() -> list[Subscription]:
    seen = [
        Subscription(
            id=text(raw, "subscriptionId"),
            display_name=text(raw, "displayName") or text(raw, "subscriptionId"),
            state=text(raw, "state"),
        )
        for raw in (as_raw(s) for s in subscription_client().subscriptions.list())
    ]
    wanted = current().subscription_ids
    if not wanted:
        return seen
    by_id = {s.id.lower(): s for s in seen}
    # A configured subscription the credential cannot list still shows up, with no state.
    return [
        by_id.get(sub.lower(), Subscription(id=sub, display_name=sub, state="")) for sub in wanted
    ]


@gateway_call
def regions(subscription_id: str) -> list[Region]:
    """Physical regions of the subscription, by display name (logical "geography" ones dropped)."""
    result = []
    for location in subscription_client().subscriptions.list_locations(subscription_id):
        raw = as_raw(location)
        if text(obj(raw, "metadata"), "regionType").lower() == "logical":
            continue
        result.append(Region(name=text(raw, "name"), display_name=text(raw, "displayName")))
    return sorted(result, key=lambda r: r.display_name.lower())
