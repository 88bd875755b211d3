"""Gallery image versions: create from a VM or a managed image, update (PUT on an
existing version, or PATCH), get with replication status, list, delete.

Shapes and rules follow the recorded traffic (docs/emulator-fidelity.md):

- the 201 of a creation has no ``osDiskImage``/``dataDiskImages`` yet: they appear when
  the version is ready (``osDiskImage.source`` is an empty object);
- ``publishedDate`` is the operation's start time, written ``…+00:00``;
- ``safetyProfile`` is answered from api-version 2022-01-03 on, ``validationsProfile``
  from 2024-03-03 on (except in the 200 of an update), an empty ``securityProfile`` in
  each region's OS-disk encryption from 2021-10-01 on;
- a VM in ``storageProfile.source.id`` is refused from api-version 2023-07-03 on, where
  ``source.virtualMachineId`` exists (Azure/azure-cli#28700), and accepted before;
- a source whose OS state, OS type or generation differs from its definition's is
  refused with 400 BadRequest (Azure/azure-cli#24972);
- an update answers 200 ``Updating`` with the change applied and a ``capsOperations``
  Azure-AsyncOperation header, replicates new regions over the
  ``gallery_image_version_update`` duration, then ``Succeeded``. The source, the storage
  account type and the data disks cannot change.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import clock, errors, gallery_publishing, lro, regions, resources, validate, versions
from .handlers_galleries import require_gallery, require_live_parent, resource_id
from .lookup import (
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    KIND_VM,
    TYPE_NAMES,
    parse_id,
    require,
)
from .state import Resource, get_resource, get_resource_by_seq, save_resource
from .wire import ArmRequest, Ctx, Response, json_response

_SOURCE = "galleryImageVersion.properties.storageProfile.source"


def _definition_for_put(conn: Any, sub: str, rg: str, gallery: str, image: str) -> Resource:
    """The parent definition of a version being written: ParentResourceNotFound."""
    require_gallery(conn, sub, rg, gallery)
    res = get_resource(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
    if res is None:
        raise errors.parent_not_found(f"{gallery}/{image}")
    return res


# --- rendering -----------------------------------------------------------------------------


def renderer(req: ArmRequest, now: float, *, update_response: bool = False) -> resources.Render:
    """The version body as the request's api-version shows it."""
    api = req.api_version
    expand = req.query.get("$expand", "").lower() == "replicationstatus"
    safety = versions.at_least(api, versions.GALLERY_SAFETY_PROFILE)
    disk_security = versions.at_least(api, versions.GALLERY_DISK_SECURITY_PROFILE)
    validations = not update_response and versions.at_least(
        api, versions.GALLERY_VALIDATIONS_PROFILE
    )

    def show(res: Resource) -> dict[str, Any]:
        body = resources.render(res)
        props = {k: v for k, v in body["properties"].items() if k != "provisioningState"}
        if not safety:
            props.pop("safetyProfile", None)
        if disk_security:
            props["publishingProfile"] = gallery_publishing.with_disk_security_profiles(
                props["publishingProfile"]
            )
        if validations:
            props["validationsProfile"] = {"validationOperationStatus": "NotExecuted"}
        if expand:
            props["replicationStatus"] = gallery_publishing.replication_status(
                gallery_publishing.plan_of(res.emu), now
            )
        props["provisioningState"] = body["properties"]["provisioningState"]
        return {**body, "properties": props}

    return show


# --- sources -------------------------------------------------------------------------------


