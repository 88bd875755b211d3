"""Static reference data: VM sizes and the Marketplace (regions are in ``regions.py``).

Served identically in every physical region. Publishers, offers and SKUs are real (most
are az CLI image aliases); version numbers have the real format but are not claimed to
be current (docs/emulator-fidelity.md).
"""

from __future__ import annotations

from dataclasses import dataclass

# name -> (vCPU, memory GiB, max data disks, temp disk GiB)
VM_SIZES: dict[str, tuple[int, float, int, int]] = {
    "Standard_B1s": (1, 1, 2, 4),
    "Standard_B1ms": (1, 2, 2, 4),
    "Standard_B2s": (2, 4, 4, 8),
    "Standard_B2ms": (2, 8, 4, 16),
    "Standard_B4ms": (4, 16, 8, 32),
    "Standard_B2ls_v2": (2, 4, 4, 0),
    "Standard_B2s_v2": (2, 8, 4, 0),
    "Standard_DS1_v2": (1, 3.5, 4, 7),
    "Standard_D2s_v3": (2, 8, 4, 16),
    "Standard_D2s_v5": (2, 8, 4, 0),
    "Standard_D4s_v5": (4, 16, 8, 0),
    "Standard_D8s_v5": (8, 32, 16, 0),
    "Standard_D2as_v5": (2, 8, 4, 0),
    "Standard_E2s_v5": (2, 16, 4, 0),
    "Standard_E4s_v5": (4, 32, 8, 0),
    "Standard_F2s_v2": (2, 4, 4, 16),
    # Generation 1 only (Av2, Dv2): the sizes a Gen2 image cannot boot on.
    "Standard_A2_v2": (2, 4, 4, 20),
    "Standard_D1_v2": (1, 3.5, 4, 50),
    # Arm64 (Ampere Altra), Generation 2 only.
    "Standard_D2ps_v5": (2, 8, 4, 0),
}


def size_json(name: str) -> dict[str, object]:
    cores, gib, disks, temp = VM_SIZES[name]
    return {
        "name": name,
        "numberOfCores": cores,
        "osDiskSizeInMB": 1047552,
        "resourceDiskSizeInMB": temp * 1024,
        "memoryInMB": int(gib * 1024),
        "maxDataDiskCount": disks,
    }


@dataclass(frozen=True)
class Deprecation:
    """An ``imageDeprecationStatus`` other than Active. The shape follows the SDK model
    (``ImageDeprecationStatus``, ``AlternativeOption``); no public recording shows one
    filled in, so it is marked invented in docs/emulator-fidelity.md. The date is relative
    to the request so the demo always shows a deprecation still to come."""

    state: str  # ScheduledForDeprecation | Deprecated
    days_from_now: int
    alternative_type: str = ""  # Offer | Plan
    alternative_value: str = ""


@dataclass(frozen=True)
class MarketplaceSku:
    publisher: str
    offer: str
    sku: str
    versions: tuple[str, ...]  # newest first
    os_type: str
    generation: str
    plan: bool = False
    os_disk_gb: int = 0  # 0: 127 for Windows, 30 for Linux
    # (name, value) pairs; None: the Gen2 set below for V2 images, none for V1 ones.
    features: tuple[tuple[str, str], ...] | None = None
    architecture: str = "x64"
    deprecation: Deprecation | None = None

    @property
    def disk_gb(self) -> int:
        return self.os_disk_gb or (127 if self.os_type == "Windows" else 30)

    @property
    def feature_list(self) -> list[dict[str, str]]:
        pairs = self.features
        if pairs is None and self.generation == "V2":
            security = "TrustedLaunchAndConfidentialVmSupported"
            if self.os_type == "Linux":
                security = "TrustedLaunchSupported"
            pairs = (("SecurityType", security), *GEN2_FEATURES)
        return [{"name": name, "value": value} for name, value in pairs or ()]


# What Windows Server 2022 Azure Edition (Gen2) lists besides SecurityType in the
# az vm image show output of the Trusted Launch FAQ (which gives Ubuntu 22.04 Gen2
# TrustedLaunchSupported); images differ (CentOS 7.5 lists none, Ubuntu 18.04 these).
GEN2_FEATURES = (
    ("IsAcceleratedNetworkSupported", "True"),
    ("DiskControllerTypes", "SCSI, NVMe"),
    ("IsHibernateSupported", "True"),
)


def _older(version: str, step: int) -> str:
    """A plausible previous version: the last numeric part lowered by ``step``."""
    head, _, last = version.rpartition(".")
    if last.isdigit() and int(last) > step:
        return f"{head}.{int(last) - step:0{len(last)}d}"
    return f"{head}.0" if head else version


def _sku(
    pub: str,
    offer: str,
    sku: str,
    version: str,
    os_type: str,
    gen: str,
    plan: bool = False,
    *,
    architecture: str = "x64",
    deprecation: Deprecation | None = None,
) -> MarketplaceSku:
    versions = (version, _older(version, 7), _older(version, 31))
    return MarketplaceSku(
        pub,
        offer,
        sku,
        tuple(dict.fromkeys(versions)),
        os_type,
        gen,
        plan,
        architecture=architecture,
        deprecation=deprecation,
    )


