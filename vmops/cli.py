"""The Azure CLI and PowerShell commands equivalent to each dashboard action on a VM.

Shown on the VM page so an administrator can check, script or repeat what the dashboard does.
Names come from Azure, so they are quoted for the shell they are pasted into, by that shell's
own rules: POSIX sh for ``az`` (the CLI's documented shell is bash) and PowerShell's for the
Az module.
"""

from __future__ import annotations

from contoso_images.core.cli import EquivalentCommand, powershell_quote, sh_quote
from vmops.power import POWER_ACTIONS

__all__ = ["EquivalentCommand", "vm_equivalent_commands"]


def vm_equivalent_commands(
    *, subscription_id: str, resource_group: str, name: str
) -> list[EquivalentCommand]:
    """Reading the power state, then each power action as its spec writes it."""
    az_target = (
        f"--subscription {sh_quote(subscription_id)} "
        f"--resource-group {sh_quote(resource_group)} --name {sh_quote(name)}"
    )
    ps_target = (
        f"-ResourceGroupName {powershell_quote(resource_group)} -Name {powershell_quote(name)}"
    )
    ps_context = f"Set-AzContext -Subscription {powershell_quote(subscription_id)}; "
    return [
        EquivalentCommand(
            "Show power state",
            f"az vm get-instance-view {az_target} --query instanceView.statuses",
            f"{ps_context}(Get-AzVM {ps_target} -Status).Statuses",
        ),
        *(
            EquivalentCommand(
                action.command_label or action.label,
                action.az.format(target=az_target),
                ps_context + action.powershell.format(target=ps_target),
            )
            for action in POWER_ACTIONS
        ),
    ]
