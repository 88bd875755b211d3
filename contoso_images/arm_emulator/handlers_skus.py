"""Resource SKUs (``GET /subscriptions/{sub}/providers/Microsoft.Compute/skus``) and compute
usage (``GET …/locations/{loc}/usages``); the data and the quota arithmetic are in
``skus.py``.

The SKU list takes ``$filter=location eq '<region>'`` as the SDK sends it ("Only location
filter is supported", Skus specification) and answers one page (``nextLink`` absent), the
virtualMachines entries only. Usages answer ``{"value": [...]}``.
"""

from __future__ import annotations

import re

from . import errors, regions, skus
from .lookup import require_sub
from .wire import ArmRequest, Ctx, Response, json_response

_LOCATION_FILTER = re.compile(r"^\s*location\s+eq\s+'(?P<loc>[^']*)'\s*$", re.IGNORECASE)


def resource_skus(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    require_sub(ctx.store.conn(), sub)
    text = req.query.get("$filter", "")
    location = None
    if text:
        m = _LOCATION_FILTER.match(text)
        if not m:
            raise errors.invalid_parameter(
                f"The filter '{text}' is not supported. Only location filter is supported.",
                target="$filter",
            )
        location = m["loc"]
    return json_response(200, {"value": skus.skus_in(location)})


def usages(ctx: Ctx, req: ArmRequest, sub: str, location: str) -> Response:
    conn = ctx.store.conn()
    require_sub(conn, sub)
    region = regions.normalize(location)
    if not regions.is_physical(region):
        raise errors.ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{location}' and API "
            "version for type 'locations/usages'.",
        )
    return json_response(200, {"value": skus.usages_json(conn, sub, region)})