def _source(
    conn: Any, sub: str, source: dict[str, Any], api: str | None
) -> tuple[Resource, str, str]:
    """The source VM or managed image, its kind and its id as the request gave it."""
    vm_field = versions.at_least(api, versions.GALLERY_VM_SOURCE_FIELD)
    source_id = source.get("id")
    if not source_id and vm_field:
        source_id = source.get("virtualMachineId")
        if isinstance(source_id, str) and source_id:
            parsed = parse_id(source_id)
            if parsed is None or parsed[2] != KIND_VM:
                raise errors.invalid_parameter(
                    f"The source virtual machine id '{source_id}' is invalid.",
                    target=f"{_SOURCE}.virtualMachineId",
                )
    if not isinstance(source_id, str) or not source_id:
        raise errors.invalid_parameter(
            "The gallery image version source is required: set 'storageProfile.source.id'"
            + (" or 'storageProfile.source.virtualMachineId'." if vm_field else "."),
            target=_SOURCE,
        )
    parsed = parse_id(source_id)
    if parsed is None or parsed[0].lower() != sub.lower():
        raise errors.invalid_parameter(
            f"The source id '{source_id}' is not a virtual machine or managed image of this "
            "subscription (the emulator supports no other source).",
            target=_SOURCE,
        )
    psub, prg, kind, name = parsed
    if kind == KIND_VM and source.get("id") and vm_field:
        raise errors.vm_id_in_source_id(source_id)
    return require(conn, kind, psub, prg, name), kind, source_id


def _check_source(src: Resource, kind: str, source_id: str, definition: Resource) -> None:
    dprops = definition.body["properties"]
    if kind == KIND_VM:
        os_type = src.body["properties"]["storageProfile"]["osDisk"]["osType"]
        generation = src.emu.get("generation", "V1")
        state = "Generalized" if src.emu.get("os_generalized") else "Specialized"
        if src.emu.get("op") or src.emu.get("deleting"):
            raise errors.vm_busy("Create Image Version", src.body["name"])
    else:
        iprops = src.body["properties"]
        os_type = iprops["storageProfile"]["osDisk"]["osType"]
        generation = iprops.get("hyperVGeneration", "V1")
        state = "Generalized"
        if iprops.get("provisioningState") != "Succeeded":
            raise errors.concurrent_conflict()
    if os_type.lower() != dprops["osType"].lower():
        raise errors.source_state_mismatch(source_id, "OS type", os_type, dprops["osType"])
    if generation != dprops.get("hyperVGeneration", "V1"):
        raise errors.source_state_mismatch(
            source_id, "Hypervisor generation", generation, dprops.get("hyperVGeneration", "V1")
        )
    if dprops["osState"] == "Generalized" and state != "Generalized":
        raise errors.source_state_mismatch(source_id, "OS state", state, "Generalized")
    if dprops["osState"] == "Specialized" and state == "Generalized":
        raise errors.specialized_parent_for_generalized_source(source_id)


def disk_images(src: Resource) -> dict[str, Any]:
    """``osDiskImage`` and ``dataDiskImages`` of a version made from ``src`` (shown once
    the version is ready; no ``dataDiskImages`` key when the source has no data disk)."""
    storage = src.body["properties"]["storageProfile"]
    os_disk = storage["osDisk"]
    sizes = src.emu.get("disk_sizes") or {}
    out: dict[str, Any] = {
        "osDiskImage": {
            "sizeInGB": int(os_disk.get("diskSizeGB") or sizes.get("os") or 30),
            "hostCaching": os_disk.get("caching") or "ReadWrite",
            "source": {},
        }
    }
    data = [
        {
            "lun": d["lun"],
            "sizeInGB": int(d.get("diskSizeGB") or sizes.get(str(d["lun"])) or 0),
            "hostCaching": d.get("caching") or "None",
        }
        for d in storage.get("dataDisks") or []
    ]
    if data:
        out["dataDiskImages"] = data
    return out


# --- create / update -----------------------------------------------------------------------


