"""The curated "popular" Marketplace images: the Azure CLI's image aliases.

Copied from Azure/azure-cli ``src/azure-cli/azure/cli/command_modules/vm/_alias.py`` (the copy
that has AzureLinux4, mid-2026), which ``az vm create --image Ubuntu2204`` resolves. The CLI
fetches a newer ``aliases.json`` when it can; these are the ones it falls back to. All are
"latest" of their SKU.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Alias:
    alias: str
    publisher: str
    offer: str
    sku: str
    os_type: str
    architecture: str = "x64"
    version: str = "latest"

    @property
    def urn(self) -> str:
        return f"{self.publisher}:{self.offer}:{self.sku}:{self.version}"


POPULAR: tuple[Alias, ...] = (
    Alias("Ubuntu2204", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "Linux"),
    Alias("Debian11", "Debian", "debian-11", "11-backports-gen2", "Linux"),
    Alias("RHELRaw8LVMGen2", "RedHat", "RHEL", "8-lvm-gen2", "Linux"),
    Alias("AzureLinux4", "microsoftazurelinux", "azurelinux-4", "4", "Linux"),
    Alias("AzureLinux4Arm64", "microsoftazurelinux", "azurelinux-4", "4-arm64", "Linux", "Arm64"),
    Alias("AzureLinux4Gen1", "microsoftazurelinux", "azurelinux-4", "4-gen1", "Linux"),
    Alias(
        "FlatcarLinuxFreeGen2", "kinvolk", "flatcar-container-linux-free", "stable-gen2", "Linux"
    ),
    Alias("OpenSuseLeap154Gen2", "SUSE", "openSUSE-leap-15-4", "gen2", "Linux"),
    Alias("SuseSles15SP3", "SUSE", "sles-15-sp3", "gen2", "Linux"),
    Alias("CentOS85Gen2", "OpenLogic", "CentOS", "8_5-gen2", "Linux"),
    Alias(
        "Win2022Datacenter",
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-g2",
        "Windows",
    ),
    Alias(
        "Win2022AzureEditionCore",
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-azure-edition-core",
        "Windows",
    ),
    Alias(
        "Win2019Datacenter",
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2019-datacenter-gensecond",
        "Windows",
    ),
    Alias(
        "Win2016Datacenter",
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2016-datacenter-gensecond",
        "Windows",
    ),
    Alias(
        "Win2012R2Datacenter",
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2012-R2-Datacenter",
        "Windows",
    ),
    Alias(
        "Win2012Datacenter", "MicrosoftWindowsServer", "WindowsServer", "2012-Datacenter", "Windows"
    ),
)