W, L = "Windows", "Linux"
MARKETPLACE: tuple[MarketplaceSku, ...] = (
    _sku(
        "MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter", "14393.7428.241004", W, "V1"
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2016-datacenter-gensecond",
        "14393.7428.241004",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter", "17763.6414.241004", W, "V1"
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2019-datacenter-gensecond",
        "17763.6414.241004",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter", "20348.2762.241006", W, "V1"
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-g2",
        "20348.2762.241006",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-azure-edition",
        "20348.2762.241006",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-azure-edition-core",
        "20348.2762.241006",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2025-datacenter-g2",
        "26100.2033.241004",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2025-datacenter-azure-edition",
        "26100.2033.241004",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2025-datacenter-azure-edition-smalldisk",
        "26100.2033.241004",
        W,
        "V2",
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2012-R2-Datacenter",
        "9600.21620.241004",
        W,
        "V1",
        deprecation=Deprecation("ScheduledForDeprecation", 45),
    ),
    _sku(
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2012-Datacenter",
        "9200.24975.240606",
        W,
        "V1",
        deprecation=Deprecation("ScheduledForDeprecation", 45),
    ),
    _sku("MicrosoftSQLServer", "sql2022-ws2022", "sqldev-gen2", "16.0.241010", W, "V2"),
    _sku("MicrosoftSQLServer", "sql2022-ws2022", "standard-gen2", "16.0.241010", W, "V2"),
    _sku("MicrosoftSQLServer", "sql2022-ws2022", "enterprise-gen2", "16.0.241010", W, "V2"),
    _sku("MicrosoftSQLServer", "sql2019-ws2022", "sqldev-gen2", "15.0.241010", W, "V2"),
    _sku("MicrosoftSQLServer", "sql2019-ws2019", "standard", "15.0.241010", W, "V1"),
    _sku("Canonical", "0001-com-ubuntu-server-focal", "20_04-lts", "20.04.202409110", L, "V1"),
    _sku("Canonical", "0001-com-ubuntu-server-focal", "20_04-lts-gen2", "20.04.202409110", L, "V2"),
    _sku("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "22.04.202410020", L, "V1"),
    _sku("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "22.04.202410020", L, "V2"),
    _sku("Canonical", "ubuntu-24_04-lts", "server", "24.04.202410170", L, "V2"),
    _sku("Canonical", "ubuntu-24_04-lts", "server-gen1", "24.04.202410170", L, "V1"),
    _sku("Debian", "debian-11", "11-backports-gen2", "0.20241004.1890", L, "V2"),
    _sku("Debian", "debian-12", "12", "0.20241004.1890", L, "V1"),
    _sku("Debian", "debian-12", "12-gen2", "0.20241004.1890", L, "V2"),
    _sku("RedHat", "RHEL", "8-lvm-gen2", "8.10.2024100213", L, "V2"),
    _sku("RedHat", "RHEL", "9-lvm", "9.4.2024081415", L, "V1"),
    _sku("RedHat", "RHEL", "9-lvm-gen2", "9.4.2024081415", L, "V2"),
    _sku("SUSE", "sles-15-sp3", "gen2", "2022.11.09", L, "V2"),
    _sku("SUSE", "sles-15-sp5", "gen2", "2024.09.13", L, "V2"),
    _sku("SUSE", "sles-15-sp6", "gen2", "2024.10.08", L, "V2"),
    _sku("SUSE", "openSUSE-leap-15-4", "gen2", "2024.06.10", L, "V2"),
    _sku("almalinux", "almalinux-x86_64", "9-gen2", "9.4.2024050902", L, "V2"),
    _sku("almalinux", "almalinux-x86_64", "8-gen2", "8.10.2024060301", L, "V2"),
    _sku("resf", "rockylinux-x86_64", "9-base", "9.4.20240509", L, "V2", plan=True),
    _sku("resf", "rockylinux-x86_64", "8-base", "8.9.20231119", L, "V1", plan=True),
    _sku("Oracle", "Oracle-Linux", "ol95-lvm-gen2", "9.5.2", L, "V2"),
    _sku(
        "OpenLogic",
        "CentOS",
        "8_5-gen2",
        "8.5.2022101800",
        L,
        "V2",
        deprecation=Deprecation("ScheduledForDeprecation", 30, "Offer", "almalinux-x86_64"),
    ),
    _sku("kinvolk", "flatcar-container-linux-free", "stable-gen2", "3975.2.2", L, "V2"),
    _sku("microsoftazurelinux", "azurelinux-4", "4", "4.0.20260101", L, "V2"),
    _sku("microsoftazurelinux", "azurelinux-4", "4-gen1", "4.0.20260101", L, "V1"),
    _sku(
        "microsoftazurelinux",
        "azurelinux-4",
        "4-arm64",
        "4.0.20260101",
        L,
        "V2",
        architecture="Arm64",
    ),
    _sku("bitnami", "rabbitmq", "rabbitmq", "3.7.1809211005", L, "V1", plan=True),
    _sku("bitnami", "lampstack", "5-6", "5.6.40", L, "V1", plan=True),
    _sku("bitnami", "mysql", "mysql", "8.0.39", L, "V1", plan=True),
    _sku("bitnami", "mongodb", "mongodb", "7.0.14", L, "V1", plan=True),
    _sku("bitnami", "cassandra", "cassandra", "4.1.6", L, "V1", plan=True),
    _sku("bitnami", "mariadb", "mariadb", "11.4.3", L, "V1", plan=True),
    _sku("bitnami", "postgresql", "postgresql", "16.4.0", L, "V1", plan=True),
)


def version_key(version: str) -> tuple[int, ...]:
    """Sort marketplace versions as integer tuples, never as strings (``10.x`` > ``9.x``)."""
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def find_sku(publisher: str, offer: str, sku: str) -> MarketplaceSku | None:
    for item in MARKETPLACE:
        if (item.publisher.lower(), item.offer.lower(), item.sku.lower()) == (
            publisher.lower(),
            offer.lower(),
            sku.lower(),
        ):
            return item
    return None
