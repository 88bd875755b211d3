"""Managed disks (DiskRP, ``Microsoft.Compute/disks``), as far as deleting VMs needs them:
read, list (subscription, resource group) and delete.

Disks are created with the VM that uses them (``handlers_deploy``). Deleting a disk a VM
still uses is refused with the 409 ``OperationNotAllowed`` "Disk <name> is attached to VM
<vm id>." (ansible/ansible#54644 quotes it); deleting an unattached one answers 202 and
polls under ``locations/{loc}/DiskOperations/{id}``, as DiskRP's do.
"""

from __future__ import annotations

from . import errors, lro, resources
from .disk_model import KIND_DISK
from .lookup import require_rg
from .state import get_resource
from .wire import ArmRequest, Ctx, Response, json_response

DISK_POLL = "DiskOperations"


def list_all(ctx: Ctx, req: ArmRequest, sub: str) -> Response:
    return resources.list_in_subscription(ctx, req, KIND_DISK, sub)


def list_by_rg(ctx: Ctx, req: ArmRequest, sub: str, rg: str) -> Response:
    return resources.list_in_group(ctx, req, KIND_DISK, sub, rg)


def get(ctx: Ctx, req: ArmRequest, sub: str, rg: str, disk: str) -> Response:
    conn = ctx.store.conn()
    require_rg(conn, sub, rg)
    res = get_resource(conn, KIND_DISK, sub, rg, disk)
    if res is None:
        raise errors.resource_not_found(f"Microsoft.Compute/disks/{disk}", rg)
    return json_response(200, resources.render(res))


def delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, disk: str) -> Response:
    with lro.writing(ctx) as conn:
        require_rg(conn, sub, rg)
        res = get_resource(conn, KIND_DISK, sub, rg, disk)
        if res is not None and res.body.get("managedBy"):
            raise errors.ArmError(
                409,
                "OperationNotAllowed",
                f"Disk {res.body['name']} is attached to VM {res.body['managedBy']}.",
            )
    return resources.delete(ctx, req, KIND_DISK, sub, rg, disk, poll=DISK_POLL)
