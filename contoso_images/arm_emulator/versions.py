"""The api-versions the emulator accepts, and the body details that depend on one.

ARM refuses an api-version its resource provider does not register, so the lists are
what the Compute and Gallery specifications publish (every stable and preview version
of ComputeRP and GalleryRP) plus the few that ARM registers without a published spec
(seen in the real provider registration recorded on 2023-12-21). Real clients used
Compute 2020-06-01 and 2025-11-01 and Gallery 2019-12-01 … 2025-03-03 in the recorded
traffic (docs/emulator-fidelity.md, "api-versions").

Some fields of a response exist only from (or until) a given api-version; ``at_least``
compares versions as their ``YYYY-MM-DD`` dates, so ``2016-04-30-preview`` sorts with
2016-04-30.
"""

from __future__ import annotations

# ComputeRP: virtualMachines, images, runCommand, Marketplace images, sizes, operations.
COMPUTE = [
    "2026-04-01",
    "2025-11-01",
    "2025-04-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-09-01",
    "2023-07-01",
    "2023-03-01",
    "2022-11-01",
    "2022-09-01",  # registered by ARM in 2023-03, no spec
    "2022-08-01",
    "2022-03-01",
    "2021-11-01",
    "2021-07-01",
    "2021-04-01",
    "2021-03-01",
    "2020-12-01",
    "2020-06-01",
    "2019-12-01",
    "2019-07-01",
    "2019-03-01",
    "2018-10-01",
    "2018-06-01",
    "2018-04-01",
    "2017-12-01",
    "2017-10-30-preview",  # registered for locations/operations, no spec
    "2017-03-30",
    "2016-08-30",  # registered, no spec
    "2016-04-30-preview",
    "2016-03-30",
    "2015-06-15",
    "2015-05-01-preview",  # registered, no spec
]

# GalleryRP: galleries, image definitions, image versions, their capsOperations.
GALLERY = [
    "2026-03-03",
    "2025-12-03",
    "2025-03-03",
    "2024-03-03",
    "2023-07-03",
    "2022-08-03",
    "2022-03-03",
    "2022-01-03",
    "2021-10-01",
    "2021-07-01",
    "2021-03-01",  # registered for galleries, no separate spec
    "2020-09-30",
    "2019-12-01",
    "2019-07-01",
    "2019-03-01",
    "2018-06-01",
]

# ARM registers the gallery versions for locations/publishers (Marketplace) as well.
MARKETPLACE = COMPUTE + [v for v in GALLERY if v not in COMPUTE]

# Microsoft.Resources subscriptions and locations (SubscriptionClient).
SUBSCRIPTIONS = ["2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2016-06-01"]

# Microsoft.Resources resource groups (ResourceManagementClient): the stable versions of the
# spec (specification/resources/…/Microsoft.Resources/resources/stable/*). The Azure CLI 2.91
# reads a group at 2024-11-01 (``az image create`` takes the location from it).
RESOURCES = [
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-09-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-08-01",
    "2020-06-01",
    "2019-10-01",
    "2019-08-01",
    "2019-07-01",
    "2019-05-10",
    "2019-05-01",
    "2019-03-01",
    "2018-05-01",
    "2018-02-01",
    "2017-05-10",
    "2016-02-01",
]

# --- fields that come and go with the api-version ------------------------------------

