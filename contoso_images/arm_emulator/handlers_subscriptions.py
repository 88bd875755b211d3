"""The two Microsoft.Resources endpoints the dashboard uses (SubscriptionClient,
api-version 2022-12-01): list subscriptions and list a subscription's locations."""

from __future__ import annotations

from typing import Any

from . import catalog
from .lookup import require_sub
from .state import subscription_row, subscription_rows
from .wire import ArmRequest, Ctx, Response, json_response


def _subscription(sub: str, name: str, tenant: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": tenant,
        "displayName": name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {},
    }


def list_subscriptions(ctx: Ctx, req: ArmRequest) -> Response:
    rows = subscription_rows(ctx.store.conn())
    return json_response(
        200,
        {
            "value": [_subscription(*r) for r in rows],
            "count": {"type": "Total", "value": len(rows)},
        },
    )


def get_subscription(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    conn = ctx.store.conn()
    require_sub(conn, sub)
    row = subscription_row(conn, sub)
    assert row is not None  # noqa: S101 - require_sub raised otherwise
    return json_response(200, _subscription(*row))


def list_locations(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    sub_id = require_sub(ctx.store.conn(), sub)
    value = []
    for name, (display, geo, group, lat, lon, phys, pair) in catalog.REGIONS.items():
        value.append(
            {
                "id": f"/subscriptions/{sub_id}/locations/{name}",
                "name": name,
                "type": "Region",
                "displayName": display,
                "regionalDisplayName": f"({group}) {display}",
                "metadata": {
                    "regionType": "Physical",
                    "regionCategory": "Recommended",
                    "geography": geo,
                    "geographyGroup": group,
                    "longitude": lon,
                    "latitude": lat,
                    "physicalLocation": phys,
                    "pairedRegion": [
                        {
                            "name": pair,
                            "id": f"/subscriptions/{sub_id}/locations/{pair}",
                        }
                    ],
                },
            }
        )
    return json_response(200, {"value": value})
