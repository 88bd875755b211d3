"""The Azure CLI and PowerShell commands each capture step corresponds to.

Shown on the capture's page so an administrator can check, script or repeat what the
pipeline does; names come from Azure and from the form, so they are quoted for their shell.
"""

from __future__ import annotations

from contoso_images.core.cli import EquivalentCommand, powershell_quote, sh_quote
from vmops.capture.choices import CaptureKind
from vmops.capture.models import Capture
from vmops.models import VirtualMachine

SYSPREP = r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /quit /quiet /mode:vm"
WAAGENT = "sudo waagent -deprovision+user -force"


def capture_commands(capture: Capture) -> dict[str, EquivalentCommand]:
    """Step name -> its commands (steps a capture skips are still listed, for reference)."""
    vm: VirtualMachine = capture.vm
    sub = vm.subscription.subscription_id
    az_vm = f"--resource-group {sh_quote(vm.resource_group)} --name {sh_quote(vm.name)}"
    ps_vm = (
        f"-ResourceGroupName {powershell_quote(vm.resource_group)} "
        f"-Name {powershell_quote(vm.name)}"
    )
    az_sub = f"az account set --subscription {sh_quote(sub)} && "
    ps_sub = f"Set-AzContext -Subscription {powershell_quote(sub)}; "
    windows = vm.os_type == "Windows"
    script = SYSPREP if windows else WAAGENT
    command_id = "RunPowerShellScript" if windows else "RunShellScript"
    commands = {
        "preflight": EquivalentCommand(
            "Read the VM and its instance view",
            f"{az_sub}az vm get-instance-view {az_vm}",
            f"{ps_sub}Get-AzVM {ps_vm} -Status",
        ),
        "guest_prepare": EquivalentCommand(
            "Generalize the guest OS through Run Command",
            f"{az_sub}az vm run-command invoke {az_vm} --command-id {command_id} "
            f"--scripts {sh_quote(script)}",
            f"{ps_sub}Invoke-AzVMRunCommand {ps_vm} -CommandId {command_id} "
            f"-ScriptString {powershell_quote(script)}",
        ),
        "deallocate": EquivalentCommand(
            "Deallocate (stops compute billing)",
            f"{az_sub}az vm deallocate {az_vm}",
            f"{ps_sub}Stop-AzVM {ps_vm} -Force",
        ),
        "generalize": EquivalentCommand(
            "Mark the VM generalized (irreversible)",
            f"{az_sub}az vm generalize {az_vm}",
            f"{ps_sub}Set-AzVM {ps_vm} -Generalized",
        ),
        "verify": EquivalentCommand(
            "Read the image back",
            f"{az_sub}az resource show --ids {sh_quote(capture.image_id)}",
            f"{ps_sub}Get-AzResource -ResourceId {powershell_quote(capture.image_id)}",
        ),
        "delete_source": EquivalentCommand(
            "Delete the source VM",
            f"{az_sub}az vm delete {az_vm} --yes",
            f"{ps_sub}Remove-AzVM {ps_vm} -Force",
        ),
    }
    if CaptureKind(capture.kind).to_gallery:
        commands.update(_gallery_commands(capture, az_sub, ps_sub))
    else:
        rg, name = capture.image_resource_group, capture.image_name
        commands["create_image"] = EquivalentCommand(
            "Create the managed image",
            f"{az_sub}az image create --resource-group {sh_quote(rg)} --name {sh_quote(name)} "
            f"--source {sh_quote(vm.azure_id)} --hyper-v-generation "
            f"{sh_quote(vm.hyper_v_generation or 'V1')}",
            f"{ps_sub}$config = New-AzImageConfig -Location {powershell_quote(vm.location)} "
            f"-SourceVirtualMachineId {powershell_quote(vm.azure_id)} -HyperVGeneration "
            f"{powershell_quote(vm.hyper_v_generation or 'V1')}; New-AzImage -ResourceGroupName "
            f"{powershell_quote(rg)} -ImageName {powershell_quote(name)} -Image $config",
        )
    return commands


