"""Marketplace images and VM sizes per location (azure-facts §1.2, §1.5, §7).

Publisher/offer/sku/version lists are **bare JSON arrays** with capitalised id segments,
exactly as Compute answers them; VM sizes are a ``{"value": [...]}`` page."""

from __future__ import annotations

from typing import Any

from . import catalog, errors
from .catalog import MARKETPLACE, MarketplaceSku
from .lookup import require_sub
from .wire import ArmRequest, Ctx, Response, json_response


def _location(ctx: Ctx, sub: str, location: str) -> str:
    require_sub(ctx.store.conn(), sub)
    loc = catalog.normalize_region(location)
    if loc not in catalog.REGIONS:
        raise errors.ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{location}' and API "
            "version for type 'locations'.",
        )
    return loc


def _base(sub: str, loc: str) -> str:
    return f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{loc}"


def _entry(name: str, loc: str, rid: str) -> dict[str, Any]:
    return {"location": loc, "name": name, "id": rid}


def _skus(publisher: str, offer: str | None = None, sku: str | None = None) -> list[MarketplaceSku]:
    found = [
        s
        for s in MARKETPLACE
        if s.publisher.lower() == publisher.lower()
        and (offer is None or s.offer.lower() == offer.lower())
        and (sku is None or s.sku.lower() == sku.lower())
    ]
    if not found:
        raise errors.artifact_not_found()
    return found


def publishers(ctx: Ctx, req: ArmRequest, sub: str, location: str) -> Response:
    loc = _location(ctx, sub, location)
    names = dict.fromkeys(s.publisher for s in MARKETPLACE)
    return json_response(200, [_entry(p, loc, f"{_base(sub, loc)}/Publishers/{p}") for p in names])


def offers(ctx: Ctx, req: ArmRequest, sub: str, location: str, publisher: str) -> Response:
    loc = _location(ctx, sub, location)
    found = _skus(publisher)
    pub = found[0].publisher
    names = dict.fromkeys(s.offer for s in found)
    return json_response(
        200,
        [
            _entry(o, loc, f"{_base(sub, loc)}/Publishers/{pub}/ArtifactTypes/VMImage/Offers/{o}")
            for o in names
        ],
    )


def skus(
    ctx: Ctx, req: ArmRequest, sub: str, location: str, publisher: str, offer: str
) -> Response:
    loc = _location(ctx, sub, location)
    found = _skus(publisher, offer)
    pub, offer_name = found[0].publisher, found[0].offer
    base = f"{_base(sub, loc)}/Publishers/{pub}/ArtifactTypes/VMImage/Offers/{offer_name}"
    return json_response(200, [_entry(s.sku, loc, f"{base}/Skus/{s.sku}") for s in found])


def _version_id(sub: str, loc: str, s: MarketplaceSku, version: str) -> str:
    return (
        f"{_base(sub, loc)}/Publishers/{s.publisher}/ArtifactTypes/VMImage/Offers/{s.offer}"
        f"/Skus/{s.sku}/Versions/{version}"
    )


def _properties(s: MarketplaceSku) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if s.plan:
        props["plan"] = {"publisher": s.publisher, "name": s.sku, "product": s.offer}
    props.update(
        {
            "osDiskImage": {"operatingSystem": s.os_type},
            "dataDiskImages": [],
            "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
            "hyperVGeneration": s.generation,
            "disallowed": {"vmDiskType": "None"},
            "features": (
                [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
                if s.generation == "V2"
                else []
            ),
            "architecture": "x64",
            "imageDeprecationStatus": {"imageState": "Active"},
        }
    )
    return props


def versions(
    ctx: Ctx, req: ArmRequest, sub: str, location: str, publisher: str, offer: str, sku: str
) -> Response:
    """``$orderby=name desc`` / ``$top`` / ``$expand=Properties`` as the SDK sends them."""
    loc = _location(ctx, sub, location)
    s = _skus(publisher, offer, sku)[0]
    names = sorted(s.versions, key=catalog.version_key)
    if "desc" in req.query.get("$orderby", "").lower():
        names.reverse()
    top = req.query.get("$top", "")
    if top.isdigit():
        names = names[: int(top)]
    expand = req.query.get("$expand", "").lower() == "properties"
    items = []
    for v in names:
        item = _entry(v, loc, _version_id(sub, loc, s, v))
        if expand:
            item["properties"] = _properties(s)
        items.append(item)
    return json_response(200, items)


def version_get(
    ctx: Ctx,
    req: ArmRequest,
    sub: str,
    location: str,
    publisher: str,
    offer: str,
    sku: str,
    version: str,
) -> Response:
    loc = _location(ctx, sub, location)
    s = _skus(publisher, offer, sku)[0]
    wanted = version
    if version.lower() == "latest":
        wanted = max(s.versions, key=catalog.version_key)
    if wanted not in s.versions:
        raise errors.artifact_not_found()
    item = _entry(wanted, loc, _version_id(sub, loc, s, wanted))
    return json_response(200, {"properties": _properties(s), **item})


def vm_sizes(ctx: Ctx, req: ArmRequest, sub: str, location: str) -> Response:
    _location(ctx, sub, location)
    return json_response(200, {"value": [catalog.size_json(n) for n in catalog.VM_SIZES]})
