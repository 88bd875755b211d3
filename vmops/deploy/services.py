"""Asking for VMs to be created from a catalog image, and for a VM to be deleted.

A deployment is written in one transaction: the Deployment row, one ``vm.create`` operation
per VM name (each on its own future VM, so a batch takes turns on the workers like a
multi-select), and for a password, its ciphertext beside each operation. The tasks are queued
on commit with the operation's id only.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import CatalogImage
from contoso_images.core.errors import ActionRefused
from contoso_images.core.models import Subscription
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import Target
from contoso_images.operations.services import (
    ManyResult,
    RequestItem,
    operation_request,
    operation_request_many,
    unfinished_operation,
)
from vmops.deploy import secrets
from vmops.deploy.preflight import DeployAsk, image_reference, security_type
from vmops.deploy.specs import CREATE_KIND, DELETE_KIND, created_by
from vmops.models import VM_TYPE, Deployment, VirtualMachine
from vmops.services.inventory import vm_read_live


def vm_target(subscription_id: str, resource_group: str, name: str) -> Target:
    return Target(
        id=f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
        f"{VM_TYPE}/{name}",
        type=VM_TYPE,
        name=name,
        resource_group=resource_group,
        subscription_id=subscription_id,
    )


def deploy_tags(*, image: CatalogImage, user: Any, extra: dict[str, str]) -> dict[str, str]:
    """The tags every VM created here carries (owner, catalog image), plus the form's.
    ``created-by`` is added per operation when the create is sent."""
    tags = dict(extra)
    owner = getattr(user, "email", "") or (user.get_username() if user is not None else "")
    if owner:
        tags["owner"] = owner[:256]
    tags["catalog-image"] = str(image)[:256]
    tags.setdefault("created-by", "contoso-images")
    return tags


def create_parameters(ask: DeployAsk, *, name: str, tags: dict[str, str]) -> dict[str, Any]:
    """An operation's parameters: everything the create needs except the password."""
    image = ask.image
    return {
        "catalog_image": image.pk,
        "image": image_reference(image, latest=ask.latest),
        "plan": image.plan or None,
        "security_type": security_type(image),
        "location": ask.location,
        "size": ask.size,
        "os_type": ask.os_type,
        "admin_username": ask.admin_username,
        "computer_name": name,
        "ssh_public_key": ask.ssh_public_key.strip(),
        "has_password": bool(ask.admin_password),
        "subnet_id": ask.subnet_id,
        "tags": tags,
    }


def deploy_request(
    *, ask: DeployAsk, subscription_id: str, user: Any, tags: dict[str, str]
) -> Deployment:
    """Queue the creates of every VM the request names (after its pre-flight passed).

    Raises PermissionDenied (recorded) when the user's role does not allow it, and
    ActionRefused when every VM was refused (a name already being created).
    """
    subscription, _ = Subscription.objects.get_or_create(subscription_id=subscription_id)
    all_tags = deploy_tags(image=ask.image, user=user, extra=tags)
    with transaction.atomic():
        items = [
            RequestItem(
                target=vm_target(subscription_id, ask.resource_group, name),
                subject=None,
                parameters=create_parameters(ask, name=name, tags=all_tags),
            )
            for name in ask.names
        ]
        result = operation_request_many(kind=CREATE_KIND, items=items, user=user)
        if not result.created and not result.already:
            raise ActionRefused(" ".join(reason for _, reason in result.refused))
        by_key = {op.target_key: op for op in [*result.created, *result.already]}
        if ask.admin_password:
            for operation in result.created:
                secrets.keep(operation, ask.admin_password)
        deployment = Deployment.objects.create(
            requested_by=user,
            requested_at=timezone.now(),
            catalog_image=ask.image,
            subscription=subscription,
            resource_group=ask.resource_group,
            location=ask.location,
            size=ask.size,
            items=[
                {
                    "name": item.target.name,
                    "operation": by_key[item.target.key].pk if item.target.key in by_key else None,
                    "reason": next((r for t, r in result.refused if t.key == item.target.key), ""),
                }
                for item in items
            ],
        )
    return deployment


def vm_delete_request(*, vm: VirtualMachine, user: Any, force: bool = False) -> Operation:
    """Queue the delete of ``vm``; refused (ActionRefused, recorded) while another operation,
    a capture say, runs on it."""
    operation, _ = operation_request(
        kind=DELETE_KIND,
        target=vm.target,
        subject=vm,
        user=user,
        parameters={"force": bool(force)},
    )
    return operation


def vms_delete_request(*, vms: list[VirtualMachine], user: Any) -> ManyResult:
    """Queue the delete of many VMs at once (a multi-select); busy ones are refused."""
    items = [RequestItem(target=vm.target, subject=vm, parameters={"force": False}) for vm in vms]
    return operation_request_many(kind=DELETE_KIND, items=items, user=user)


def unfinished_on(vm: VirtualMachine) -> Operation | None:
    """The operation under way on the VM (a capture, a power action), if any."""
    return unfinished_operation(target_key=vm.azure_id)


__all__ = [
    "created_by",
    "deploy_request",
    "unfinished_on",
    "vm_delete_request",
    "vms_delete_request",
    "vm_read_live",
    "vm_target",
]
