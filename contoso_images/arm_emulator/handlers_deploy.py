"""Creating a VM (``PUT …/virtualMachines/{vm}``) from a Marketplace image, a managed image
or a Compute Gallery image, and deleting one (``DELETE``) with what its deleteOptions say.

A creation is checked the way Azure refuses one (each refusal's code and sentence, and
where it comes from, are in docs/emulator-fidelity.md, "VM create"), then answers 201 with
``provisioningState: Creating`` and an ``Azure-AsyncOperation`` header. The VM shows
``ProvisioningState/creating`` and ``PowerState/starting`` until the ``vm_create`` duration
has passed, then ``Succeeded`` and ``running``, and from then on behaves like every seeded
VM. Its OS disk and empty data disks become managed disks of their own, and each
``networkInterfaceConfigurations`` entry a NIC (``{vm}-{configuration}``) in its subnet.
``imageReference`` keeps what the request sent; for ``version: latest`` the version it
resolved to is shown as ``exactVersion`` in later reads (not in the 201). The password is
checked and dropped: it is never stored and never echoed.

A delete answers 202 (``Retry-After: 10``); when it settles the VM is gone and so are the
disks and NICs whose ``deleteOption`` is ``Delete``; the others are left ``Unattached``.
A pending power action is preempted by the delete (as before); a pending creation, run
command or capture refuses it with 409 "another operation is in progress".
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import (
    catalog,
    clock,
    disk_model,
    errors,
    gallery_publishing,
    handlers_agreements,
    handlers_marketplace,
    lro,
    network_model,
    regions,
    resources,
    skus,
    validate,
    versions,
    vm_model,
)
from .errors import OP_NAMES
from .handlers_network import create_nic
from .lookup import (
    KIND_GALLERY_IMAGE,
    KIND_GALLERY_VERSION,
    KIND_IMAGE,
    KIND_VM,
    parse_id,
    require_rg,
)
from .state import (
    Resource,
    delete_resource,
    get_resource,
    get_resource_by_seq,
    insert_resource,
    page_resources,
    save_resource,
)
from .wire import ArmRequest, Ctx, Response, json_response

STORAGE_HELP = (
    "Verify that all fields in the storage profile are correct. For more details about "
    "storage profile information, please refer to https://aka.ms/storageprofile"
)
TL_FAQ = "For more information, see https://aka.ms/TrustedLaunch-FAQ"
# What the Azure docs list as reserved admin user names (OSProfile.adminUsername).
RESERVED_USERS = frozenset(
    [
        "administrator",
        "admin",
        "user",
        "user1",
        "test",
        "user2",
        "test1",
        "user3",
        "admin1",
        "1",
        "123",
        "a",
        "actuser",
        "adm",
        "admin2",
        "aspnet",
        "backup",
        "console",
        "david",
        "guest",
        "john",
        "owner",
        "root",
        "server",
        "sql",
        "support",
        "support_388945a0",
        "sys",
        "test2",
        "test3",
        "user4",
        "user5",
    ]
)
WEAK_PASSWORDS = frozenset(
    p.lower()
    for p in (
        "abc@123",
        "P@$$w0rd",
        "P@ssw0rd",
        "P@ssword123",
        "Pa$$word",
        "pass@word1",
        "Password!",
        "Password1",
        "Password22",
        "iloveyou!",
    )
)
_WINDOWS_NAME_BAD = set("`~!@#$%^&*()=+_[]{}\\|;:.'\",<>/?")
_LINUX_NAME_BAD = set("`~!@#$%^&*()=+_[]{}\\|;:'\",<>/?")
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
_GALLERY_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Compute/galleries/(?P<gallery>[^/]+)/images/(?P<image>[^/]+)"
    r"(?:/versions/(?P<version>[^/]+))?$",
    re.IGNORECASE,
)
_IMAGE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Compute/images/(?P<image>[^/]+)$",
    re.IGNORECASE,
)
# Pending operations a delete takes over (they end Canceled/OperationPreempted).
DELETE_PREEMPTS = frozenset({"start", "restart", "power_off", "deallocate", "delete"})


@dataclass
class ImageSource:
    """What the image reference resolved to."""

    kind: str  # marketplace | managed | gallery
    os_type: str
    generation: str
    architecture: str
    os_state: str  # Generalized | Specialized
    disk_gb: int
    reference: dict[str, Any]  # stored as storageProfile.imageReference
    creation: dict[str, Any]  # the OS disk's creationData
    security: str = ""  # the image's SecurityType feature ("" = none)
    plan: dict[str, str] | None = None
    os_name: str = ""
    os_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _missing(path: str) -> errors.ArmError:
    """ "Required parameter '<path>' is missing (null)." (the troubleshooting page's form)."""
    return errors.invalid_parameter(f"Required parameter '{path}' is missing (null).", target=path)


# --- image references ------------------------------------------------------------------------


def _marketplace(
    conn: sqlite3.Connection, sub: str, ref: dict[str, Any], location: str
) -> ImageSource:
    parts = [str(ref.get(k) or "") for k in ("publisher", "offer", "sku", "version")]
    urn = ":".join(parts)
    not_found = errors.ArmError(
        404,
        "PlatformImageNotFound",
        f"The platform image '{urn}' is not available. {STORAGE_HELP}",
        target="imageReference",
    )
    if not all(parts):
        raise not_found
    found = None
    for item in handlers_marketplace._catalog(conn):
        if (item.publisher.lower(), item.offer.lower(), item.sku.lower()) == tuple(
            p.lower() for p in parts[:3]
        ):
            found = item
    if found is None:
        raise not_found
    wanted = parts[3]
    if wanted.lower() == "latest":
        exact = max(found.versions, key=catalog.version_key)
    elif wanted in found.versions:
        exact = wanted
    else:
        raise not_found
    reference = {
        "publisher": parts[0],
        "offer": parts[1],
        "sku": parts[2],
        "version": wanted,
        "exactVersion": exact,
    }
    security = {f["name"]: f["value"] for f in found.feature_list}.get("SecurityType", "")
    image_id = disk_model.marketplace_image_id(
        sub, location, found.publisher, found.offer, found.sku, exact
    )
    return ImageSource(
        kind="marketplace",
        os_type=found.os_type,
        generation=found.generation,
        architecture=found.architecture,
        os_state="Generalized",
        disk_gb=found.disk_gb,
        reference=reference,
        creation={"createOption": "FromImage", "imageReference": {"id": image_id}},
        security=security,
        plan={"name": found.sku, "product": found.offer, "publisher": found.publisher}
        if found.plan
        else None,
        os_name=_os_name(found.os_type, found.publisher, found.offer),
        os_version=exact,
    )


def _os_name(os_type: str, publisher: str, offer: str) -> str:
    if os_type == "Windows":
        return "Windows Server Datacenter"
    return {"canonical": "ubuntu", "redhat": "redhat", "suse": "sles"}.get(
        publisher.lower(), offer.lower()
    )


def _managed_image(conn: sqlite3.Connection, image_id: str, location: str) -> ImageSource:
    """A managed image in the VM's region; elsewhere or missing, Azure's 404 NotFound
    "The Image '<id>' cannot be found in '<region>' region." (MicrosoftDocs/azure-docs#53728)."""
    m = _IMAGE_ID.match(image_id.rstrip("/"))
    assert m is not None
    res = get_resource(conn, KIND_IMAGE, m["sub"], m["rg"], m["image"])
    if (
        res is None
        or regions.normalize(res.body["location"]) != location
        or res.body["properties"].get("provisioningState") != "Succeeded"
        or res.emu.get("deleting")
    ):
        raise errors.ArmError(
            404, "NotFound", f"The Image '{image_id}' cannot be found in '{location}' region."
        )
    props = res.body["properties"]
    os_disk = props["storageProfile"]["osDisk"]
    source = _source_vm(conn, props)
    return ImageSource(
        kind="managed",
        os_type=os_disk["osType"],
        generation=props.get("hyperVGeneration") or "V1",
        architecture="x64",
        os_state="Generalized",
        disk_gb=int(os_disk.get("diskSizeGB") or (127 if os_disk["osType"] == "Windows" else 30)),
        reference={"id": image_id},
        creation={"createOption": "FromImage", "imageReference": {"id": res.body["id"]}},
        os_name=source.get("os_name", ""),
        os_version=source.get("os_version", ""),
    )


def _source_vm(conn: sqlite3.Connection, props: dict[str, Any]) -> dict[str, Any]:
    """The private state of the VM an image was captured from, when it still exists."""
    vm_id = (props.get("sourceVirtualMachine") or {}).get("id") or (
        (props.get("storageProfile") or {}).get("source") or {}
    ).get("virtualMachineId")
    parsed = parse_id(vm_id) if isinstance(vm_id, str) else None
    if parsed is None:
        return {}
    vm = get_resource(conn, KIND_VM, parsed[0], parsed[1], parsed[3])
    return vm.emu if vm is not None else {}


def _gallery_not_available(image_id: str, location: str) -> errors.ArmError:
    """404 GalleryImageNotFound; the message is itself a quoted string, literal quotes
    included (confidential-containers/cloud-api-adaptor#1709, pulumi/pulumi-aws#5129)."""
    return errors.ArmError(
        404,
        "GalleryImageNotFound",
        f'"The gallery image {image_id} is not available in {location} region. Please contact '
        'image owner to replicate to this region, or change your requested region."',
        target="imageReference",
    )


def _version_in_region(version: Resource, location: str, now: float) -> bool:
    """Whether a version is ready and replicated to ``location`` by ``now``."""
    if version.body["properties"].get("provisioningState") != "Succeeded":
        return False
    if version.emu.get("deleting"):
        return False
    for entry in gallery_publishing.plan_of(version.emu):
        if regions.normalize(entry["region"]) == location:
            return now >= float(entry["due"]) and not entry.get("failed")
    return False


def _excluded_in(version: Resource, location: str) -> bool:
    profile = version.body["properties"]["publishingProfile"]
    if profile.get("excludeFromLatest"):
        return True
    return any(
        regions.normalize(r["name"]) == location and r.get("excludeFromLatest")
        for r in profile.get("targetRegions") or []
    )


def _gallery(conn: sqlite3.Connection, image_id: str, location: str, now: float) -> ImageSource:
    m = _GALLERY_ID.match(image_id.rstrip("/"))
    assert m is not None
    sub, rg, gallery, image = m["sub"], m["rg"], m["gallery"], m["image"]
    definition = get_resource(conn, KIND_GALLERY_IMAGE, sub, rg, image, gallery)
    if definition is None:
        raise _gallery_not_available(image_id, location)
    parent = f"{gallery}/{image}"
    if m["version"]:
        version = get_resource(conn, KIND_GALLERY_VERSION, sub, rg, m["version"], parent)
        if version is None or not _version_in_region(version, location, now):
            raise _gallery_not_available(image_id, location)
    else:
        candidates = [
            v
            for v in page_resources(
                conn, KIND_GALLERY_VERSION, sub, rg=rg, parent=parent, limit=10**6
            )
            if not _excluded_in(v, location)
        ]
        here = [v for v in candidates if _version_in_region(v, location, now)]
        if not here:
            if candidates:
                raise _gallery_not_available(image_id, location)
            raise errors.invalid_parameter(
                f'There is no latest image version exists for "{image_id}"',
                target="imageReference",
            )
        version = max(here, key=lambda v: catalog.version_key(v.body["name"]))
    dprops = definition.body["properties"]
    features = {f.get("name"): f.get("value") for f in dprops.get("features") or []}
    disk_gb = int(
        ((version.body["properties"]["storageProfile"].get("osDiskImage") or {}).get("sizeInGB"))
        or (127 if dprops["osType"] == "Windows" else 30)
    )
    plan = dprops.get("purchasePlan") or None
    source = _source_vm(conn, version.body["properties"])
    return ImageSource(
        kind="gallery",
        os_type=dprops["osType"],
        generation=dprops.get("hyperVGeneration") or "V1",
        architecture=dprops.get("architecture") or "x64",
        os_state=dprops["osState"],
        disk_gb=disk_gb,
        reference={"id": image_id},
        creation={"createOption": "FromImage", "galleryImageReference": {"id": version.body["id"]}},
        security=str(features.get("SecurityType") or ""),
        plan=dict(plan) if plan else None,
        os_name=source.get("os_name", ""),
        os_version=source.get("os_version", ""),
        extra={"gallery_version_id": version.body["id"]},
    )


def resolve_image(
    conn: sqlite3.Connection, sub: str, ref: dict[str, Any], location: str, now: float
) -> ImageSource:
    image_id = ref.get("id")
    if isinstance(image_id, str) and image_id:
        if _GALLERY_ID.match(image_id.rstrip("/")):
            return _gallery(conn, image_id, location, now)
        if _IMAGE_ID.match(image_id.rstrip("/")):
            return _managed_image(conn, image_id, location)
        raise errors.invalid_parameter(
            f"The image reference id '{image_id}' is not a managed image or a gallery image "
            "id the emulator serves.",
            target="imageReference.id",
        )
    for key in ("sharedGalleryImageId", "communityGalleryImageId"):
        if ref.get(key):
            raise errors.invalid_parameter(
                f"The emulator does not serve direct-shared or community galleries ({key}).",
                target=f"imageReference.{key}",
            )
    return _marketplace(conn, sub, ref, location)


# --- the checks -------------------------------------------------------------------------------


def _check_plan(
    conn: sqlite3.Connection, sub: str, vm_id: str, image: ImageSource, sent: dict[str, Any]
) -> dict[str, str] | None:
    """The plan a Marketplace image needs: sent, matching, and its terms accepted."""
    if image.plan is None:
        return {k: str(v) for k, v in sent.items()} if sent else None
    if not sent:
        raise errors.ArmError(
            400,
            "VMMarketplaceInvalidInput",
            "Creating a virtual machine from Marketplace image or a custom image sourced from "
            f"a Marketplace image requires Plan information in the request. VM: '{vm_id}'.",
        )
    want = image.plan
    if any(
        str(sent.get(k, "")).lower() != want[k].lower() for k in ("name", "product", "publisher")
    ):
        raise errors.ArmError(
            400,
            "VMMarketplaceInvalidInput",
            "The purchase information does not match. Unable to deploy from the Marketplace "
            f"image or a custom image sourced from Marketplace image. VM: '{vm_id}'.",
        )
    if not handlers_agreements.is_accepted(
        conn, sub, want["publisher"], want["product"], want["name"]
    ):
        raise errors.ArmError(
            400,
            "ResourcePurchaseValidationFailed",
            "User failed validation to purchase resources. Error message: 'You have not "
            f"accepted the legal terms on this subscription: '{sub}' for this plan. Before the "
            "subscription can be used, you need to accept the legal terms of the image. To "
            "read and accept legal terms, use the Azure CLI commands described at "
            "https://go.microsoft.com/fwlink/?linkid=2110637 or the PowerShell commands "
            "available at https://go.microsoft.com/fwlink/?linkid=862451. Alternatively, "
            "deploying via the Azure portal provides a UI experience for reading and accepting "
            f"the legal terms. Offer details: publisher='{want['publisher']}' offer = "
            f"'{want['product']}', sku = '{want['name']}', Correlation Id: "
            f"'{_correlation(vm_id)}'.'",
        )
    return {k: str(v) for k, v in sent.items()}


def _correlation(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _check_size(size: str, location: str, image: ImageSource, security: str) -> str:
    name = skus.canonical_size(size)
    if name is None:
        raise errors.invalid_parameter(
            f"The requested VM size {size} is not available in the current region. The sizes "
            f"available in the current region are: {', '.join(catalog.VM_SIZES)}.",
            target="hardwareProfile.vmSize",
        )
    meta = skus.SIZE_INFO[name]
    if security in ("TrustedLaunch", "ConfidentialVM") and (
        "V2" not in meta.generations or security == "ConfidentialVM"
    ):
        raise errors.ArmError(
            400,
            "BadRequest",
            f"The VM size '{name}' is not supported for creation of VMs and Virtual Machine "
            f"Scale Set with '{security}' security type. {TL_FAQ}",
        )
    generation = image.generation[-1]
    if image.generation not in meta.generations:
        raise errors.ArmError(
            400,
            "BadRequest",
            f"The selected VM size '{name}' cannot boot Hypervisor Generation '{generation}'. "
            "If this was a Create operation please check that the Hypervisor Generation of the "
            "Image matches the Hypervisor Generation of the selected VM Size. If this was an "
            f"Update operation please select a Hypervisor Generation '{generation}' VM Size. "
            "For more information, see https://aka.ms/azuregen2vm",
        )
    if image.architecture.lower() != meta.architecture.lower():
        raise errors.ArmError(
            400,
            "BadRequest",
            f"The selected VM size '{name}' cannot boot an image of the "
            f"'{image.architecture}' architecture; choose a size of that architecture.",
        )
    return name


def _check_security(props: dict[str, Any], image: ImageSource) -> str:
    """The security type asked for against what the image allows (texts from
    Azure/azure-cli#27975 and kubermatic/machine-controller#2013)."""
    profile = validate.obj(props, "securityProfile")
    asked = profile.get("securityType")
    security = (
        validate.choice(asked, ("Standard", "TrustedLaunch", "ConfidentialVM"), "securityType")
        if asked is not None
        else ""
    )
    if image.security == "TrustedLaunch" and security != "TrustedLaunch":
        raise errors.ArmError(
            400,
            "BadRequest",
            "The provided gallery image only supports creation of VMs and VM Scale Sets with "
            "'TrustedLaunch' security type.",
        )
    if security == "TrustedLaunch" and (
        image.generation != "V2" or not image.security.startswith("TrustedLaunch")
    ):
        raise errors.ArmError(
            400,
            "BadRequest",
            "Use of TrustedLaunch setting is not supported for the provided image. Please "
            f"select Trusted Launch Supported Gen2 OS Image. {TL_FAQ}.",
        )
    return security


def _check_computer_name(name: str, os_type: str) -> None:
    if os_type == "Windows":
        if len(name) > 15 or name.isdigit() or any(c in _WINDOWS_NAME_BAD for c in name):
            raise errors.invalid_parameter(
                "Windows computer name cannot be more than 15 characters long, be entirely "
                "numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ "
                "[ ] { } \\ | ; : . ' \" , < > / ?.",
                target="computerName",
            )
    elif len(name) > 64 or any(c in _LINUX_NAME_BAD for c in name):
        raise errors.invalid_parameter(
            "Linux host name cannot exceed 64 characters in length or contain the following "
            "characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?.",
            target="computerName",
        )


def _check_password(password: str, os_type: str) -> None:
    low, high = (8, 123) if os_type == "Windows" else (6, 72)
    classes = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    control = any(ord(c) < 32 for c in password)
    if (
        not low <= len(password) <= high
        or classes < 3
        or control
        or password.lower() in WEAK_PASSWORDS
    ):
        raise errors.invalid_parameter(
            f"The supplied password must be between {low}-{high} characters long and must "
            "satisfy at least 3 of password complexity requirements from the following:\r\n"
            "1) Contains an uppercase character\r\n2) Contains a lowercase character\r\n"
            "3) Contains a numeric digit\r\n4) Contains a special character\r\n"
            "5) Control characters are not allowed",
            target="adminPassword",
        )


def _os_profile(props: dict[str, Any], image: ImageSource) -> dict[str, Any] | None:
    """The osProfile to store (without the password), after Azure's checks."""
    profile = props.get("osProfile")
    if image.os_state == "Specialized":
        if profile:
            raise errors.invalid_parameter("Parameter 'osProfile' is not allowed.", "osProfile")
        return None
    if not isinstance(profile, dict) or not profile:
        raise _missing("osProfile")
    computer = profile.get("computerName")
    if not isinstance(computer, str) or not computer:
        raise _missing("osProfile.computerName")
    _check_computer_name(computer, image.os_type)
    user = profile.get("adminUsername")
    if not isinstance(user, str) or not user:
        raise _missing("osProfile.adminUsername")
    too_long = len(user) > (20 if image.os_type == "Windows" else 64)
    if user.lower() in RESERVED_USERS or too_long or user.endswith("."):
        raise errors.invalid_parameter(
            "The Admin Username specified is not allowed.", target="adminUsername"
        )
    password = profile.get("adminPassword")
    if password is not None and not isinstance(password, str):
        raise errors.invalid_parameter("'adminPassword' must be a string.", "adminPassword")
    stored: dict[str, Any] = {"computerName": computer, "adminUsername": user}
    if image.os_type == "Windows":
        if not password:
            raise _missing("osProfile.adminPassword")
        _check_password(password, "Windows")
        config = {
            "provisionVMAgent": True,
            "enableAutomaticUpdates": True,
            "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"},
            **validate.obj(profile, "windowsConfiguration"),
        }
        stored["windowsConfiguration"] = config
    else:
        linux = validate.obj(profile, "linuxConfiguration")
        keys = [
            k for k in validate.obj(linux, "ssh").get("publicKeys") or [] if isinstance(k, dict)
        ]
        if password:
            _check_password(password, "Linux")
        disable = bool(linux.get("disablePasswordAuthentication", not password))
        if not keys and (disable or not password):
            raise errors.invalid_parameter(
                "Authentication using either SSH or by user name and password must be enabled "
                "in Linux profile.",
                target="linuxConfiguration",
            )
        expected = f"/home/{user}/.ssh/authorized_keys"
        for key in keys:
            if key.get("path") and key["path"] != expected:
                raise errors.invalid_parameter(
                    "Destination path for SSH public keys is currently limited to its default "
                    f"value {expected} due to a known issue in Linux provisioning agent.",
                    target="linuxConfiguration.ssh.publicKeys.path",
                )
            data = str(key.get("keyData") or "")
            if not data.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
                raise errors.invalid_parameter(
                    "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.",
                    target="linuxConfiguration.ssh.publicKeys.keyData",
                )
        config = {
            "disablePasswordAuthentication": disable,
            **(
                {"ssh": {"publicKeys": [{"path": expected, "keyData": k["keyData"]} for k in keys]}}
                if keys
                else {}
            ),
            "provisionVMAgent": True,
            "patchSettings": {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"},
        }
        config.update({k: v for k, v in linux.items() if k not in ("ssh",)})
        config["disablePasswordAuthentication"] = disable
        stored["linuxConfiguration"] = config
    stored["secrets"] = []
    stored["allowExtensionOperations"] = True
    stored["requireGuestProvisionSignal"] = True
    return stored


# --- create -----------------------------------------------------------------------------------


@dataclass
class _Disk:
    name: str
    lun: int | None
    size_gb: int
    sku: str
    caching: str
    delete_option: str


def _delete_option(value: Any, target: str) -> str:
    return validate.choice(value, ("Delete", "Detach"), target, "Detach")


def _os_disk(
    conn: sqlite3.Connection,
    sub: str,
    rg: str,
    vm: str,
    vm_rid: str,
    storage: dict[str, Any],
    image: ImageSource,
    premium: bool,
) -> _Disk:
    os_disk = validate.obj(storage, "osDisk")
    create = os_disk.get("createOption", "FromImage")
    if str(create).lower() != "fromimage":
        raise errors.invalid_parameter(
            f"The emulator creates OS disks from an image only (createOption '{create}').",
            target="osDisk.createOption",
        )
    name = str(
        os_disk.get("name")
        or f"{vm}_OsDisk_1_{hashlib.sha256(vm_rid.lower().encode()).hexdigest()[:32]}"
    )
    if get_resource(conn, disk_model.KIND_DISK, sub, rg, name) is not None:
        raise errors.ArmError(
            409,
            "ConflictingUserInput",
            f"Disk {name} already exists in resource group {rg.upper()}. Only "
            "CreateOption.Attach is supported.",
            target=f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}",
        )
    size = int(os_disk.get("diskSizeGB") or image.disk_gb)
    if size < image.disk_gb:
        raise errors.invalid_parameter(
            f"The specified disk size {size} GB is smaller than the size of the corresponding "
            f"disk in the VM image: {image.disk_gb} GB. This is not allowed. Please choose equal "
            "or greater size or do not specify an explicit size.",
            target="osDisk.diskSizeGB",
        )
    managed = validate.obj(os_disk, "managedDisk")
    sku = str(managed.get("storageAccountType") or ("Premium_LRS" if premium else "Standard_LRS"))
    return _Disk(
        name,
        None,
        size,
        sku,
        str(os_disk.get("caching") or "ReadWrite"),
        _delete_option(os_disk.get("deleteOption"), "osDisk.deleteOption"),
    )


def _data_disks(storage: dict[str, Any], vm: str, max_disks: int, premium: bool) -> list[_Disk]:
    disks = []
    raw = storage.get("dataDisks") or []
    if not isinstance(raw, list):
        raise errors.invalid_parameter("'dataDisks' must be an array.", target="dataDisks")
    if len(raw) > max_disks:
        raise errors.ArmError(
            409,
            "OperationNotAllowed",
            "The maximum number of data disks allowed to be attached to a VM of this size is "
            f"{max_disks}.",
            target="dataDisks",
        )
    luns = set()
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("lun"), int):
            raise errors.invalid_parameter("Every data disk needs an integer 'lun'.", "dataDisks")
        lun = item["lun"]
        if lun in luns:
            raise errors.invalid_parameter(
                f"A disk at LUN {lun} already exists.", target=f"dataDisks[{lun}].lun"
            )
        luns.add(lun)
        if str(item.get("createOption", "")).lower() != "empty":
            raise errors.invalid_parameter(
                "The emulator creates empty data disks only (createOption 'Empty').",
                target="dataDisks.createOption",
            )
        size = item.get("diskSizeGB")
        if not isinstance(size, int) or size < 1:
            raise _missing("dataDisk.diskSizeGB")
        managed = validate.obj(item, "managedDisk")
        disks.append(
            _Disk(
                str(item.get("name") or f"{vm}_DataDisk_{lun}"),
                lun,
                size,
                str(
                    managed.get("storageAccountType")
                    or ("Premium_LRS" if premium else "Standard_LRS")
                ),
                str(item.get("caching") or "None"),
                _delete_option(item.get("deleteOption"), "dataDisks.deleteOption"),
            )
        )
    return disks


