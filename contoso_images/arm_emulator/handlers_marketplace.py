"""Marketplace images and VM sizes per location.

Publisher/offer/sku/version lists are **bare JSON arrays** with capitalised id segments
(``/Subscriptions/…/Providers/…/Locations/…``), exactly as Compute answers them; VM sizes
are a ``{"value": [...]}`` page. Every physical public region serves the same catalog;
a logical or unknown region is refused with NoRegisteredProviderFound. A version's body
has the recorded fields (``replicaType``, ``osDiskImage.sizeInGb`` and ``sizeInBytes``,
``features`` only when the image has some). Images added with
``Emulator.add_marketplace_image`` (to replay a recording) join the static catalog.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import catalog, errors, regions
from . import versions as api_versions
from .catalog import MARKETPLACE, MarketplaceSku
from .clock import iso
from .lookup import require_sub
from .state import Store
from .wire import ArmRequest, Ctx, Response, json_response

EXTRA_KEY = "marketplace_extra"
GIB = 1024**3


def add_image(store: Store, sku: MarketplaceSku) -> None:
    """Add ``sku`` (or more versions of it) to the catalog of this state file."""
    extra = [e for e in store.meta_get(EXTRA_KEY, []) or [] if not _same(e, sku)]
    extra.append(
        {
            "publisher": sku.publisher,
            "offer": sku.offer,
            "sku": sku.sku,
            "versions": list(sku.versions),
            "os_type": sku.os_type,
            "generation": sku.generation,
            "plan": sku.plan,
            "os_disk_gb": sku.os_disk_gb,
            "features": None if sku.features is None else [list(f) for f in sku.features],
            "architecture": sku.architecture,
        }
    )
    store.meta_set(EXTRA_KEY, extra)


def _same(entry: dict[str, Any], sku: MarketplaceSku) -> bool:
    return (entry["publisher"].lower(), entry["offer"].lower(), entry["sku"].lower()) == (
        sku.publisher.lower(),
        sku.offer.lower(),
        sku.sku.lower(),
    )


def _catalog(conn: sqlite3.Connection) -> tuple[MarketplaceSku, ...]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (EXTRA_KEY,)).fetchone()
    if row is None:
        return MARKETPLACE
    extra = tuple(
        MarketplaceSku(
            **{
                **e,
                "versions": tuple(e["versions"]),
                "features": None
                if e.get("features") is None
                else tuple((n, v) for n, v in e["features"]),
            }
        )
        for e in json.loads(row[0])
    )
    return MARKETPLACE + extra


def _location(ctx: Ctx, sub: str, location: str) -> str:
    require_sub(ctx.store.conn(), sub)
    loc = regions.normalize(location)
    if not regions.is_physical(loc):
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


def _skus(
    ctx: Ctx, publisher: str, offer: str | None = None, sku: str | None = None
) -> list[MarketplaceSku]:
    found = [
        s
        for s in _catalog(ctx.store.conn())
        if s.publisher.lower() == publisher.lower()
        and (offer is None or s.offer.lower() == offer.lower())
        and (sku is None or s.sku.lower() == sku.lower())
    ]
    if not found:
        raise errors.artifact_not_found()
    return found


def publishers(ctx: Ctx, req: ArmRequest, sub: str, location: str) -> Response:
    loc = _location(ctx, sub, location)
    names = dict.fromkeys(s.publisher for s in _catalog(ctx.store.conn()))
    return json_response(200, [_entry(p, loc, f"{_base(sub, loc)}/Publishers/{p}") for p in names])


def offers(ctx: Ctx, req: ArmRequest, sub: str, location: str, publisher: str) -> Response:
    loc = _location(ctx, sub, location)
    found = _skus(ctx, publisher)
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
    found = _skus(ctx, publisher, offer)
    pub, offer_name = found[0].publisher, found[0].offer
    base = f"{_base(sub, loc)}/Publishers/{pub}/ArtifactTypes/VMImage/Offers/{offer_name}"
    # Real SKU listings carry the image's automatic OS upgrade support (replayed traffic,
    # docs/emulator-fidelity.md), although the spec's ListSkus schema has no properties.
    return json_response(
        200,
        [
            {
                "properties": {"automaticOSUpgradeProperties": _auto_upgrade(s)},
                **_entry(s.sku, loc, f"{base}/Skus/{s.sku}"),
            }
            for s in found
        ],
    )


def _auto_upgrade(s: MarketplaceSku) -> dict[str, bool]:
    del s  # every image of the static catalog answers False (see _properties)
    return {"automaticOSUpgradeSupported": False}


def _version_id(sub: str, loc: str, s: MarketplaceSku, version: str) -> str:
    return (
        f"{_base(sub, loc)}/Publishers/{s.publisher}/ArtifactTypes/VMImage/Offers/{s.offer}"
        f"/Skus/{s.sku}/Versions/{version}"
    )


def _deprecation_status(s: MarketplaceSku, now: float) -> dict[str, Any]:
    if s.deprecation is None:
        return {"imageState": "Active"}
    d = s.deprecation
    status: dict[str, Any] = {
        "imageState": d.state,
        "scheduledDeprecationTime": iso(now + 86400 * d.days_from_now),
    }
    if d.alternative_type:
        status["alternativeOption"] = {"type": d.alternative_type, "value": d.alternative_value}
    return status


def _properties(s: MarketplaceSku, now: float, api: str | None = None) -> dict[str, Any]:
    """The recorded key set (CentOS 7.5, Ubuntu 18.04: ``sizeInGb`` is present for some
    images and not others; it is always sent here). ``architecture`` and
    ``imageDeprecationStatus`` exist only from the api-versions that define them
    (``versions.py``): an older client gets the older shape."""
    props: dict[str, Any] = {}
    if s.plan:
        props["plan"] = {"publisher": s.publisher, "name": s.sku, "product": s.offer}
    props.update(
        {
            "hyperVGeneration": s.generation,
            "architecture": s.architecture,
            "replicaType": "Unmanaged",
            "disallowed": {"vmDiskType": "None"},
            "automaticOSUpgradeProperties": _auto_upgrade(s),
            "imageDeprecationStatus": _deprecation_status(s, now),
        }
    )
    if not api_versions.at_least(api, api_versions.MARKETPLACE_ARCHITECTURE):
        props.pop("architecture")
    if not api_versions.at_least(api, api_versions.MARKETPLACE_DEPRECATION_STATUS):
        props.pop("imageDeprecationStatus")
    if s.feature_list:
        props["features"] = s.feature_list
    props["osDiskImage"] = {
        "operatingSystem": s.os_type,
        "sizeInGb": s.disk_gb,
        "sizeInBytes": s.disk_gb * GIB,
    }
    props["dataDiskImages"] = []
    return props


def versions(
    ctx: Ctx, req: ArmRequest, sub: str, location: str, publisher: str, offer: str, sku: str
) -> Response:
    """``$orderby=name desc`` / ``$top`` / ``$expand=Properties`` as the SDK sends them."""
    loc = _location(ctx, sub, location)
    s = _skus(ctx, publisher, offer, sku)[0]
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
            item["properties"] = _properties(s, ctx.now, req.api_version)
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
    s = _skus(ctx, publisher, offer, sku)[0]
    wanted = version
    if version.lower() == "latest":
        wanted = max(s.versions, key=catalog.version_key)
    if wanted not in s.versions:
        raise errors.artifact_not_found()
    item = _entry(wanted, loc, _version_id(sub, loc, s, wanted))
    return json_response(200, {"properties": _properties(s, ctx.now, req.api_version), **item})


def vm_sizes(ctx: Ctx, req: ArmRequest, sub: str, location: str) -> Response:
    _location(ctx, sub, location)
    return json_response(200, {"value": [catalog.size_json(n) for n in catalog.VM_SIZES]})
