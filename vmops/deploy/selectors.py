"""What the deploy and delete pages read: which images may be deployed, a deployment's
progress, what a delete takes with it, and the VMs built from an image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from catalog.choices import ReviewStatus
from catalog.models import CatalogImage
from contoso_images import azure
from contoso_images.core.models import Subscription
from contoso_images.operations.models import Operation, OperationStatus
from vmops.models import Deployment, VirtualMachine


def allow_unreviewed() -> bool:
    """DEPLOY_ALLOW_UNREVIEWED: images nobody reviewed yet may be deployed (the form says so)."""
    return bool(getattr(settings, "DEPLOY_ALLOW_UNREVIEWED", False))


def deploy_refusal(image: CatalogImage) -> str:
    """Why VMs cannot be created from ``image`` here, or ""."""
    if image.gone_at:
        return f"{image} was deleted in Azure; no VM can be created from it."
    if image.review_status == ReviewStatus.APPROVED:
        return ""
    if image.review_status == ReviewStatus.NOT_REVIEWED and allow_unreviewed():
        return ""
    if image.review_status == ReviewStatus.NOT_REVIEWED:
        return f"{image} has not been reviewed; only approved images can be deployed."
    return (
        f"{image} is {image.get_review_status_display().lower()}; only approved images can "
        "be deployed."
    )


def may_deploy(image: CatalogImage) -> bool:
    return not deploy_refusal(image)


def deploy_subscription(image: CatalogImage) -> Subscription | None:
    """Where the VMs go: the image's subscription (a custom image), else the first one."""
    if image.subscription_id:
        return image.subscription
    return Subscription.objects.order_by("pk").first()


@dataclass(frozen=True)
class DeploymentRow:
    name: str
    reason: str
    operation: Operation | None
    vm: VirtualMachine | None


@dataclass(frozen=True)
class DeploymentProgress:
    rows: list[DeploymentRow]
    succeeded: int
    failed: int
    unfinished: int


def deployment_progress(deployment: Deployment) -> DeploymentProgress:
    """Each VM of a deployment with its operation and, once Azure showed it, its inventory
    row (two queries for up to ten VMs)."""
    ids = [item["operation"] for item in deployment.items if item.get("operation")]
    operations = Operation.objects.in_bulk(ids)
    keys = [op.target_key for op in operations.values()]
    vms = {vm.azure_id: vm for vm in VirtualMachine.objects.filter(azure_id__in=keys)}
    rows = []
    for item in deployment.items:
        op = operations.get(item.get("operation") or 0)
        rows.append(
            DeploymentRow(
                name=item["name"],
                reason=item.get("reason", ""),
                operation=op,
                vm=vms.get(op.target_key) if op else None,
            )
        )
    statuses = [r.operation.status for r in rows if r.operation]
    return DeploymentProgress(
        rows=rows,
        succeeded=statuses.count(OperationStatus.SUCCEEDED),
        failed=statuses.count(OperationStatus.FAILED) + sum(1 for r in rows if r.reason),
        unfinished=sum(1 for r in rows if r.operation and r.operation.is_unfinished),
    )


@dataclass(frozen=True)
class DeletePlan:
    """What deleting a VM takes with it and what stays (and stays billed)."""

    goes: list[str]
    stays: list[str]


def delete_plan(detail: azure.VirtualMachineDetail) -> DeletePlan:
    goes, stays = [f"The VM {detail.vm.name}"], []
    for disk in detail.disks:
        what = (
            f"OS disk {disk.name}"
            if disk.kind == "os"
            else f"Data disk {disk.name} (LUN {disk.lun})"
        )
        if disk.size_gb:
            what += f", {disk.size_gb} GiB"
        if disk.delete_option.lower() == "delete":
            goes.append(what)
        else:
            stays.append(f"{what}: detached and kept, still billed")
    for nic_id, option in detail.network_interface_delete_options:
        what = f"Network interface {nic_id.rsplit('/', 1)[-1]}"
        if option.lower() == "delete":
            goes.append(what)
        else:
            stays.append(f"{what}: kept")
    return DeletePlan(goes=goes, stays=stays)


def vms_built_from(image: CatalogImage, *, limit: int = 100) -> QuerySet[VirtualMachine]:
    return (
        VirtualMachine.objects.filter(catalog_image=image)
        .select_related("subscription")
        .order_by("deleted_at", "gone_at", "name")[:limit]
    )


def vms_to_delete(*, user: Any, ids: list[int]) -> QuerySet[VirtualMachine]:
    """The ticked VMs that are still in Azure (a VM deleted already is left out)."""
    if not user.has_perm("vmops.view_virtualmachine"):
        return VirtualMachine.objects.none()
    return (
        VirtualMachine.objects.filter(pk__in=ids, gone_at__isnull=True, deleted_at__isnull=True)
        .select_related("subscription")
        .order_by("name")
    )
