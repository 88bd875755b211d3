"""Dispatch: (method, path regex) → handler, after the api-version check.

Paths are matched case-insensitively (ARM paths are), path parameters are URL-decoded
before they reach a handler. Each route accepts the api-versions its resource provider
registers (``versions.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from . import (
    errors,
    lro,
    versions,
)
from . import (
    handlers_galleries as gal,
)
from . import (
    handlers_gallery_versions as ver,
)
from . import (
    handlers_images as img,
)
from . import (
    handlers_marketplace as mkt,
)
from . import (
    handlers_subscriptions as subs,
)
from . import (
    handlers_tenants as tenants,
)
from . import (
    handlers_vms as vms,
)
from .wire import ArmRequest, Ctx, Response

Handler = Callable[..., Response]


def _item(collection: str, name: str) -> str:
    """The pattern of one member of ``collection``, its name captured as ``name``."""
    return collection + f"/(?P<{name}>[^/]+)"


_SUB = _item("^/subscriptions", "sub")
_RG = _item(_SUB + "/resourceGroups", "rg")
_PROV = "/providers/Microsoft\\.Compute"
_VM = _item(_RG + _PROV + "/virtualMachines", "vm")
_IMAGE = _item(_RG + _PROV + "/images", "image")
_GAL = _item(_RG + _PROV + "/galleries", "gallery")
_DEF = _item(_GAL + "/images", "image")
_VERSION = _item(_DEF + "/versions", "version")
_LOC = _item(_SUB + _PROV + "/locations", "location")
_OFFERS = _item(_LOC + "/publishers", "publisher") + "/artifacttypes/vmimage/offers"
_OFFER = _item(_OFFERS, "offer")
_SKU = _item(_OFFER + "/skus", "sku")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    versions: list[str]


def _r(method: str, pattern: str, handler: Handler, versions: list[str]) -> Route:
    return Route(method, re.compile(pattern + "$", re.IGNORECASE), handler, versions)


C, G, S, M = versions.COMPUTE, versions.GALLERY, versions.SUBSCRIPTIONS, versions.MARKETPLACE
ROUTES: list[Route] = [
    _r("GET", r"^/subscriptions", subs.list_subscriptions, S),
    _r("GET", _SUB, subs.get_subscription, S),
    _r("GET", _SUB + "/locations", subs.list_locations, S),
    _r("GET", r"^/tenants", tenants.list_tenants, S),
    # virtual machines
    _r("GET", _SUB + _PROV + "/virtualMachines", vms.list_all, C),
    _r("GET", _RG + _PROV + "/virtualMachines", vms.list_by_rg, C),
    _r("GET", _VM, vms.get, C),
    _r("DELETE", _VM, vms.delete, C),
    _r("GET", _VM + "/instanceView", vms.instance_view, C),
    _r("GET", _VM + "/vmSizes", vms.available_sizes, C),
    _r("POST", _VM + "/(?P<action>start|powerOff|deallocate|restart)", vms.power_action, C),
    _r("POST", _VM + "/generalize", vms.generalize, C),
    _r("POST", _VM + "/runCommand", vms.run_command, C),
    _r("POST", _VM + "/capture", vms.capture, C),
    # managed images
    _r("GET", _SUB + _PROV + "/images", img.list_all, C),
    _r("GET", _RG + _PROV + "/images", img.list_by_rg, C),
    _r("PUT", _IMAGE, img.create, C),
    _r("GET", _IMAGE, img.get, C),
    _r("DELETE", _IMAGE, img.delete, C),
    # compute gallery
    _r("GET", _SUB + _PROV + "/galleries", gal.gallery_list, G),
    _r("GET", _RG + _PROV + "/galleries", gal.gallery_list_rg, G),
    _r("PUT", _GAL, gal.gallery_put, G),
    _r("PATCH", _GAL, gal.gallery_patch, G),
    _r("GET", _GAL, gal.gallery_get, G),
    _r("DELETE", _GAL, gal.gallery_delete, G),
    _r("GET", _GAL + "/images", gal.definition_list, G),
    _r("PUT", _DEF, gal.definition_put, G),
    _r("PATCH", _DEF, gal.definition_patch, G),
    _r("GET", _DEF, gal.definition_get, G),
    _r("DELETE", _DEF, gal.definition_delete, G),
    _r("GET", _DEF + "/versions", ver.version_list, G),
    _r("PUT", _VERSION, ver.version_put, G),
    _r("PATCH", _VERSION, ver.version_patch, G),
    _r("GET", _VERSION, ver.version_get, G),
    _r("DELETE", _VERSION, ver.version_delete, G),
    # async operations, marketplace, sizes
    _r("GET", _item(_LOC + "/operations", "op_id"), lro.status_handler, M),
    _r("GET", _item(_LOC + "/capsOperations", "op_id"), lro.status_handler, M),
    _r("GET", _LOC + "/publishers", mkt.publishers, M),
    _r("GET", _OFFERS, mkt.offers, M),
    _r("GET", _OFFER + "/skus", mkt.skus, M),
    _r("GET", _SKU + "/versions", mkt.versions, M),
    _r("GET", _item(_SKU + "/versions", "version"), mkt.version_get, M),
    _r("GET", _LOC + "/vmSizes", mkt.vm_sizes, C),
]


def dispatch(ctx: Ctx, req: ArmRequest) -> Response:
    """Find the route, check api-version, call the handler (which may raise ArmError)."""
    allowed: list[str] = []
    for route in ROUTES:
        m = route.pattern.match(req.path)
        if not m:
            continue
        if route.method != req.method:
            allowed.append(route.method)
            continue
        version = req.api_version
        if not version:
            raise errors.missing_api_version()
        if version not in route.versions:
            raise errors.invalid_api_version(version, route.versions)
        params = {k: unquote(v) for k, v in m.groupdict().items()}
        return route.handler(ctx, req, **params)
    if allowed:
        raise errors.ArmError(
            405,
            "MethodNotAllowed",
            f"The requested method '{req.method}' is not allowed; allowed: {', '.join(allowed)}.",
        )
    raise errors.no_route(req.method, req.path)
