"""The Microsoft.Resources endpoints the clients use: list subscriptions and a subscription's
locations (SubscriptionClient, api-version 2022-12-01, the dashboard), and read one resource
group (ResourceManagementClient; the Azure CLI reads a group's location)."""

from __future__ import annotations

from typing import Any

from . import regions
from .lookup import require_rg, require_sub
from .state import resource_group, subscription_row, subscription_rows
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
    assert row is not None  # require_sub raised otherwise
    return json_response(200, _subscription(*row))


def _location(sub_id: str, region: regions.Region) -> dict[str, Any]:
    """One entry of ``az account list-locations`` (api-version 2019-11-01 shape, as
    recorded); metadata not known for a region is left out."""
    metadata: dict[str, Any] = {"regionType": "Physical" if region.physical else "Logical"}
    if region.category:
        metadata["regionCategory"] = region.category
    if region.geography_group:
        metadata["geographyGroup"] = region.geography_group
    if region.longitude:
        metadata["longitude"] = region.longitude
        metadata["latitude"] = region.latitude
    if region.physical_location:
        metadata["physicalLocation"] = region.physical_location
    if region.paired_region:
        metadata["pairedRegion"] = [
            {
                "name": region.paired_region,
                "id": f"/subscriptions/{sub_id}/locations/{region.paired_region}",
            }
        ]
    return {
        "id": f"/subscriptions/{sub_id}/locations/{region.name}",
        "name": region.name,
        "type": "Region",
        "displayName": region.display_name,
        "regionalDisplayName": region.regional_display_name,
        "metadata": metadata,
    }


def list_locations(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    """Every public region, physical and logical (the regions only Microsoft-internal
    subscriptions see are left out)."""
    sub_id = require_sub(ctx.store.conn(), sub)
    return json_response(200, {"value": [_location(sub_id, r) for r in regions.REGIONS.values()]})


def get_resource_group(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    """``GET /subscriptions/{sub}/resourcegroups/{rg}``: the group as ARM shows it (id with
    ``resourceGroups`` and the name as created, ``type``, ``location``, ``provisioningState``;
    the emulator keeps no tags on groups). 404 ``ResourceGroupNotFound`` otherwise."""
    conn = ctx.store.conn()
    sub_id = require_sub(conn, sub)
    name = require_rg(conn, sub, rg)
    found = resource_group(conn, sub, rg)
    assert found is not None
    return json_response(
        200,
        {
            "id": f"/subscriptions/{sub_id}/resourceGroups/{name}",
            "name": name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": found[1],
            "properties": {"provisioningState": "Succeeded"},
        },
    )