# GalleryImageVersionStorageProfile.source.virtualMachineId appeared here; from this
# version on a VM id in source.id is refused (Azure/azure-cli#28488, #28700).
GALLERY_VM_SOURCE_FIELD = "2023-07-03"
# An image definition's architecture (added by the service, even when not sent).
GALLERY_ARCHITECTURE = "2021-10-01"
# safetyProfile (allowDeletionOfReplicatedLocations, reportedForPolicyViolation).
GALLERY_SAFETY_PROFILE = "2022-01-03"
# An empty securityProfile in targetRegions[].encryption.osDiskImage.
GALLERY_DISK_SECURITY_PROFILE = "2021-10-01"
# validationsProfile {"validationOperationStatus": "NotExecuted"} on image versions.
GALLERY_VALIDATIONS_PROFILE = "2024-03-03"
# linuxConfiguration.enableVMAgentPlatformUpdates: shown between these two.
VM_AGENT_PLATFORM_UPDATES = ("2022-08-01", "2025-11-01")
# patchSettings.assessmentMode.
VM_ASSESSMENT_MODE = "2020-12-01"
# A Marketplace image version's imageDeprecationStatus: in the ComputeRP spec from
# 2022-11-01 (absent from 2022-08-01/virtualMachineImage.json).
MARKETPLACE_DEPRECATION_STATUS = "2022-11-01"
# A Marketplace image version's architecture (absent at 2019-03-01 in a recording; the exact
# first version is not verified: ArchitectureType came with ComputeRP 2021-11-01).
MARKETPLACE_ARCHITECTURE = "2021-11-01"
# securityProfile {"securityType": "Standard"} on VMs without Trusted Launch.
VM_STANDARD_SECURITY_TYPE = "2025-11-01"


def at_least(version: str | None, boundary: str) -> bool:
    """Whether ``version`` is ``boundary`` or newer (no version: the newest behaviour)."""
    if not version:
        return True
    return version[:10] >= boundary[:10]


def between(version: str | None, bounds: tuple[str, str]) -> bool:
    """``bounds[0] <= version < bounds[1]``."""
    return at_least(version, bounds[0]) and not at_least(version, bounds[1])


# --- VM deployment: Resource SKUs, DiskRP, Microsoft.Network --------------------------

# Microsoft.Compute/skus: the Skus specification's versions (2021-07-01 is the SDK's
# default) besides the Compute ones ARM also routes there.
SKUS = COMPUTE + ["2019-04-01", "2017-09-01"]

# DiskRP (Microsoft.Compute/disks and its DiskOperations): the SDK's default first.
DISKS = [
    "2026-03-02",
    "2025-01-02",
    "2024-03-02",
    "2023-10-02",
    "2023-04-02",
    "2023-01-02",
    "2022-07-02",
    "2022-03-02",
    "2021-12-01",
    "2021-08-01",
    "2021-04-01",
    "2020-12-01",
    "2020-09-30",
    "2020-06-30",
    "2020-05-01",
    "2019-11-01",
    "2019-07-01",
    "2019-03-01",
    "2018-09-30",
    "2018-06-01",
    "2018-04-01",
    "2017-03-30",
    "2016-04-30-preview",
]

# Microsoft.Network (virtualNetworks, subnets, networkInterfaces, operations):
# azure-mgmt-network 33.1's default first, then the stable versions of the specification.
NETWORK = [
    "2026-03-01",
    "2025-07-01",
    "2025-05-01",
    "2025-03-01",
    "2025-01-01",
    "2024-10-01",
    "2024-07-01",
    "2024-05-01",
    "2024-03-01",
    "2024-01-01",
    "2023-11-01",
    "2023-09-01",
    "2023-06-01",
    "2023-05-01",
    "2023-04-01",
    "2023-02-01",
    "2022-11-01",
    "2022-09-01",
    "2022-07-01",
    "2022-05-01",
    "2022-01-01",
    "2021-08-01",
    "2021-05-01",
    "2021-03-01",
    "2021-02-01",
    "2020-11-01",
    "2020-08-01",
    "2020-07-01",
    "2020-06-01",
    "2020-05-01",
    "2020-04-01",
    "2020-03-01",
    "2019-12-01",
    "2019-11-01",
    "2019-09-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-04-01",
    "2019-02-01",
    "2018-12-01",
    "2018-11-01",
    "2018-10-01",
    "2018-08-01",
    "2018-07-01",
    "2018-06-01",
    "2018-04-01",
    "2018-02-01",
    "2018-01-01",
    "2017-11-01",
    "2017-10-01",
    "2017-09-01",
    "2017-08-01",
    "2017-06-01",
    "2017-03-01",
    "2016-12-01",
    "2016-09-01",
    "2016-06-01",
    "2016-03-30",
    "2015-06-15",
]
