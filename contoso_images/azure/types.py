"""Plain frozen dataclasses the gateway hands to the rest of the project.

SDK models are mutable mappings whose enums print as ``VirtualMachineSizeTypes.STANDARD_B2_S``
and they change shape between SDK generations. The app, its templates
and its task payloads therefore only ever see these small value objects, filled from ARM's raw
JSON strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contoso_images.azure.ids import resource_names


@dataclass(frozen=True)
class Subscription:
    id: str
    display_name: str
    state: str


@dataclass(frozen=True)
class Region:
    name: str
    display_name: str


@dataclass(frozen=True)
class ImageReference:
    """Where a VM's OS disk came from: a Marketplace URN or a custom/gallery image id."""

    publisher: str = ""
    offer: str = ""
    sku: str = ""
    version: str = ""
    exact_version: str = ""
    id: str = ""

    @property
    def label(self) -> str:
        """A short human label: the URN, or the trailing names of the custom image id."""
        if self.publisher:
            return f"{self.publisher}:{self.offer}:{self.sku}:{self.version}"
        return "/".join(resource_names(self.id)) if self.id else ""


@dataclass(frozen=True)
class VirtualMachine:
    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    size: str
    os_type: str
    image_reference: ImageReference | None
    hyper_v_generation: str
    power_state: str
    provisioning_state: str
    generalized: bool
    tags: dict[str, str] = field(default_factory=dict)
    time_created: datetime | None = None


@dataclass(frozen=True)
class InstanceStatus:
    code: str
    level: str
    display_status: str
    message: str
    time: datetime | None


@dataclass(frozen=True)
class Disk:
    name: str
    kind: str  # "os" or "data"
    lun: int | None
    size_gb: int | None
    storage_account_type: str
    caching: str
    managed_disk_id: str


@dataclass(frozen=True)
class VirtualMachineDetail:
    vm: VirtualMachine
    computer_name: str
    os_name: str
    os_version: str
    vm_agent_version: str
    statuses: tuple[InstanceStatus, ...]
    disks: tuple[Disk, ...]
    admin_username: str
    network_interface_ids: tuple[str, ...]
    #: The VM agent's display status ("Ready"); Run Command needs a ready agent.
    vm_agent_status: str = ""


@dataclass(frozen=True)
class OperationStatus:
    """Where a long-running operation stands; ``error`` is set when ``state == "failed"``."""

    state: str  # "in_progress" | "succeeded" | "failed"
    error: Exception | None = None  # always a contoso_images.azure.AzureError when set
    result: object | None = None

    @property
    def done(self) -> bool:
        return self.state != "in_progress"


@dataclass(frozen=True)
class ManagedImage:
    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    source_vm_id: str
    os_type: str
    os_state: str
    hyper_v_generation: str
    provisioning_state: str
    tags: dict[str, str] = field(default_factory=dict)
    #: Where its OS disk came from when no VM is named: a snapshot, managed disk or blob.
    source_disk_id: str = ""
    os_disk_size_gb: int | None = None
    storage_account_type: str = ""
    zone_resilient: bool = False
    #: ARM's ``systemData.createdAt`` when Azure sends it (managed images have no other).
    time_created: datetime | None = None

    @property
    def source_id(self) -> str:
        """The VM it was captured from, else the snapshot or disk of its OS disk."""
        return self.source_vm_id or self.source_disk_id


@dataclass(frozen=True)
class Gallery:
    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    description: str
    provisioning_state: str


@dataclass(frozen=True)
class GalleryImageDefinition:
    id: str
    subscription_id: str
    resource_group: str
    gallery: str
    name: str
    location: str
    publisher: str
    offer: str
    sku: str
    os_type: str
    os_state: str
    hyper_v_generation: str
    architecture: str
    provisioning_state: str
    description: str
    end_of_life_date: datetime | None = None
    #: ``SecurityType`` among its features (``TrustedLaunchSupported``...), "" when none.
    security_type: str = ""
    #: Every feature as ``(name, value)`` pairs, in Azure's order.
    features: tuple[tuple[str, str], ...] = ()
    #: ``{"name", "product", "publisher"}`` when VMs from it need a Marketplace plan.
    purchase_plan: dict[str, str] | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegionReplication:
    region: str
    state: str
    progress: int | None
    details: str


@dataclass(frozen=True)
class TargetRegion:
    name: str
    regional_replica_count: int = 1
    storage_account_type: str = "Standard_LRS"
    #: This region alone hides the version from "latest" (sent only when True).
    exclude_from_latest: bool = False


@dataclass(frozen=True)
class GalleryImageVersion:
    id: str
    subscription_id: str
    resource_group: str
    gallery: str
    definition: str
    name: str
    location: str
    source_id: str
    target_regions: tuple[TargetRegion, ...]
    provisioning_state: str
    replication_state: str
    replication: tuple[RegionReplication, ...]
    published_date: datetime | None
    end_of_life_date: datetime | None
    exclude_from_latest: bool
    #: The profile's default replicas per region and storage type.
    replica_count: int | None = None
    storage_account_type: str = ""
    #: A snapshot or disk named as the OS disk's source (``osDiskImage.source.id``).
    source_disk_id: str = ""
    os_disk_size_gb: int | None = None
    #: True when the listing or read carried ``replicationStatus`` (``$expand``).
    replication_read: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageDeprecation:
    """A Marketplace image's ``imageDeprecationStatus``: deprecated images cannot be deployed
    after ``scheduled_time``; ``alternative_type`` is ``Offer`` or ``Plan``."""

    state: str  # Active | ScheduledForDeprecation | Deprecated
    scheduled_time: datetime | None = None
    alternative_type: str = ""
    alternative_value: str = ""


@dataclass(frozen=True)
class MarketplaceImage:
    publisher: str
    offer: str
    sku: str
    version: str
    location: str
    os_type: str
    hyper_v_generation: str
    architecture: str
    plan: dict[str, str] | None
    image_state: str
    deprecation: ImageDeprecation | None = None
    #: ``SecurityType`` among its features, "" when none.
    security_type: str = ""
    features: tuple[tuple[str, str], ...] = ()
    os_disk_size_gb: int | None = None
    id: str = ""

    @property
    def urn(self) -> str:
        return f"{self.publisher}:{self.offer}:{self.sku}:{self.version}"


@dataclass(frozen=True)
class VmSize:
    name: str
    cores: int
    memory_mb: int
    max_data_disks: int
    os_disk_size_mb: int
    resource_disk_size_mb: int