def _gallery_commands(capture: Capture, az_sub: str, ps_sub: str) -> dict[str, EquivalentCommand]:
    vm = capture.vm
    rg, gallery, definition = (
        capture.image_resource_group,
        capture.gallery,
        capture.definition,
    )
    az_def = (
        f"--resource-group {sh_quote(rg)} --gallery-name {sh_quote(gallery)} "
        f"--gallery-image-definition {sh_quote(definition)}"
    )
    ps_def = (
        f"-ResourceGroupName {powershell_quote(rg)} -GalleryName {powershell_quote(gallery)} "
        f"-GalleryImageDefinitionName {powershell_quote(definition)}"
    )
    regions = capture.target_regions or [{"name": vm.location, "replicas": 1}]
    az_regions = " ".join(
        sh_quote(f"{r['name']}={r.get('replicas') or 1}={r.get('storage') or 'Standard_LRS'}")
        for r in regions
    )
    ps_regions = ", ".join(
        "@{Name="
        + powershell_quote(r["name"])
        + f";ReplicaCount={powershell_quote(r.get('replicas') or 1)}}}"
        for r in regions
    )
    spec = capture.new_definition or {}
    excluded = "true" if capture.exclude_from_latest else "false"  # chosen here, not from Azure
    commands = {
        "create_definition": EquivalentCommand(
            "Create the image definition",
            f"{az_sub}az sig image-definition create {az_def} "
            f"--publisher {sh_quote(spec.get('publisher', 'PUBLISHER'))} "
            f"--offer {sh_quote(spec.get('offer', 'OFFER'))} "
            f"--sku {sh_quote(spec.get('sku', 'SKU'))} --os-type {sh_quote(vm.os_type or 'Linux')} "
            f"--os-state {sh_quote(spec.get('os_state', 'Generalized'))} "
            f"--hyper-v-generation {sh_quote(vm.hyper_v_generation or 'V1')}",
            f"{ps_sub}New-AzGalleryImageDefinition -ResourceGroupName {powershell_quote(rg)} "
            f"-GalleryName {powershell_quote(gallery)} -Name {powershell_quote(definition)} "
            f"-Location {powershell_quote(spec.get('location', vm.location))} "
            f"-Publisher {powershell_quote(spec.get('publisher', 'PUBLISHER'))} "
            f"-Offer {powershell_quote(spec.get('offer', 'OFFER'))} "
            f"-Sku {powershell_quote(spec.get('sku', 'SKU'))} "
            f"-OsType {powershell_quote(vm.os_type or 'Linux')} "
            f"-OsState {powershell_quote(spec.get('os_state', 'Generalized'))} "
            f"-HyperVGeneration {powershell_quote(vm.hyper_v_generation or 'V1')}",
        ),
        "create_version": EquivalentCommand(
            "Create the image version from the VM",
            f"{az_sub}az sig image-version create {az_def} "
            f"--gallery-image-version {sh_quote(capture.image_name)} "
            f"--virtual-machine {sh_quote(vm.azure_id)} --target-regions {az_regions} "
            f"--exclude-from-latest {excluded}",
            f"{ps_sub}New-AzGalleryImageVersion {ps_def} -Name "
            f"{powershell_quote(capture.image_name)} -Location {powershell_quote(vm.location)} "
            f"-SourceImageVMId {powershell_quote(vm.azure_id)} -TargetRegion @({ps_regions}) "
            f"-PublishingProfileExcludeFromLatest:${excluded}",
        ),
        "replicate": EquivalentCommand(
            "Watch the replication",
            f"{az_sub}az sig image-version show {az_def} --gallery-image-version "
            f"{sh_quote(capture.image_name)} --expand ReplicationStatus",
            f"{ps_sub}Get-AzGalleryImageVersion {ps_def} -Name "
            f"{powershell_quote(capture.image_name)} -ExpandReplicationStatus",
        ),
    }
    return commands
