"""The Azure gateway: the only code in Contoso Images that imports ``azure.*``.

Everything else imports from this package. Functions take subscription/resource-group/name
strings and return the frozen dataclasses of :mod:`contoso_images.azure.types`; every Azure
failure is raised as :class:`AzureError`. Whether ARM is real Azure or the in-process emulator is
decided by ``settings.AZURE_MODE`` in :mod:`contoso_images.azure.clients`, nowhere else.
"""

from __future__ import annotations

from contoso_images.azure.clients import clear_client_cache, compute_client, subscription_client
from contoso_images.azure.errors import AzureError
from contoso_images.azure.galleries import (
    accepted_operation_id,
    galleries,
    gallery_begin_create,
    gallery_image_definition_begin_create,
    gallery_image_definition_get,
    gallery_image_definitions,
    gallery_image_version_begin_create,
    gallery_image_version_begin_delete,
    gallery_image_version_begin_update,
    gallery_image_version_get,
    gallery_image_version_pages,
    gallery_image_versions,
)
from contoso_images.azure.ids import parse_resource_id
from contoso_images.azure.images import (
    image_begin_create_from_vm,
    image_begin_delete,
    managed_image_get,
    managed_image_pages,
    managed_images,
)
from contoso_images.azure.marketplace import (
    marketplace_image,
    marketplace_latest_version,
    marketplace_offers,
    marketplace_publishers,
    marketplace_skus,
    marketplace_versions,
    vm_sizes,
)
from contoso_images.azure.operations import operation_status
from contoso_images.azure.subscriptions import regions, subscriptions
from contoso_images.azure.types import (
    Disk,
    Gallery,
    GalleryImageDefinition,
    GalleryImageVersion,
    ImageDeprecation,
    ImageReference,
    InstanceStatus,
    ManagedImage,
    MarketplaceImage,
    OperationStatus,
    Region,
    RegionReplication,
    Subscription,
    TargetRegion,
    VirtualMachine,
    VirtualMachineDetail,
    VmSize,
)
from contoso_images.azure.vms import (
    iter_vms_with_power_state,
    vm_begin_deallocate,
    vm_begin_delete,
    vm_begin_power_off,
    vm_begin_restart,
    vm_begin_run_command,
    vm_begin_start,
    vm_generalize,
    vm_get,
    vm_list_with_power_state,
    vm_pages_with_power_state,
)

__all__ = [
    "AzureError",
    "Disk",
    "Gallery",
    "GalleryImageDefinition",
    "GalleryImageVersion",
    "ImageDeprecation",
    "ImageReference",
    "InstanceStatus",
    "ManagedImage",
    "MarketplaceImage",
    "OperationStatus",
    "Region",
    "RegionReplication",
    "Subscription",
    "TargetRegion",
    "VirtualMachine",
    "VirtualMachineDetail",
    "VmSize",
    "accepted_operation_id",
    "clear_client_cache",
    "compute_client",
    "galleries",
    "gallery_begin_create",
    "gallery_image_definition_begin_create",
    "gallery_image_definition_get",
    "gallery_image_definitions",
    "gallery_image_version_begin_create",
    "gallery_image_version_begin_delete",
    "gallery_image_version_begin_update",
    "gallery_image_version_get",
    "gallery_image_version_pages",
    "gallery_image_versions",
    "image_begin_create_from_vm",
    "image_begin_delete",
    "iter_vms_with_power_state",
    "managed_image_get",
    "managed_image_pages",
    "managed_images",
    "marketplace_image",
    "marketplace_latest_version",
    "marketplace_offers",
    "marketplace_publishers",
    "marketplace_skus",
    "marketplace_versions",
    "operation_status",
    "parse_resource_id",
    "regions",
    "subscription_client",
    "subscriptions",
    "vm_begin_deallocate",
    "vm_begin_delete",
    "vm_begin_power_off",
    "vm_begin_restart",
    "vm_begin_run_command",
    "vm_begin_start",
    "vm_generalize",
    "vm_get",
    "vm_list_with_power_state",
    "vm_pages_with_power_state",
    "vm_sizes",
]
