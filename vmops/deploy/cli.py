"""The ``az`` and PowerShell commands that do what the deploy and delete forms do.

Every value goes through core's quoting; the password never appears (a placeholder the
person types themselves, or a credential prompt).
"""

from __future__ import annotations

from typing import Any

from contoso_images.core.cli import EquivalentCommand
from contoso_images.core.cli import powershell_quote as ps
from contoso_images.core.cli import sh_quote as sh


def _values(v: dict[str, Any], key: str, placeholder: str) -> str:
    return str(v.get(key) or "") or placeholder


def create_commands(values: dict[str, Any]) -> list[EquivalentCommand]:
    """``values``: names (list), resource_group, location, size, subnet_id, os_type,
    admin_username, ssh_public_key, image (imageReference dict), plan, security_type, tags."""
    names: list[str] = values.get("names") or ["<vm-name>"]
    rg = _values(values, "resource_group", "<resource-group>")
    location = _values(values, "location", "<region>")
    size = _values(values, "size", "<size>")
    subnet = _values(values, "subnet_id", "<subnet-id>")
    user = _values(values, "admin_username", "azureuser")
    linux = values.get("os_type", "Linux") != "Windows"
    key = str(values.get("ssh_public_key") or "").strip()
    image = values.get("image") or {}
    plan = values.get("plan") or {}
    tags: dict[str, str] = values.get("tags") or {}
    urn = (
        image.get("id")
        or f"{image.get('publisher')}:{image.get('offer')}:{image.get('sku')}:"
        f"{image.get('version') or 'latest'}"
    )

    name_word = sh(names[0]) if len(names) == 1 else '"$name"'
    az = [
        f"az vm create --resource-group {sh(rg)} --name {name_word}",
        f"--image {sh(urn)} --size {sh(size)} --location {sh(location)}",
        f"--subnet {sh(subnet)} --public-ip-address '' --nsg ''",
        f"--admin-username {sh(user)}",
    ]
    if linux and key:
        az.append(f"--ssh-key-values {sh(key)}")
    else:
        az.append("--admin-password <password>")
    if values.get("security_type"):
        az.append(f"--security-type {sh(values['security_type'])}")
    if plan:
        az.append(
            f"--plan-name {sh(plan.get('name', ''))} --plan-product "
            f"{sh(plan.get('product', ''))} --plan-publisher {sh(plan.get('publisher', ''))}"
        )
    az.append("--os-disk-delete-option Delete --nic-delete-option Delete")
    if tags:
        az.append("--tags " + " ".join(sh(f"{k}={v}") for k, v in tags.items()))
    az_text = " \\\n  ".join(az)
    if len(names) > 1:
        az_text = f"for name in {' '.join(sh(n) for n in names)}; do\n  {az_text}\ndone"

    ps_name = ps(names[0]) if len(names) == 1 else "$name"
    tag_ps = "; ".join(f"{ps(k)}={ps(v)}" for k, v in tags.items())
    security = (
        f" -SecurityType {ps(values['security_type'])}" if values.get("security_type") else ""
    )
    os_line = (
        f"$vm = Set-AzVMOperatingSystem -VM $vm -Linux -ComputerName {ps_name} "
        f"-Credential $cred{' -DisablePasswordAuthentication' if key else ''}"
        if linux
        else f"$vm = Set-AzVMOperatingSystem -VM $vm -Windows -ComputerName {ps_name} "
        "-Credential $cred"
    )
    lines = [
        f"$cred = Get-Credential -UserName {ps(user)} -Message 'Admin password'",
        f"$nic = New-AzNetworkInterface -Name ({ps_name} + '-nic') -ResourceGroupName {ps(rg)} "
        f"-Location {ps(location)} -SubnetId {ps(subnet)}",
        f"$vm = New-AzVMConfig -VMName {ps_name} -VMSize {ps(size)}{security}"
        + (f" -Tags @{{{tag_ps}}}" if tags else ""),
        os_line,
    ]
    if linux and key:
        lines.append(
            f"$vm = Add-AzVMSshPublicKey -VM $vm -KeyData {ps(key)} "
            f"-Path {ps(f'/home/{user}/.ssh/authorized_keys')}"
        )
    if image.get("id"):
        lines.append(f"$vm = Set-AzVMSourceImage -VM $vm -Id {ps(image['id'])}")
    else:
        lines.append(
            f"$vm = Set-AzVMSourceImage -VM $vm -PublisherName {ps(image.get('publisher', ''))} "
            f"-Offer {ps(image.get('offer', ''))} -Skus {ps(image.get('sku', ''))} "
            f"-Version {ps(image.get('version') or 'latest')}"
        )
    if plan:
        lines.append(
            f"$vm = Set-AzVMPlan -VM $vm -Publisher {ps(plan.get('publisher', ''))} "
            f"-Product {ps(plan.get('product', ''))} -Name {ps(plan.get('name', ''))}"
        )
    lines += [
        "$vm = Add-AzVMNetworkInterface -VM $vm -Id $nic.Id -DeleteOption 'Delete'",
        "$vm = Set-AzVMOSDisk -VM $vm -CreateOption FromImage -DeleteOption 'Delete'",
        f"New-AzVM -ResourceGroupName {ps(rg)} -Location {ps(location)} -VM $vm",
    ]
    ps_text = "\n".join(lines)
    if len(names) > 1:
        body = "\n  ".join(lines)
        ps_text = f"foreach ($name in @({', '.join(ps(n) for n in names)})) {{\n  {body}\n}}"
    label = "Create the VM" if len(names) == 1 else f"Create the {len(names)} VMs"
    return [EquivalentCommand(label, az_text, ps_text)]


def delete_commands(*, resource_group: str, name: str, force: bool) -> list[EquivalentCommand]:
    """Delete the VM; what goes with it is what its disks' and NIC's deleteOption say."""
    return [
        EquivalentCommand(
            "Delete the VM",
            f"az vm delete --resource-group {sh(resource_group)} --name {sh(name)} --yes"
            + (" --force-deletion true" if force else ""),
            f"Remove-AzVM -ResourceGroupName {ps(resource_group)} -Name {ps(name)} -Force"
            + (" -ForceDeletion $true" if force else ""),
        )
    ]
