"""Managed images (``Microsoft.Compute/images``): PUT from a generalized VM, GET, lists,
DELETE. PUT answers 201 ``Creating`` + Azure-AsyncOperation; the final GET shows
``Succeeded`` once the ``image_create`` duration has passed."""

from __future__ import annotations

from . import catalog, errors, lro, resources, validate
from .lookup import KIND_IMAGE, KIND_VM, TYPE_NAMES, parse_id, require, require_rg
from .state import get_resource
from .wire import ArmRequest, Ctx, Response


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
            if existing.emu.get("op"):
                raise errors.concurrent_conflict()
            return resources.updated(conn, existing, payload)
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
        )


def get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    return resources.get(ctx, KIND_IMAGE, sub, rg, image)


def list_by_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_IMAGE, sub, rg)


def list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_IMAGE, sub)


def delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, image: str) -> Response:
    return resources.delete(ctx, req, KIND_IMAGE, sub, rg, image)
