"""Managed images (``Microsoft.Compute/images``): PUT from a generalized VM, GET, lists,
DELETE. PUT answers 201 ``Creating`` + Azure-AsyncOperation; the final GET shows
``Succeeded`` once the ``image_create`` duration has passed."""

from __future__ import annotations

from typing import Any

from . import catalog, errors, lro, validate
from .lookup import KIND_IMAGE, KIND_VM, TYPE_NAMES, parse_id, require, require_rg, require_sub
from .paging import paged
from .state import Resource, get_resource, insert_resource, page_resources, save_resource
from .wire import ArmRequest, Ctx, Response, json_response


def render(res: Resource) -> dict[str, Any]:
    body = dict(res.body)
    if res.emu.get("deleting"):
        body["properties"] = {**body["properties"], "provisioningState": "Deleting"}
    return body


def create(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    validate.image_name(image)
    payload = req.json()
    location = catalog.normalize_region(validate.location(payload))
    props = validate.obj(payload, "properties")
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
            if existing.emu.get("op"):
                raise errors.concurrent_conflict()
            existing.body["tags"] = validate.tags(payload)
            save_resource(conn, existing)
            return json_response(200, render(existing))
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
            raise errors.invalid_parameter(
                f"The Hyper-V generation '{asked}' of the image does not match the generation "
                f"'{generation}' of the source virtual machine '{vm_name}'.",
                target="hyperVGeneration",
            )
        if catalog.normalize_region(vm.body["location"]) != location:
            raise errors.invalid_parameter(
                f"The image must be created in the location of its source virtual machine "
                f"('{vm.body['location']}').",
                target="location",
            )
        os_disk = vm.body["properties"]["storageProfile"]["osDisk"]
        rid = (
            f"/subscriptions/{sub}/resourceGroups/{rg_name}/providers/"
            f"{TYPE_NAMES[KIND_IMAGE]}/{image}"
        )
        body = {
            "name": image,
            "id": rid,
            "type": TYPE_NAMES[KIND_IMAGE],
            "location": location,
            "tags": validate.tags(payload),
            "properties": {
                "sourceVirtualMachine": {"id": vm.body["id"]},
                "storageProfile": {
                    "osDisk": {
                        "osType": os_disk["osType"],
                        "osState": "Generalized",
                        "managedDisk": {"id": os_disk["managedDisk"]["id"]},
                        "caching": "ReadWrite",
                        "storageAccountType": "Premium_LRS",
                        "diskSizeGB": os_disk.get("diskSizeGB", 30),
                    },
                    "dataDisks": [],
                    "zoneResilient": False,
                },
                "provisioningState": "Creating",
                "hyperVGeneration": generation,
            },
        }
        seq = insert_resource(conn, KIND_IMAGE, sub, rg, image, body, {"op": None})
        op = lro.start(
            conn,
            ctx,
            sub=sub,
            location=location,
            kind="resource_ready",
            resource_seq=seq,
            duration=ctx.durations["image_create"],
        )
        res = require(conn, KIND_IMAGE, sub, rg, image)
        res.emu["op"] = {"id": op.id, "kind": "image_create", "until": op.due}
        save_resource(conn, res)
    head = lro.headers(op, req.api_version or "")
    head.pop("Location")
    return json_response(201, body, head)


def get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    return json_response(200, render(require(ctx.store.conn(), KIND_IMAGE, sub, rg, image)))


def list_by_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    conn = ctx.store.conn()
    require_rg(conn, sub, rg)
    return paged(
        ctx,
        req,
        lambda after, limit: page_resources(conn, KIND_IMAGE, sub, rg=rg, after=after, limit=limit),
        render,
    )


def list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    conn = ctx.store.conn()
    require_sub(conn, sub)
    return paged(
        ctx,
        req,
        lambda after, limit: page_resources(conn, KIND_IMAGE, sub, after=after, limit=limit),
        render,
    )


def delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    return delete_resource_lro(ctx, req, KIND_IMAGE, sub, rg, image)


def delete_resource_lro(
    ctx: Ctx, req: ArmRequest, kind: str, sub: str, rg: str, name: str, parent: str = ""
) -> Response:
    """DELETE → 202 + Azure-AsyncOperation; the row disappears when the op settles.

    Deleting something that does not exist answers 204, as ARM does."""
    with lro.writing(ctx) as conn:
        require_rg(conn, sub, rg)
        res = get_resource(conn, kind, sub, rg, name, parent)
        if res is None:
            return Response(204, {}, b"")
        if res.emu.get("op") and not res.emu.get("deleting"):
            raise errors.concurrent_conflict()
        op = lro.start(
            conn,
            ctx,
            sub=sub,
            location=catalog.normalize_region(res.body["location"]),
            kind="resource_delete",
            resource_seq=res.seq,
            duration=ctx.durations["delete"],
        )
        res.emu["deleting"] = True
        res.emu["op"] = {"id": op.id, "kind": "delete", "until": op.due}
        save_resource(conn, res)
    return lro.accepted(op, req.api_version or "")
