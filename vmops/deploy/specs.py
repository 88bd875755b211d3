"""Creating a VM and deleting one: two kinds on the shared engine, one step each.

``vm.create`` targets a VM that does not exist yet (its ARM id is known from the name), so a
batch of ten is ten operations, each on its own VM, taking turns on the workers. Its step
reads the VM before sending: a VM of that name carrying this operation's ``created-by`` tag
is the earlier attempt's, adopted and watched, never created twice (a PUT whose answer was
lost is not resent); one without the tag is someone else's, and nothing is sent. The VM
enters the inventory as soon as Azure shows it, linked to its catalog image.

``vm.delete`` sends one DELETE; its disks and NIC go or stay as their deleteOption says.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.utils import timezone

from contoso_images import azure
from contoso_images.core.models import Subscription
from contoso_images.operations.models import Operation
from contoso_images.operations.registry import (
    Observation,
    OperationSpec,
    Step,
    StepContext,
    StepFailed,
)
from vmops.deploy import secrets
from vmops.models import VM_TYPE, VirtualMachine
from vmops.services.inventory import vm_apply_detail, vm_read_live

DEPLOY = "vmops.deploy_virtualmachine"
DELETE = "vmops.delete_virtualmachine"
CREATE_KIND = "vm.create"
DELETE_KIND = "vm.delete"
#: The tag that says which operation made a VM (how a re-read recognises its own VM).
CREATED_BY = "created-by"


def created_by(operation: Operation) -> str:
    return f"contoso-images/operation/{operation.pk}"


def record_vm(
    *, subscription_id: str, detail: azure.VirtualMachineDetail, catalog_image_id: int | None
) -> VirtualMachine:
    """Put a VM Azure just reported into the inventory (new, or brought up to date), linked
    to the catalog image it was created from."""
    now = timezone.now()
    subscription, _ = Subscription.objects.get_or_create(subscription_id=subscription_id)
    vm, _ = VirtualMachine.objects.get_or_create(
        azure_id=detail.vm.id.lower(),
        defaults={
            "subscription": subscription,
            "name": detail.vm.name,
            "resource_group": detail.vm.resource_group,
            "location": detail.vm.location,
            "reported_at": now,
        },
    )
    vm_apply_detail(vm=vm, detail=detail, now=now)
    if vm.deleted_at:
        # A new VM under the name of one deleted earlier: the row (and its history) is reused.
        vm.deleted_at = None
        vm.save(update_fields=["deleted_at"])
    if catalog_image_id and vm.catalog_image_id != catalog_image_id:
        vm.catalog_image_id = catalog_image_id
        vm.save(update_fields=["catalog_image"])
    return vm


def create_spec_of(operation: Operation, password: str) -> azure.VmCreateSpec:
    """The gateway's create spec from the operation's parameters (and the password, which
    the parameters never hold)."""
    p = operation.parameters
    image = p["image"]
    tags = {**p.get("tags", {}), CREATED_BY: created_by(operation)}
    return azure.VmCreateSpec(
        location=p["location"],
        size=p["size"],
        image=azure.ImageReference(
            publisher=image.get("publisher", ""),
            offer=image.get("offer", ""),
            sku=image.get("sku", ""),
            version=image.get("version", ""),
            id=image.get("id", ""),
        ),
        os_type=p["os_type"],
        admin_username=p["admin_username"],
        computer_name=p.get("computer_name", ""),
        ssh_public_key=p.get("ssh_public_key", ""),
        admin_password=password,
        subnet_id=p["subnet_id"],
        plan=p.get("plan") or None,
        security_type=p.get("security_type", ""),
        tags=tags,
    )


class CreateVm(Step):
    """PUT the VM, unless Azure already shows it (an earlier attempt's, by its tag)."""

    name, label, result_kind = "create", "Create the VM", "vm_create"

    def _read(self, ctx: StepContext) -> azure.VirtualMachineDetail | None:
        op = ctx.operation
        try:
            return azure.vm_get(op.target_subscription_id, op.target_resource_group, op.target_name)
        except azure.AzureError as exc:
            if exc.is_not_found:
                return None
            raise

    def observe(self, ctx: StepContext) -> Observation:
        op = ctx.operation
        if not ctx.watching and ctx.sent is None:
            ctx.report(f"Checking that {op.target_name} does not exist yet.")
        detail = self._read(ctx)
        if detail is None:
            if ctx.watching:
                return Observation(unexpected="Azure no longer shows the VM being created.")
            # Not there: the request never arrived (or never left): send it.
            return Observation()
        if detail.vm.tags.get(CREATED_BY) != created_by(op):
            return Observation(
                unexpected=f"A VM named {op.target_name} already exists in resource group "
                f"{op.target_resource_group}, not created by this deployment: nothing was sent."
            )
        # Ours: Azure has the password now, whatever happens next.
        secrets.forget(op)
        self._record(ctx, detail)
        state = detail.vm.provisioning_state.lower()
        if state == "succeeded":
            return Observation(done=True, note="Azure shows the VM created.")
        if state == "failed":
            return Observation(
                unexpected="Azure shows the VM's creation failed; see the VM in Azure."
            )
        return Observation(in_flight=True, note=f"Azure shows {op.target_name} {state}.")

    def _record(self, ctx: StepContext, detail: azure.VirtualMachineDetail) -> None:
        ctx.cache["vm"] = record_vm(
            subscription_id=ctx.operation.target_subscription_id,
            detail=detail,
            catalog_image_id=ctx.parameters.get("catalog_image"),
        )

    def begin(self, ctx: StepContext) -> str | None:
        op = ctx.operation
        password = ""
        if ctx.parameters.get("has_password"):
            password = secrets.read(op)
            if not password:
                raise StepFailed(
                    "The admin password is no longer available to the dashboard, so the VM "
                    "was not created; start the deployment again.",
                    code="PasswordUnavailable",
                )
        ctx.report(f"Sending the create of {op.target_name} to Azure.")
        return azure.vm_begin_create(
            op.target_subscription_id,
            op.target_resource_group,
            op.target_name,
            create_spec_of(op, password),
        )

    def accepted(self, ctx: StepContext) -> None:
        secrets.forget(ctx.operation)
        ctx.report("Azure accepted the create; the VM is being provisioned.")
        # The VM is listed as soon as Azure shows it; a failed read only delays that.
        with contextlib.suppress(azure.AzureError):
            detail = self._read(ctx)
            if detail is not None:
                self._record(ctx, detail)

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        ctx.cache["step_note"] = "Azure created the VM."
        if isinstance(result, azure.VmCreateResult) and result.exact_version:
            ctx.cache["step_note"] = f"Azure created the VM from version {result.exact_version}."


def _create_finished(ctx: StepContext) -> None:
    """Whatever the end: no password is kept, and a VM Azure shows is in the inventory
    (a half-created one too, so that nothing is left unlisted)."""
    secrets.forget(ctx.operation)
    with contextlib.suppress(azure.AzureError):
        detail = CreateVm()._read(ctx)
        if detail is not None and detail.vm.tags.get(CREATED_BY) == created_by(ctx.operation):
            record_vm(
                subscription_id=ctx.operation.target_subscription_id,
                detail=detail,
                catalog_image_id=ctx.parameters.get("catalog_image"),
            )


CREATE_SPEC = OperationSpec(
    kind=CREATE_KIND,
    label="Create VM",
    permission=DEPLOY,
    target_type=VM_TYPE,
    steps=(CreateVm(),),
    finished=_create_finished,
)


def _vm(ctx: StepContext) -> VirtualMachine:
    if "vm" not in ctx.cache:
        ctx.cache["vm"] = VirtualMachine.objects.select_related("subscription").get(
            azure_id=ctx.operation.target_key
        )
    vm: VirtualMachine = ctx.cache["vm"]
    return vm


class DeleteVm(Step):
    """DELETE the VM (``forceDeletion`` only when asked); done when Azure no longer has it."""

    name, label, result_kind = "delete", "Delete the VM", "vm_delete"

    def observe(self, ctx: StepContext) -> Observation:
        vm = _vm(ctx)
        try:
            detail = vm_read_live(vm=vm)
        except azure.AzureError as exc:
            if exc.is_not_found:
                return Observation(done=True, note="Azure no longer has the VM.")
            raise
        if ctx.watching or (
            ctx.sent is not None and detail.vm.provisioning_state.lower() == "deleting"
        ):
            return Observation(in_flight=True, note="Azure is deleting the VM.")
        return Observation()

    def begin(self, ctx: StepContext) -> str | None:
        vm = _vm(ctx)
        ctx.report(f"Sending the delete of {vm.name} to Azure.")
        return azure.vm_begin_delete(
            vm.subscription.subscription_id,
            vm.resource_group,
            vm.name,
            force=bool(ctx.parameters.get("force")),
        )

    def succeeded(self, ctx: StepContext, result: object | None) -> None:
        ctx.cache["step_note"] = "Azure deleted the VM."


def _delete_precheck(vm: VirtualMachine, parameters: dict[str, Any]) -> str:
    if vm.deleted_at or vm.gone_at:
        return f"{vm.name} is no longer in Azure; there is nothing to delete."
    return ""


def _mark_deleted(ctx: StepContext) -> None:
    """Inside the success's transaction: the VM is marked deleted (kept, never forgotten)."""
    now = timezone.now()
    VirtualMachine.objects.filter(azure_id=ctx.operation.target_key).update(
        deleted_at=now, gone_at=now
    )


DELETE_SPEC = OperationSpec(
    kind=DELETE_KIND,
    label="Delete",
    permission=DELETE,
    target_type=VM_TYPE,
    precheck=_delete_precheck,
    steps=(DeleteVm(),),
    on_succeeded=_mark_deleted,
)

SPECS = (CREATE_SPEC, DELETE_SPEC)