def version_put(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    validate.version_name(version)
    payload, location, props = validate.put_body(req)
    parent = f"{gallery}/{image}"
    with lro.writing(ctx) as conn:
        definition = _definition_for_put(conn, sub, rg, gallery, image)
        existing = get_resource(conn, KIND_GALLERY_VERSION, sub, rg, version, parent)
        if existing is not None:
            return _update(ctx, req, conn, existing, payload, props)
        require_live_parent(definition)
        storage = validate.obj(props, "storageProfile")
        source = validate.obj(storage, "source")
        src, src_kind, source_id = _source(conn, sub, source, req.api_version)
        _check_source(src, src_kind, source_id, definition)
        src_region = regions.normalize(src.body["location"])
        published = clock.iso(ctx.now)
        profile = gallery_publishing.new_profile(
            validate.obj(props, "publishingProfile"), location, src_region, published
        )
        eol = validate.obj(props, "publishingProfile").get("endOfLifeDate")
        if eol:
            profile["endOfLifeDate"] = validate.end_of_life(
                eol, "galleryImageVersion.properties.publishingProfile.endOfLifeDate", ctx.now
            )
        def_body = definition.body
        body: dict[str, Any] = {
            "name": version,
            "id": resource_id(
                sub,
                def_body["id"].split("/")[4],
                "galleries",
                gallery,
                "images",
                def_body["name"],
                "versions",
                version,
            ),
            "type": TYPE_NAMES[KIND_GALLERY_VERSION],
            "location": location,
            **resources.tags_of(payload),
            "properties": {
                "publishingProfile": profile,
                "storageProfile": {"source": dict(source)},
                "safetyProfile": _safety({}, _sent_safety(req, props)),
                "provisioningState": "Creating",
            },
        }
        duration = ctx.durations["gallery_image_version_create"]
        names = [r["name"] for r in profile["targetRegions"]]
        emu = {
            "op": None,
            "replication": gallery_publishing.schedule(names, src_region, ctx.now, duration),
            "source_region": src_region,
            "disk_images": disk_images(src),
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
            poll=lro.CAPS,
            settle="gallery_version_ready",
            show=renderer(req, ctx.now),
        )


def _has_safety(req: ArmRequest) -> bool:
    """Whether the request's api-version knows ``safetyProfile`` (2022-01-03 on)."""
    return versions.at_least(req.api_version, versions.GALLERY_SAFETY_PROFILE)


def _sent_safety(req: ArmRequest, props: dict[str, Any]) -> dict[str, Any]:
    """The ``safetyProfile`` of a request; ignored from an api-version that predates it (the
    service does not read fields its api-version does not define)."""
    return validate.obj(props, "safetyProfile") if _has_safety(req) else {}


def _safety(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``reportedForPolicyViolation`` and ``allowDeletionOfReplicatedLocations`` always;
    ``blockDeletionBeforeEndOfLife`` once it was sent (recorded)."""
    out = {
        "reportedForPolicyViolation": False,
        "allowDeletionOfReplicatedLocations": bool(
            current.get("allowDeletionOfReplicatedLocations", False)
        ),
    }
    if "blockDeletionBeforeEndOfLife" in current:
        out["blockDeletionBeforeEndOfLife"] = current["blockDeletionBeforeEndOfLife"]
    for key in ("allowDeletionOfReplicatedLocations", "blockDeletionBeforeEndOfLife"):
        if change.get(key) is not None:
            out[key] = bool(change[key])
    return out


def version_patch(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    """``gallery_image_versions.begin_update``: the SDK accepts only 200 here."""
    payload = req.json()
    props = validate.obj(payload, "properties")
    with lro.writing(ctx) as conn:
        existing = require(conn, KIND_GALLERY_VERSION, sub, rg, version, f"{gallery}/{image}")
        return _update(ctx, req, conn, existing, payload, props)


def _update(
    ctx: Ctx,
    req: ArmRequest,
    conn: sqlite3.Connection,
    res: Resource,
    payload: dict[str, Any],
    props: dict[str, Any],
) -> Response:
    """Apply an update (PUT or PATCH alike: the recorded CLI PUT leaves out the source
    and Azure keeps it) and answer 200 ``Updating``."""
    if res.emu.get("op") or res.emu.get("deleting"):
        raise errors.concurrent_conflict()
    current = res.body["properties"]
    storage = validate.obj(props, "storageProfile")
    _check_storage_unchanged(current["storageProfile"], storage, res)
    change = validate.obj(props, "publishingProfile")
    safety = _safety(current.get("safetyProfile") or {}, _sent_safety(req, props))
    src_region = res.emu.get("source_region") or regions.normalize(res.body["location"])
    profile = gallery_publishing.updated_profile(
        current["publishingProfile"],
        change,
        source_region=src_region,
        # The refusal exists only with the field: an api-version without safetyProfile
        # removes replicated regions as it always did.
        allow_removal=safety["allowDeletionOfReplicatedLocations"] or not _has_safety(req),
    )
    if change.get("endOfLifeDate"):
        profile["endOfLifeDate"] = validate.end_of_life(
            change["endOfLifeDate"],
            "galleryImageVersion.properties.publishingProfile.endOfLifeDate",
            ctx.now,
        )
    duration = ctx.durations["gallery_image_version_update"]
    res.emu["replication"] = gallery_publishing.reschedule(
        gallery_publishing.plan_of(res.emu),
        current["publishingProfile"]["targetRegions"],
        profile["targetRegions"],
        ctx.now,
        duration,
    )
    current["publishingProfile"] = profile
    current["safetyProfile"] = safety
    if "tags" in payload:
        res.body["tags"] = validate.tags(payload)
    return resources.begin_update(
        conn,
        ctx,
        req,
        res,
        duration=duration,
        poll=lro.CAPS,
        show=renderer(req, ctx.now, update_response=True),
        settle="gallery_version_updated",
    )


def _check_storage_unchanged(
    current: dict[str, Any], change: dict[str, Any], res: Resource
) -> None:
    """The source and the data disks are fixed at creation (troubleshooting page texts)."""
    wanted = validate.obj(change, "source")
    had = current.get("source") or {}
    for key in ("id", "virtualMachineId"):
        if wanted.get(key) and str(wanted[key]).lower() != str(had.get(key, "")).lower():
            raise errors.property_change_not_allowed(f"{_SOURCE}.{key}")
    luns = {d.get("lun") for d in change.get("dataDiskImages") or [] if isinstance(d, dict)}
    pending = (res.emu.get("disk_images") or {}).get("dataDiskImages") or []
    known = {d["lun"] for d in current.get("dataDiskImages") or pending}
    if luns - known:
        raise errors.invalid_parameter(
            "Adding new Data Disks or changing the LUN of a Data Disk in an existing Image is "
            "not allowed.",
            target="galleryImageVersion.properties.storageProfile.dataDiskImages",
        )


# --- reads and delete ----------------------------------------------------------------------


def version_get(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    res = require(ctx.store.conn(), KIND_GALLERY_VERSION, sub, rg, version, f"{gallery}/{image}")
    return json_response(200, renderer(req, ctx.now)(res))


def version_list(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str
) -> Response:
    require(ctx.store.conn(), KIND_GALLERY_IMAGE, sub, rg, image, gallery)
    return resources.list_in_group(
        ctx,
        req,
        KIND_GALLERY_VERSION,
        sub,
        rg,
        parent=f"{gallery}/{image}",
        show=renderer(req, ctx.now),
    )


def version_delete(
    ctx: Ctx, req: ArmRequest, sub: str, rg: str, gallery: str, image: str, version: str
) -> Response:
    def definition_exists(conn: Any) -> None:
        _definition_for_put(conn, sub, rg, gallery, image)

    parent = f"{gallery}/{image}"
    return resources.delete(
        ctx,
        req,
        KIND_GALLERY_VERSION,
        sub,
        rg,
        version,
        parent,
        guard=definition_exists,
        poll=lro.CAPS,
    )


# --- settlement ----------------------------------------------------------------------------


@lro.effect("gallery_version_ready")
def _settle_ready(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """The version is built: its disk images appear and it is ``Succeeded``."""
    res = get_resource_by_seq(conn, op.resource_seq or 0)
    if res is None:
        return
    images = res.emu.pop("disk_images", None) or {}
    res.body["properties"]["storageProfile"].update(images)
    save_resource(conn, res)
    resources.release(conn, op, provisioning_state="Succeeded")


@lro.rollback("gallery_version_ready")
def _creation_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    resources.release(conn, op, provisioning_state="Failed")


@lro.effect("gallery_version_updated")
def _settle_update(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    resources.release(conn, op, provisioning_state="Succeeded")


@lro.rollback("gallery_version_updated")
def _update_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed update keeps what it wrote (the 200 showed it); the regions it was
    replicating show ``Failed`` and so does the version (not observed:
    docs/emulator-fidelity.md)."""
    res = get_resource_by_seq(conn, op.resource_seq or 0)
    if res is None:
        return
    res.emu["replication"] = [
        {**entry, "failed": True} if entry["from"] == op.started else entry
        for entry in gallery_publishing.plan_of(res.emu)
    ]
    save_resource(conn, res)
    resources.release(conn, op, provisioning_state="Failed")
