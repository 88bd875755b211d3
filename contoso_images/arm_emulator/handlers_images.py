"""Managed images (``Microsoft.Compute/images``): PUT from a generalized VM, GET, lists,
DELETE.

A creation answers 201 ``Creating`` + Azure-AsyncOperation, as recorded: disks of a
managed-disk VM are listed without ``diskSizeGB`` until the image is ready; a VM with
blob (VHD) disks gives ``blobUri`` disks that carry their size at once. The VM must be
generalized; it may be stopped and still allocated (test_vm_generalize: power off,
generalize, image create → 201). ``zoneResilient`` is echoed only when sent.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import errors, lro, regions, resources, validate
from .lookup import KIND_IMAGE, KIND_VM, TYPE_NAMES, parse_id, require, require_rg
from .state import Resource, get_resource, get_resource_by_seq, save_resource
from .wire import ArmRequest, Ctx, Response

DEFAULT_MANAGED_TYPE = "Premium_LRS"
BLOB_TYPE = "Standard_LRS"


def _image_disk(disk: dict[str, Any], *, lun: int | None, os_type: str | None) -> dict[str, Any]:
    """One disk of an image made from the VM disk ``disk``."""
    out: dict[str, Any] = {}
    if lun is not None:
        out["lun"] = lun
    if os_type is not None:
        out["osType"] = os_type
        out["osState"] = "Generalized"
    if "vhd" in disk:
        out["diskSizeGB"] = disk.get("diskSizeGB") or 30
        out["blobUri"] = disk["vhd"]["uri"]
        out["caching"] = disk.get("caching") or "None"
        out["storageAccountType"] = BLOB_TYPE
    else:
        managed = disk.get("managedDisk") or {}
        out["managedDisk"] = {"id": managed.get("id", "")}
        out["caching"] = disk.get("caching") or "None"
        out["storageAccountType"] = managed.get("storageAccountType") or DEFAULT_MANAGED_TYPE
    return out


def _pending_sizes(vm: Resource) -> dict[str, int]:
    """Disk sizes (by ``os`` or LUN) that a managed-disk image shows once it is ready."""
    storage = vm.body["properties"]["storageProfile"]
    known = vm.emu.get("disk_sizes") or {}
    sizes = {"os": int(storage["osDisk"].get("diskSizeGB") or known.get("os") or 30)}
    for disk in storage.get("dataDisks") or []:
        sizes[str(disk["lun"])] = int(disk.get("diskSizeGB") or known.get(str(disk["lun"])) or 0)
    return sizes


def create(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    validate.image_name(image)
    payload, location, props = validate.put_body(req)
    source = validate.obj(props, "sourceVirtualMachine").get("id")
    if not isinstance(source, str) or not source:
        raise errors.invalid_parameter(
            "The emulator supports images from a virtual machine only: "
            "'properties.sourceVirtualMachine.id' is required.",
            target="sourceVirtualMachine",
        )
    with lro.writing(ctx) as conn:
        rg_name = require_rg(conn, sub, rg)
        existing = get_resource(conn, KIND_IMAGE, sub, rg, image)
        if existing is not None:
            return _update(ctx, req, conn, existing, payload, source)
        parsed = parse_id(source)
        if parsed is None or parsed[2] != KIND_VM or parsed[0].lower() != sub.lower():
            raise errors.invalid_parameter(
                f"The source virtual machine id '{source}' is invalid.",
                target="sourceVirtualMachine",
            )
        vm = require(conn, KIND_VM, parsed[0], parsed[1], parsed[3])
        vm_name = vm.body["name"]
        if vm.emu.get("deleting"):
            raise errors.vm_deleting("Create Image", vm_name)
        if not vm.emu.get("os_generalized"):
            raise errors.vm_not_generalized_for_image(vm_name)
        generation = vm.emu.get("generation", "V1")
        asked = props.get("hyperVGeneration")
        if asked is not None and str(asked).upper() != generation:
            # Azure's words, as `az image create` without --hyper-v-generation V2 shows them
            # for a Gen 2 VM (docs/emulator-fidelity.md).
            raise errors.invalid_parameter(
                f"The Input HyperVGeneration property: '{asked}' does not match with the "
                f"HyperVGeneration property: 'Gen{generation[-1]}' belonging to source: "
                "'sourceVirtualMachine'.",
                target="hyperVGeneration",
            )
        if regions.normalize(vm.body["location"]) != location:
            raise errors.invalid_parameter(
                f"The image must be created in the location of its source virtual machine "
                f"('{vm.body['location']}').",
                target="location",
            )
        storage = vm.body["properties"]["storageProfile"]
        os_disk = storage["osDisk"]
        image_storage: dict[str, Any] = {
            "osDisk": _image_disk(os_disk, lun=None, os_type=os_disk["osType"]),
            "dataDisks": [
                _image_disk(d, lun=d["lun"], os_type=None) for d in storage.get("dataDisks") or []
            ],
        }
        asked_storage = validate.obj(props, "storageProfile")
        if "zoneResilient" in asked_storage:
            image_storage["zoneResilient"] = bool(asked_storage["zoneResilient"])
        rid = (
            f"/subscriptions/{sub}/resourceGroups/{rg_name}/providers/"
            f"{TYPE_NAMES[KIND_IMAGE]}/{image}"
        )
        body = {
            "name": image,
            "id": rid,
            "type": TYPE_NAMES[KIND_IMAGE],
            "location": location,
            **resources.tags_of(payload),
            "properties": {
                "sourceVirtualMachine": {"id": vm.body["id"]},
                "storageProfile": image_storage,
                "provisioningState": "Creating",
                "hyperVGeneration": generation,
            },
        }
        emu = {"op": None, "disk_sizes": _pending_sizes(vm)}
        return resources.created(
            ctx,
            req,
            conn,
            kind=KIND_IMAGE,
            sub=sub,
            rg=rg,
            name=image,
            body=body,
            duration=ctx.durations["image_create"],
            emu=emu,
            settle="image_ready",
        )


def _update(
    ctx: Ctx,
    req: ArmRequest,
    conn: sqlite3.Connection,
    res: Resource,
    payload: dict[str, Any],
    source: str,
) -> Response:
    """A PUT on an existing image: the same source updates its tags (200 ``Updating``);
    another source is refused. Neither answer is observed (docs/emulator-fidelity.md)."""
    had = res.body["properties"].get("sourceVirtualMachine", {}).get("id", "")
    if source.lower() != had.lower():
        raise errors.property_change_not_allowed("properties.sourceVirtualMachine.id")
    if "tags" in payload:
        res.body["tags"] = validate.tags(payload)
    return resources.begin_update(conn, ctx, req, res, duration=ctx.durations["image_create"])


def get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    return resources.get(ctx, KIND_IMAGE, sub, rg, image)


def list_by_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_IMAGE, sub, rg)


def list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_IMAGE, sub)


def delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    return resources.delete(ctx, req, KIND_IMAGE, sub, rg, image)


@lro.effect("image_ready")
def _settle_ready(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """The image is built: its managed disks now show their size (recorded)."""
    res = get_resource_by_seq(conn, op.resource_seq or 0)
    if res is None:
        return
    sizes = res.emu.pop("disk_sizes", None) or {}
    storage = res.body["properties"]["storageProfile"]
    storage["osDisk"] = _with_size(storage["osDisk"], sizes.get("os"))
    storage["dataDisks"] = [
        _with_size(d, sizes.get(str(d.get("lun")))) for d in storage.get("dataDisks") or []
    ]
    save_resource(conn, res)
    resources.release(conn, op, provisioning_state="Succeeded")


def _with_size(disk: dict[str, Any], size: int | None) -> dict[str, Any]:
    """``diskSizeGB`` goes where the recorded ready image has it: after ``osState`` on the
    OS disk, after ``lun`` on a data disk."""
    if "diskSizeGB" in disk or not size:
        return disk
    out: dict[str, Any] = {}
    for key, value in disk.items():
        out[key] = value
        if key in ("osState", "lun"):
            out["diskSizeGB"] = size
    return out


@lro.rollback("image_ready")
def _creation_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed creation leaves the image behind in ``Failed``, as ARM does."""
    resources.release(conn, op, provisioning_state="Failed")
