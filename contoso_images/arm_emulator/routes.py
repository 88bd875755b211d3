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
from . import handlers_agreements as terms
from . import handlers_deploy as deploy
from . import handlers_disks as disks
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
from . import handlers_network as net
from . import handlers_skus as sku
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
# VM deployment: disks, Resource SKUs, Microsoft.Network, Marketplace terms
_DISK = _item(_RG + _PROV + "/disks", "disk")
_NET = "/providers/Microsoft\\.Network"
_VNET = _item(_RG + _NET + "/virtualNetworks", "vnet")
_NIC = _item(_RG + _NET + "/networkInterfaces", "nic")
_NET_LOC = _item(_SUB + _NET + "/locations", "location")
_TERMS = (
    _SUB
    + "/providers/Microsoft\\.MarketplaceOrdering/offerTypes/(?P<offer_type>[^/]+)"
    + "/publishers/(?P<publisher>[^/]+)/offers/(?P<offer>[^/]+)/plans/(?P<plan>[^/]+)"
    + "/agreements/current"
)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    versions: list[str]


def _r(method: str, pattern: str, handler: Handler, versions: list[str]) -> Route:
    return Route(method, re.compile(pattern + "$", re.IGNORECASE), handler, versions)


C, G, S, M = versions.COMPUTE, versions.GALLERY, versions.SUBSCRIPTIONS, versions.MARKETPLACE
D, N = versions.DISKS, versions.NETWORK
ROUTES: list[Route] = [
    _r("GET", r"^/subscriptions", subs.list_subscriptions, S),
    _r("GET", _SUB, subs.get_subscription, S),
    _r("GET", _SUB + "/locations", subs.list_locations, S),
    _r("GET", _RG, subs.get_resource_group, versions.RESOURCES),
    _r("GET", r"^/tenants", tenants.list_tenants, S),
    # virtual machines
    _r("GET", _SUB + _PROV + "/virtualMachines", vms.list_all, C),
    _r("GET", _RG + _PROV + "/virtualMachines", vms.list_by_rg, C),
    _r("GET", _VM, vms.get, C),
    _r("PUT", _VM, deploy.create, C),
    _r("DELETE", _VM, deploy.delete, C),
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
    # resource SKUs and quota
    _r("GET", _SUB + _PROV + "/skus", sku.resource_skus, versions.SKUS),
    _r("GET", _LOC + "/usages", sku.usages, C),
    # managed disks (DiskRP)
    _r("GET", _SUB + _PROV + "/disks", disks.list_all, D),
    _r("GET", _RG + _PROV + "/disks", disks.list_by_rg, D),
    _r("GET", _DISK, disks.get, D),
    _r("DELETE", _DISK, disks.delete, D),
    _r("GET", _item(_LOC + "/DiskOperations", "op_id"), lro.status_handler, D),
    # Microsoft.Network
    _r("GET", _SUB + _NET + "/virtualNetworks", net.vnet_list_all, N),
    _r("GET", _RG + _NET + "/virtualNetworks", net.vnet_list, N),
    _r("GET", _VNET, net.vnet_get, N),
    _r("GET", _VNET + "/subnets", net.subnet_list, N),
    _r("GET", _item(_VNET + "/subnets", "subnet"), net.subnet_get, N),
    _r("GET", _SUB + _NET + "/networkInterfaces", net.nic_list_all, N),
    _r("GET", _RG + _NET + "/networkInterfaces", net.nic_list, N),
    _r("GET", _NIC, net.nic_get, N),
    _r("PUT", _NIC, net.nic_put, N),
    _r("DELETE", _NIC, net.nic_delete, N),
    _r("GET", _item(_NET_LOC + "/operations", "op_id"), net.operation_status, N),
    _r("GET", _item(_NET_LOC + "/operationResults", "op_id"), net.operation_result, N),
    # Marketplace terms (MarketplaceOrdering)
    _r("GET", _TERMS, terms.get, terms.VERSIONS),
    _r("PUT", _TERMS, terms.put, terms.VERSIONS),
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
