"""``GET /tenants`` (Microsoft.Resources, ``Tenants_List``): the tenants the caller can see.

The Azure CLI lists tenants after a user login (azure-facts §16.4). The shape follows the
REST spec example (``subscriptions/stable/2022-12-01/examples/GetTenants.json``). Listed: the
tenants that own the emulated subscriptions, named as the emulated directory names them.
"""

from __future__ import annotations

from typing import Any

from .identity import seed as identity_seed
from .state import subscription_rows
from .wire import ArmRequest, Ctx, Response, json_response

_KNOWN = {t.id: t for t in identity_seed.TENANTS}


def _tenant(tenant_id: str) -> dict[str, Any]:
    known = _KNOWN.get(tenant_id)
    domain = known.domain if known else f"{tenant_id}.onmicrosoft.com"
    return {
        "id": f"/tenants/{tenant_id}",
        "tenantId": tenant_id,
        "countryCode": "US",
        "displayName": known.display_name if known else tenant_id,
        "domains": [domain],
        "defaultDomain": domain,
        "tenantCategory": "Home",
        "tenantType": "AAD",
    }


def list_tenants(ctx: Ctx, req: ArmRequest) -> Response:
    ids = list(dict.fromkeys(row[2] for row in subscription_rows(ctx.store.conn())))
    return json_response(200, {"value": [_tenant(t) for t in ids]})
