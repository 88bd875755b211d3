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
    #: What deleting the VM does to it: "Delete" or "Detach" (Azure's default when unset).
    delete_option: str = "Detach"


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
    #: (NIC id, deleteOption) of each network interface: what deleting the VM does to it.
    network_interface_delete_options: tuple[tuple[str, str], ...] = ()


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


# --- VM deployment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DataDiskSpec:
    """An empty managed data disk to create with a VM."""

    lun: int
    size_gb: int
    #: "" leaves the choice to Azure (Premium_LRS where the size supports it).
    storage_account_type: str = ""
    #: What deleting the VM does to the disk: "Delete" it or "Detach" it (kept, still billed).
    delete_option: str = "Detach"
    caching: str = "None"


@dataclass(frozen=True)
class VmCreateSpec:
    """Everything ``vm_begin_create`` needs to deploy a VM from a catalog image.

    ``image`` is a Marketplace URN (``version`` may be ``"latest"``; ``plan`` must then be
    given when the image has one), or the ``id`` of a managed image, a gallery image version,
    or a gallery image definition (= its latest version in ``location``). The VM goes on a new
    NIC in ``subnet_id``, or on the existing ``nic_id``. A Linux VM needs ``ssh_public_key``
    or ``admin_password``; a Windows VM needs ``admin_password``.

    The password goes into the request body and nowhere else: it is left out of ``repr`` and
    a spec holding one refuses to be pickled, so it cannot end up in a log line or a task
    payload by accident.
    """

    location: str
    size: str
    image: ImageReference
    os_type: str  # "Windows" | "Linux": which osProfile to send
    admin_username: str
    computer_name: str = ""  # "" → the VM's name
    ssh_public_key: str = ""
    admin_password: str = field(default="", repr=False, compare=False)
    subnet_id: str = ""
    nic_id: str = ""
    plan: dict[str, str] | None = None  # {"name", "product", "publisher"}
    #: "TrustedLaunch", "Standard", or "" to let Azure decide.
    security_type: str = ""
    secure_boot: bool = True
    vtpm: bool = True
    os_disk_delete_option: str = "Delete"
    os_disk_size_gb: int | None = None
    os_disk_storage_account_type: str = ""
    nic_delete_option: str = "Delete"
    data_disks: tuple[DataDiskSpec, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    def __reduce__(self) -> str | tuple[object, ...]:
        if self.admin_password:
            raise TypeError(
                "A VmCreateSpec holding a password cannot be pickled: pass the password to "
                "vm_begin_create in the process that asked for it, never through a task queue."
            )
        return super().__reduce__()


@dataclass(frozen=True)
class VmCreateResult:
    """What a finished VM creation left: the VM and the image it was really built from."""

    id: str
    name: str
    provisioning_state: str
    image_reference: ImageReference | None
    #: The version "latest" resolved to (Marketplace images); "" otherwise.
    exact_version: str = ""
    vm_id: str = ""  # Azure's GUID of the VM (properties.vmId)
    os_disk_id: str = ""
    network_interface_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceSku:
    """A VM size as Resource SKUs describe it in one region."""

    name: str
    family: str  # the quota counter, e.g. "standardDSv5Family"
    vcpus: int
    memory_gb: float
    hyper_v_generations: tuple[str, ...]  # ("V1", "V2")
    architecture: str  # "x64" | "Arm64"
    max_data_disks: int = 0
    premium_io: bool = False
    #: The size cannot be created in this region for this subscription.
    restricted: bool = False
    restriction_reason: str = ""  # e.g. "NotAvailableForSubscription"


@dataclass(frozen=True)
class Usage:
    """One compute quota counter of a region: "cores" (Total Regional vCPUs) or a family."""

    name: str  # e.g. "cores", "standardDSv5Family"
    display_name: str  # e.g. "Standard DSv5 Family vCPUs"
    current: int
    limit: int

    @property
    def available(self) -> int:
        return max(0, self.limit - self.current)


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    address_prefix: str


@dataclass(frozen=True)
class VirtualNetwork:
    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    address_prefixes: tuple[str, ...]
    subnets: tuple[Subnet, ...]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ManagedDisk:
    """A managed disk; ``managed_by`` is the VM using it ("" for a disk left behind)."""

    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    size_gb: int | None
    sku: str
    state: str  # diskState: Attached | Unattached | Reserved ...
    managed_by: str
    os_type: str
    provisioning_state: str
    #: The image (Marketplace image or gallery image version id) it was created from.
    image_source_id: str = ""
    time_created: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)
