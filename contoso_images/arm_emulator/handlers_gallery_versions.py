"""Gallery image versions: create from a VM or managed image, replication progress, get,
list, delete.

Versions replicate to their target regions over the ``gallery_image_version_create``
duration; ``$expand=ReplicationStatus`` reports per-region progress computed from the
clock (regions finish one after another, the source region first)."""

from __future__ import annotations

from typing import Any

from . import catalog, clock, errors, lro, resources, validate
from .handlers_galleries import require_gallery, require_live_parent, resource_id
from .lookup import (
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    KIND_VM,
    TYPE_NAMES,
    parse_id,
    require,
)
from .state import Resource, get_resource
from .wire import ArmRequest, Ctx, Response, json_response


def _require_definition(conn: Any, sub: str, rg: str, gallery: str, image: str) -> Resource:
    require_gallery(conn, sub, rg, gallery)
    res = get_resource(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
    if res is None:
        raise errors.parent_not_found(f"{gallery}/{image}")
    return res


def _source(conn: Any, sub: str, source: dict[str, Any]) -> tuple[Resource, str]:
    """The source VM or managed image, and its kind (404/400 when unusable)."""
    source_id = source.get("id") or source.get("virtualMachineId")
    if not isinstance(source_id, str) or not source_id:
        raise errors.invalid_parameter(
            "The 'storageProfile.source.id' or 'storageProfile.source.virtualMachineId' "
            "property is required.",
            target="storageProfile.source",
        )
    parsed = parse_id(source_id)
    if parsed is None or parsed[0].lower() != sub.lower():
        raise errors.invalid_parameter(
            f"The source id '{source_id}' is not a virtual machine or managed image of this "
            "subscription.",
            target="storageProfile.source",
        )
    psub, prg, kind, name = parsed
    return require(conn, kind, psub, prg, name), kind


def version_put(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    validate.version_name(version)
    payload, location, props = validate.put_body(req)
    profile = validate.obj(props, "publishingProfile")
    source = validate.obj(validate.obj(props, "storageProfile"), "source")
    parent = f"{gallery}/{image}"
    with lro.writing(ctx) as conn:
        definition = _require_definition(conn, sub, rg, gallery, image)
        existing = get_resource(conn, KIND_GALLERY_VERSION, sub, rg, version, parent)
        if existing is not None:
            if existing.emu.get("op"):
                raise errors.concurrent_conflict()
            return resources.updated(conn, existing, payload)
        require_live_parent(definition)
        src, src_kind = _source(conn, sub, source)
        _check_source(src, src_kind, definition)
        src_region = catalog.normalize_region(src.body["location"])
        regions = _target_regions(profile, location, src_region)
        def_body = definition.body
        rg_name = def_body["id"].split("/")[4]
        replica_count = int(profile.get("replicaCount") or 1)
        storage_type = profile.get("storageAccountType") or "Standard_LRS"
        os_disk = src.body["properties"]["storageProfile"]["osDisk"]
        body = {
            "id": resource_id(
                sub, rg_name, "galleries", gallery, "images", def_body["name"], "versions", version
            ),
            "name": version,
            "type": TYPE_NAMES[KIND_GALLERY_VERSION],
            "location": location,
            "tags": validate.tags(payload),
            "properties": {
                "publishingProfile": {
                    "targetRegions": [
                        {
                            "name": catalog.region_display(r["name"]),
                            "regionalReplicaCount": int(
                                r.get("regionalReplicaCount") or replica_count
                            ),
                            "storageAccountType": r.get("storageAccountType") or storage_type,
                            "excludeFromLatest": bool(r.get("excludeFromLatest", False)),
                        }
                        for r in regions
                    ],
                    "replicaCount": replica_count,
                    "excludeFromLatest": bool(profile.get("excludeFromLatest", False)),
                    "publishedDate": _iso_z(ctx.now),
                    "storageAccountType": storage_type,
                    "replicationMode": profile.get("replicationMode") or "Full",
                },
                "storageProfile": {
                    "source": dict(source),
                    "osDiskImage": {
                        "sizeInGB": int(os_disk.get("diskSizeGB") or 30),
                        "hostCaching": "ReadWrite",
                    },
                    "dataDiskImages": [],
                },
                "safetyProfile": {
                    "allowDeletionOfReplicatedLocations": False,
                    "reportedForPolicyViolation": False,
                    "blockDeletionBeforeEndOfLife": False,
                },
                "provisioningState": "Creating",
            },
        }
        if profile.get("endOfLifeDate"):
            body["properties"]["publishingProfile"]["endOfLifeDate"] = profile["endOfLifeDate"]
        duration = ctx.durations["gallery_image_version_create"]
        emu = {
            "op": None,
            "started": ctx.now,
            "duration": duration,
            "regions": [catalog.region_display(r["name"]) for r in regions],
        }
        return resources.created(
            ctx,
            req,
            conn,
            kind=KIND_GALLERY_VERSION,
            sub=sub,
            rg=rg,
            name=version,
            parent=parent,
            body=body,
            duration=duration,
            emu=emu,
        )


def _iso_z(ts: float) -> str:
    return clock.to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _check_source(src: Resource, kind: str, definition: Resource) -> None:
    dprops = definition.body["properties"]
    if kind == KIND_VM:
        os_type = src.body["properties"]["storageProfile"]["osDisk"]["osType"]
        generation = src.emu.get("generation", "V1")
        generalized = bool(src.emu.get("os_generalized"))
        if src.emu.get("op") or src.emu.get("deleting"):
            raise errors.vm_busy("Create Image Version", src.body["name"])
    else:
        iprops = src.body["properties"]
        os_type = iprops["storageProfile"]["osDisk"]["osType"]
        generation = iprops.get("hyperVGeneration", "V1")
        generalized = True
        if iprops.get("provisioningState") != "Succeeded":
            raise errors.concurrent_conflict()
    if os_type != dprops["osType"]:
        raise errors.invalid_parameter(
            f"The OS type '{os_type}' of the source does not match the OS type "
            f"'{dprops['osType']}' of the gallery image '{definition.body['name']}'.",
            target="storageProfile.source",
        )
    if generation != dprops.get("hyperVGeneration", "V1"):
        raise errors.invalid_parameter(
            f"The Hyper-V generation '{generation}' of the source does not match the "
            f"generation '{dprops.get('hyperVGeneration', 'V1')}' of the gallery image "
            f"'{definition.body['name']}'.",
            target="storageProfile.source",
        )
    if dprops["osState"] == "Generalized" and not generalized:
        raise errors.invalid_parameter(
            f"The source virtual machine '{src.body['name']}' is not generalized, but the "
            f"gallery image '{definition.body['name']}' has osState 'Generalized'. "
            "Generalize the virtual machine or use a specialized image definition.",
            target="storageProfile.source",
        )


def _target_regions(
    profile: dict[str, Any], location: str, src_region: str
) -> list[dict[str, Any]]:
    regions = profile.get("targetRegions")
    if regions is None:
        regions = [{"name": location}]
    if not isinstance(regions, list) or not all(
        isinstance(r, dict) and isinstance(r.get("name"), str) for r in regions
    ):
        raise errors.invalid_parameter(
            "'publishingProfile.targetRegions' must be a list of objects with a 'name'.",
            target="publishingProfile.targetRegions",
        )
    names = [catalog.normalize_region(r["name"]) for r in regions]
    unknown = [r["name"] for r, n in zip(regions, names, strict=True) if n not in catalog.REGIONS]
    if unknown:
        raise errors.invalid_parameter(
            f"The target region '{unknown[0]}' is not a valid Azure region.",
            target="publishingProfile.targetRegions",
        )
    if src_region not in names:
        raise errors.invalid_parameter(
            "The replication regions must include the region the source is located: "
            f"'{catalog.region_display(src_region)}' is missing from targetRegions.",
            target="publishingProfile.targetRegions",
        )
    # Replicate the source region first, then the others in the order given.
    ordered = sorted(zip(names, regions, strict=True), key=lambda p: p[0] != src_region)
    return [r for _, r in ordered]


def replication_status(res: Resource, now: float) -> dict[str, Any]:
    """Per-region progress: region i of n completes at started + duration·(i+1)/n."""
    started = float(res.emu.get("started") or 0)
    duration = float(res.emu.get("duration") or 0)
    regions = res.emu.get("regions") or []
    summary = []
    for i, region in enumerate(regions):
        span = duration * (i + 1) / max(1, len(regions))
        done = span <= 0 or now - started >= span
        progress = 100 if done else max(0, min(99, int(100 * (now - started) / span)))
        summary.append(
            {
                "region": region,
                "state": "Completed" if done else "Replicating",
                "details": "",
                "progress": progress,
            }
        )
    complete = all(s["state"] == "Completed" for s in summary)
    return {"aggregatedState": "Completed" if complete else "InProgress", "summary": summary}


def _render_version(res: Resource, now: float, expand: str) -> dict[str, Any]:
    body = resources.render(res)
    if expand.lower() == "replicationstatus":
        body["properties"] = {
            **body["properties"],
            "replicationStatus": replication_status(res, now),
        }
    return body


def version_get(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    conn = ctx.store.conn()
    _require_definition(conn, sub, rg, gallery, image)
    res = require(conn, KIND_GALLERY_VERSION, sub, rg, version, f"{gallery}/{image}")
    return json_response(200, _render_version(res, ctx.now, req.query.get("$expand", "")))


def version_list(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    _require_definition(ctx.store.conn(), sub, rg, gallery, image)
    return resources.list_in_group(
        ctx,
        req,
        KIND_GALLERY_VERSION,
        sub,
        rg,
        parent=f"{gallery}/{image}",
        show=lambda r: _render_version(r, ctx.now, ""),
    )


def version_delete(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    def definition_exists(conn: Any) -> None:
        _require_definition(conn, sub, rg, gallery, image)

    parent = f"{gallery}/{image}"
    return resources.delete(
        ctx, req, KIND_GALLERY_VERSION, sub, rg, version, parent, guard=definition_exists
    )