@dataclass
class _Nic:
    id: str
    primary: bool
    delete_option: str
    create: dict[str, Any] | None = None  # a configuration to create it from


def _network(
    conn: sqlite3.Connection,
    sub: str,
    rg: str,
    vm: str,
    vm_rid: str,
    props: dict[str, Any],
    location: str,
) -> list[_Nic]:
    network = validate.obj(props, "networkProfile")
    existing = network.get("networkInterfaces") or []
    configs = network.get("networkInterfaceConfigurations") or []
    if not existing and not configs:
        raise _missing("networkProfile")
    nics: list[_Nic] = []
    for i, ref in enumerate(existing):
        nic_id = str((ref or {}).get("id") or "")
        nprops = validate.obj(ref, "properties")
        parsed = network_model.parse_nic_id(nic_id)
        nic = get_resource(conn, network_model.KIND_NIC, *parsed) if parsed else None
        if nic is None:
            raise errors.ArmError(
                404, "NotFound", f"Resource {nic_id} not found.", target="networkInterfaces"
            )
        if regions.normalize(nic.body["location"]) != location:
            raise network_model.invalid_reference(nic_id, vm_rid)
        used_by = (nic.body["properties"].get("virtualMachine") or {}).get("id")
        if used_by:
            raise network_model.nic_in_use(nic.body["id"], used_by)
        nics.append(
            _Nic(
                nic.body["id"],
                bool(nprops.get("primary", i == 0)),
                _delete_option(nprops.get("deleteOption"), "networkInterfaces.deleteOption"),
            )
        )
    if configs and str(network.get("networkApiVersion") or "") not in ("2020-11-01", "2022-11-01"):
        raise errors.invalid_parameter(
            "'networkApiVersion' must be set (2020-11-01) to create network interfaces from "
            "'networkInterfaceConfigurations'.",
            target="networkProfile.networkApiVersion",
        )
    for i, config in enumerate(configs):
        cname = str((config or {}).get("name") or "")
        if not cname:
            raise _missing("networkInterfaceConfigurations.name")
        cprops = validate.obj(config, "properties")
        for ip in cprops.get("ipConfigurations") or []:
            if validate.obj(validate.obj(ip, "properties"), "publicIPAddressConfiguration"):
                raise errors.invalid_parameter(
                    "The emulator does not create public IP addresses "
                    "('publicIPAddressConfiguration').",
                    target="publicIPAddressConfiguration",
                )
        name = f"{vm}-{cname}"
        nic_id = network_model.network_id(sub, rg, "networkInterfaces", name)
        if get_resource(conn, network_model.KIND_NIC, sub, rg, name) is not None:
            raise network_model.nic_in_use(nic_id, "another virtual machine")
        for ip in cprops.get("ipConfigurations") or []:
            subnet = validate.obj(validate.obj(ip, "properties"), "subnet").get("id")
            network_model.require_subnet(conn, str(subnet or ""), location, nic_id)
        nics.append(
            _Nic(
                nic_id,
                bool(cprops.get("primary", not existing and i == 0)),
                _delete_option(
                    cprops.get("deleteOption"), "networkInterfaceConfigurations.deleteOption"
                ),
                create={"name": name, "properties": cprops},
            )
        )
    return nics


