"""The Azure CLI and PowerShell commands equivalent to what the catalog shows and does.

An image's page shows how to create a VM from it and, for a gallery version, the update its
review carries out in Azure, so an administrator can check, script or repeat it. Names come
from Azure, so each is quoted by the rules of the shell it is pasted into: POSIX sh for
``az`` and PowerShell's verbatim strings for the Az module.
"""

from __future__ import annotations

from datetime import datetime

from catalog.decisions import DECISIONS
from catalog.models import CatalogImage
from catalog.services.replication import WantedRegion
from contoso_images.core.cli import EquivalentCommand
from contoso_images.core.cli import powershell_quote as ps
from contoso_images.core.cli import sh_quote as sh


def _vm_from_id(image_id: str, action: str, location: str) -> EquivalentCommand:
    return EquivalentCommand(
        action,
        "az vm create --resource-group <resource-group> --name <vm-name> "
        f"--image {sh(image_id)} --location {sh(location or '<region>')}",
        "$vm = New-AzVMConfig -VMName '<vm-name>' -VMSize 'Standard_D2s_v5' | "
        f"Set-AzVMSourceImage -Id {ps(image_id)}; "
        "New-AzVM -ResourceGroupName '<resource-group>' "
        f"-Location {ps(location or '<region>')} -VM $vm",
    )


def create_vm_commands(image: CatalogImage) -> list[EquivalentCommand]:
    """How to create a VM from the image (placeholders in angle brackets)."""
    if image.is_marketplace:
        return _marketplace_commands(image)
    commands = [_vm_from_id(image.resource_id, "Create a VM from this image", image.location)]
    definition = image.definition
    if image.is_gallery_version and definition is not None:
        commands.append(
            _vm_from_id(
                definition.resource_id,
                "Create a VM from the latest version of its definition",
                image.location,
            )
        )
    return commands


def _marketplace_commands(image: CatalogImage) -> list[EquivalentCommand]:
    urn = image.urn
    commands = []
    plan = image.plan or {}
    if plan:
        commands.append(
            EquivalentCommand(
                "Accept the plan's terms (once per subscription)",
                f"az vm image terms accept --urn {sh(urn)}",
                f"Get-AzMarketplaceTerms -Publisher {ps(plan.get('publisher', ''))} "
                f"-Product {ps(plan.get('product', ''))} -Name {ps(plan.get('name', ''))} "
                "| Set-AzMarketplaceTerms -Accept",
            )
        )
    plan_ps = ""
    if plan:
        plan_ps = (
            f" | Set-AzVMPlan -Publisher {ps(plan.get('publisher', ''))} "
            f"-Product {ps(plan.get('product', ''))} -Name {ps(plan.get('name', ''))}"
        )
    commands.append(
        EquivalentCommand(
            "Create a VM from this image",
            f"az vm create --resource-group <resource-group> --name <vm-name> --image {sh(urn)}"
            f" --location {sh(image.location or '<region>')}",
            "$vm = New-AzVMConfig -VMName '<vm-name>' -VMSize 'Standard_D2s_v5' | "
            f"Set-AzVMSourceImage -PublisherName {ps(image.publisher)} -Offer {ps(image.offer)} "
            f"-Skus {ps(image.sku)} -Version {ps(image.version)}{plan_ps}; "
            "New-AzVM -ResourceGroupName '<resource-group>' -Location "
            f"{ps(image.location or '<region>')} -VM $vm",
        )
    )
    return commands


def replication_command(
    image: CatalogImage, regions: list[WantedRegion] | None = None, *, allow_removal: bool = False
) -> EquivalentCommand | None:
    """``az sig image-version update --target-regions`` for a gallery version: with
    ``regions`` the change asked for, else its replication as last read (to edit). The whole
    list is sent: a region left out is removed, which Azure allows only with
    ``--allow-replicated-location-deletion``."""
    definition = image.definition
    if not image.is_gallery_version or definition is None:
        return None
    if regions is None:
        regions = [
            WantedRegion(
                str(r.get("region", "")).replace(" ", "").lower(),
                int(r.get("replica_count") or 1),
                str(r.get("storage_account_type") or "Standard_LRS"),
            )
            for r in image.replication or []
        ] or [WantedRegion(image.location or "<region>", 1, "Standard_LRS")]
    az_regions = " ".join(sh(f"{r.name}={r.replicas}={r.storage}") for r in regions)
    ps_regions = ", ".join(
        f"@{{Name={ps(r.name)}; ReplicaCount={r.replicas}; StorageAccountType={ps(r.storage)}}}"
        for r in regions
    )
    az_removal = " --allow-replicated-location-deletion true" if allow_removal else ""
    ps_removal = " -AllowDeletionOfReplicatedLocation" if allow_removal else ""
    return EquivalentCommand(
        "Change the replication (target regions, replicas per region, storage type)",
        f"az sig image-version update --resource-group {sh(image.resource_group)} "
        f"--gallery-name {sh(definition.gallery_name)} "
        f"--gallery-image-definition {sh(definition.name)} "
        f"--gallery-image-version {sh(image.name)} --target-regions {az_regions}{az_removal}",
        f"Update-AzGalleryImageVersion -ResourceGroupName {ps(image.resource_group)} "
        f"-GalleryName {ps(definition.gallery_name)} "
        f"-GalleryImageDefinitionName {ps(definition.name)} -Name {ps(image.name)} "
        f"-TargetRegion @({ps_regions}){ps_removal}",
    )


def review_effect_commands(
    image: CatalogImage, *, end_of_life_date: datetime | None = None
) -> list[EquivalentCommand]:
    """What each decision with an effect in Azure does to a gallery version, as its spec says."""
    definition = image.definition
    if not image.is_gallery_version or definition is None:
        return []
    az_target = (
        f"az sig image-version update --resource-group {sh(image.resource_group)} "
        f"--gallery-name {sh(definition.gallery_name)} "
        f"--gallery-image-definition {sh(definition.name)} "
        f"--gallery-image-version {sh(image.name)}"
    )
    ps_target = (
        f"Update-AzGalleryImageVersion -ResourceGroupName {ps(image.resource_group)} "
        f"-GalleryName {ps(definition.gallery_name)} "
        f"-GalleryImageDefinitionName {ps(definition.name)} -Name {ps(image.name)}"
    )
    eol = f"{end_of_life_date:%Y-%m-%d}" if end_of_life_date else "<yyyy-mm-dd>"
    return [
        EquivalentCommand(
            effect.command_label,
            f"{az_target} {effect.az.format(end_of_life=eol)}",
            f"{ps_target} {effect.powershell.format(end_of_life=ps(eol))}",
        )
        for effect in (spec.effect for spec in DECISIONS)
        if effect is not None
    ]