def create(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    payload = req.json()
    with lro.writing(ctx) as conn:
        rg_name = require_rg(conn, sub, rg)
        existing = get_resource(conn, KIND_VM, sub, rg, vm)
        if existing is not None:
            return _update(ctx, req, conn, existing, payload)
        if not _VM_NAME.match(vm):
            raise errors.invalid_parameter(
                f"The virtual machine name '{vm}' is invalid: 1-64 letters, digits, '_', '.' "
                "or '-', starting with a letter or digit.",
                target="name",
            )
        location = regions.normalize(validate.location(payload))
        validate.compute_location(location, vm_model.VM_TYPE)
        props = validate.obj(payload, "properties")
        vm_rid = vm_model.vm_id(sub, rg_name, vm)
        size = validate.obj(props, "hardwareProfile").get("vmSize")
        if not isinstance(size, str) or not size:
            raise _missing("hardwareProfile.vmSize")
        storage = validate.obj(props, "storageProfile")
        ref = validate.obj(storage, "imageReference")
        if not ref:
            raise _missing("storageProfile.imageReference")
        image = resolve_image(conn, sub, ref, location, ctx.now)
        os_profile = _os_profile(props, image)
        security = _check_security(props, image)
        size = _check_size(size, location, image, security)
        plan = _check_plan(conn, sub, vm_rid, image, validate.obj(payload, "plan"))
        if skus.restriction(size, location):
            raise skus.sku_not_available(vm_rid, size, location, sub)
        cores, _, max_disks, _ = catalog.VM_SIZES[size]
        premium = skus.SIZE_INFO[size].premium_io
        os_disk = _os_disk(conn, sub, rg_name, vm, vm_rid, storage, image, premium)
        data_disks = _data_disks(storage, vm, max_disks, premium)
        nics = _network(conn, sub, rg_name, vm, vm_rid, props, location)
        skus.check_quota(conn, sub, location, size)
        body = _vm_body(
            sub=sub,
            rg=rg_name,
            name=vm,
            location=location,
            payload=payload,
            size=size,
            image=image,
            os_profile=os_profile,
            security=security,
            security_profile=validate.obj(props, "securityProfile"),
            plan=plan,
            os_disk=os_disk,
            data_disks=data_disks,
            nics=nics,
            created=ctx.now,
        )
        tags = validate.tags(payload) or None
        for disk in [os_disk, *data_disks]:
            is_os = disk.lun is None
            insert_resource(
                conn,
                disk_model.KIND_DISK,
                sub,
                rg_name,
                disk.name,
                disk_model.disk_body(
                    sub=sub,
                    rg=rg_name.upper(),
                    name=disk.name,
                    location=location,
                    size_gb=disk.size_gb,
                    sku=disk.sku,
                    created=ctx.now,
                    creation=image.creation if is_os else {"createOption": "Empty"},
                    managed_by=vm_rid,
                    os_type=image.os_type if is_os else None,
                    generation=image.generation if is_os else None,
                    tags=tags,
                    security_type=security if is_os else None,
                ),
                {"op": None},
            )
        for nic in nics:
            if nic.create is not None:
                cprops = nic.create["properties"]
                create_nic(
                    conn,
                    sub=sub,
                    rg=rg_name,
                    name=nic.create["name"],
                    location=location,
                    ip_configurations=list(cprops.get("ipConfigurations") or []),
                    vm_id=vm_rid,
                    accelerated=bool(cprops.get("enableAcceleratedNetworking", False)),
                    ip_forwarding=bool(cprops.get("enableIPForwarding", False)),
                    tags=tags,
                )
            else:
                parsed = network_model.parse_nic_id(nic.id)
                assert parsed is not None
                existing_nic = get_resource(conn, network_model.KIND_NIC, *parsed)
                assert existing_nic is not None
                network_model.attach(existing_nic, vm_rid)
                save_resource(conn, existing_nic)
        emu = {
            "power": "deallocated",
            "os_generalized": False,
            "guest_generalized": False,
            "generation": image.generation,
            "os_name": image.os_name,
            "os_version": image.os_version,
            "hibernated": False,
            "op": None,
            "deleting": False,
            "state_time": ctx.now,
            "image": {"kind": image.kind, **image.extra},
        }
        insert_resource(conn, KIND_VM, sub, rg, vm, body, emu)
        res = get_resource(conn, KIND_VM, sub, rg, vm)
        assert res is not None
        op = lro.start(
            conn,
            ctx,
            req,
            res,
            kind="vm_create",
            op_key="create",
            duration=ctx.durations["vm_create"],
        )
        shown = created_body(res, req.api_version)
    head = lro.async_only(op, req.api_version or "", retry_after=lro.RETRY_AFTER_VM)
    return json_response(201, shown, head)


def created_body(res: Resource, api: str | None) -> dict[str, Any]:
    """The 201 body: the request echoed with what Azure adds (vmId, osType, disk ids and
    sizes, ``Creating``), without ``exactVersion`` (the spec's create examples have none)."""
    body = vm_model.render(res, with_instance_view=False, api=api)
    storage = body["properties"]["storageProfile"]
    storage["imageReference"].pop("exactVersion", None)
    stored = res.body["properties"]["storageProfile"]
    # A VM being created is not on a host yet, which drops sizes from later reads; the
    # 201 shows what the request asked for.
    storage["osDisk"] = dict(stored["osDisk"])
    storage["dataDisks"] = [dict(d) for d in stored.get("dataDisks") or []]
    return body


def _vm_body(
    *,
    sub: str,
    rg: str,
    name: str,
    location: str,
    payload: dict[str, Any],
    size: str,
    image: ImageSource,
    os_profile: dict[str, Any] | None,
    security: str,
    security_profile: dict[str, Any],
    plan: dict[str, str] | None,
    os_disk: _Disk,
    data_disks: list[_Disk],
    nics: list[_Nic],
    created: float,
) -> dict[str, Any]:
    rid = vm_model.vm_id(sub, rg, name)
    disk_rg = rg.upper()
    properties: dict[str, Any] = {
        "vmId": network_model.guid("vm", rid),
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {
            "imageReference": image.reference,
            "osDisk": {
                "osType": image.os_type,
                "name": os_disk.name,
                "createOption": "FromImage",
                "caching": os_disk.caching,
                "managedDisk": {
                    "storageAccountType": os_disk.sku,
                    "id": disk_model.disk_id(sub, disk_rg, os_disk.name),
                },
                "deleteOption": os_disk.delete_option,
                "diskSizeGB": os_disk.size_gb,
            },
            "dataDisks": [
                {
                    "lun": d.lun,
                    "name": d.name,
                    "createOption": "Empty",
                    "caching": d.caching,
                    "managedDisk": {
                        "storageAccountType": d.sku,
                        "id": disk_model.disk_id(sub, disk_rg, d.name),
                    },
                    "deleteOption": d.delete_option,
                    "diskSizeGB": d.size_gb,
                    "toBeDetached": False,
                }
                for d in data_disks
            ],
        },
    }
    if os_profile is not None:
        properties["osProfile"] = os_profile
    if security == "TrustedLaunch":
        uefi = validate.obj(security_profile, "uefiSettings")
        properties["securityProfile"] = {
            "uefiSettings": {
                "secureBootEnabled": bool(uefi.get("secureBootEnabled", True)),
                "vTpmEnabled": bool(uefi.get("vTpmEnabled", True)),
            },
            "securityType": "TrustedLaunch",
        }
    elif security == "Standard":
        properties["securityProfile"] = {"securityType": "Standard"}
    properties["networkProfile"] = {
        "networkInterfaces": [
            {"id": n.id, "properties": {"primary": n.primary, "deleteOption": n.delete_option}}
            for n in nics
        ]
    }
    diagnostics = validate.obj(payload.get("properties") or {}, "diagnosticsProfile")
    if diagnostics:
        properties["diagnosticsProfile"] = diagnostics
    properties["provisioningState"] = "Creating"
    properties["timeCreated"] = clock.iso(created)
    body: dict[str, Any] = {"name": name, "id": rid, "type": vm_model.VM_TYPE, "location": location}
    if "tags" in payload:
        body["tags"] = validate.tags(payload)
    if plan:
        body["plan"] = plan
    body["properties"] = properties
    return body


def _update(
    ctx: Ctx, req: ArmRequest, conn: sqlite3.Connection, res: Resource, payload: dict[str, Any]
) -> Response:
    """A PUT on an existing VM. ``If-None-Match: *`` (create only) → 412 PreconditionFailed;
    a different image → 409 PropertyChangeNotAllowed (Azure/azure-sdk-for-net#37285); tags
    are the one update emulated (200 ``Updating``, then ``Succeeded``)."""
    if _header(req, "if-none-match") == "*":
        raise errors.ArmError(
            412,
            "PreconditionFailed",
            f"The virtual machine '{res.body['name']}' already exists: the request asked to "
            "create it only if it did not (If-None-Match: *).",
        )
    props = validate.obj(payload, "properties")
    had = res.body["properties"]["storageProfile"].get("imageReference") or {}
    asked = validate.obj(validate.obj(props, "storageProfile"), "imageReference")
    keys = ("id", "publisher", "offer", "sku", "version")
    if asked and any(
        str(asked.get(k) or "").lower() != str(had.get(k) or "").lower() for k in keys
    ):
        raise errors.ArmError(
            409,
            "PropertyChangeNotAllowed",
            "Changing property 'imageReference' is not allowed.",
            target="imageReference",
        )
    size = validate.obj(props, "hardwareProfile").get("vmSize")
    if size and str(size).lower() != res.body["properties"]["hardwareProfile"]["vmSize"].lower():
        raise errors.invalid_parameter(
            "The emulator does not resize VMs: only the tags of an existing VM can be updated.",
            target="hardwareProfile.vmSize",
        )
    if res.emu.get("deleting"):
        raise errors.vm_deleting("Update VM", res.body["name"])
    if res.emu.get("op"):
        raise errors.vm_busy("Update VM", res.body["name"])
    if "tags" in payload:
        res.body["tags"] = validate.tags(payload)
    op = lro.start(conn, ctx, req, res, kind="vm_updated", op_key="update", duration=0)
    return json_response(
        200,
        vm_model.render(res, with_instance_view=False, api=req.api_version),
        lro.async_only(op, req.api_version or ""),
    )


def _header(req: ArmRequest, name: str) -> str | None:
    for key, value in req.headers.items():
        if key.lower() == name:
            return str(value)
    return None


# --- delete -----------------------------------------------------------------------------------


def _attached(res: Resource) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``[{id, option}]`` of the VM's managed disks and of its NICs."""
    storage = res.body["properties"]["storageProfile"]
    disks = []
    for disk in [storage["osDisk"], *(storage.get("dataDisks") or [])]:
        disk_id = (disk.get("managedDisk") or {}).get("id")
        if disk_id:
            disks.append({"id": disk_id, "option": disk.get("deleteOption") or "Detach"})
    nics = [
        {"id": n["id"], "option": (n.get("properties") or {}).get("deleteOption") or "Detach"}
        for n in (res.body["properties"].get("networkProfile") or {}).get("networkInterfaces") or []
        if n.get("id")
    ]
    return disks, nics


def delete(ctx: Ctx, req: ArmRequest, sub: str, rg: str, vm: str) -> Response:
    with lro.writing(ctx) as conn:
        require_rg(conn, sub, rg)
        res = get_resource(conn, KIND_VM, sub, rg, vm)
        if res is None:
            return Response(204, {}, b"")
        pending = res.emu.get("op")
        if pending:
            if res.emu.get("deleting") or pending["kind"] in DELETE_PREEMPTS:
                lro.preempt(conn, pending["id"], ctx.now)
            else:
                raise errors.vm_busy(OP_NAMES["delete"], res.body["name"])
        disks, nics = _attached(res)
        asked = req.query.get("forcedeletion")
        all_delete = all(d["option"] == "Delete" for d in disks)
        force = asked is not None and asked.lower() == "true"
        if asked is None and all_delete and versions.at_least(req.api_version, "2024-11-01"):
            force = True  # the 2024-11-01 default the specification announces
        res.emu["deleting"] = True
        res.emu["state_time"] = ctx.now
        duration = ctx.durations["delete"] * (0.5 if force else 1.0)
        op = lro.start(
            conn,
            ctx,
            req,
            res,
            kind="vm_delete",
            op_key="delete",
            duration=duration,
            params={"disks": disks, "nics": nics, "force": force},
        )
    return lro.accepted(op, req.api_version or "", retry_after=lro.RETRY_AFTER_VM)


def _resource_by_id(conn: sqlite3.Connection, kind: str, rid: str) -> Resource | None:
    parts = rid.strip("/").split("/")
    if len(parts) < 8:
        return None
    return get_resource(conn, kind, parts[1], parts[3], parts[-1])


@lro.effect("vm_delete")
def _settle_delete(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """The VM goes; its disks and NICs go with it or stay behind, as each deleteOption says."""
    if op.resource_seq:
        delete_resource(conn, op.resource_seq)
    for entry in op.params.get("disks") or []:
        disk = _resource_by_id(conn, disk_model.KIND_DISK, entry["id"])
        if disk is None:
            continue
        if entry["option"] == "Delete":
            delete_resource(conn, disk.seq)
        else:
            disk_model.detach(disk.body)
            save_resource(conn, disk)
    for entry in op.params.get("nics") or []:
        nic = _resource_by_id(conn, network_model.KIND_NIC, entry["id"])
        if nic is None:
            continue
        if entry["option"] == "Delete":
            delete_resource(conn, nic.seq)
        else:
            network_model.attach(nic, None)
            save_resource(conn, nic)


@lro.rollback("vm_delete")
def _delete_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed delete leaves the VM, its disks and NICs as they were, free again."""
    resources.release(conn, op, deleting=False, state_time=when)


@lro.effect("vm_create")
def _settle_create(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """Created and started: ``Succeeded``, ``PowerState/running``."""
    res = get_resource_by_seq(conn, op.resource_seq or 0)
    if res is None:
        return
    res.body["properties"]["provisioningState"] = "Succeeded"
    save_resource(conn, res)
    resources.release(conn, op, power="running", state_time=when, agent_time=when, disk_time=when)


@lro.rollback("vm_create")
def _create_failed(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    """A failed creation leaves the VM behind ``Failed`` and not running, as ARM does."""
    resources.release(conn, op, failed=True, state_time=when)


@lro.effect("vm_updated")
def _settle_update(conn: sqlite3.Connection, op: lro.Operation, when: float) -> None:
    resources.release(conn, op)
