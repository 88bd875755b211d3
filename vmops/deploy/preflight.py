"""What a deployment needs to know before anything is queued, and Azure's rules checked
against it: every problem Azure would refuse that the dashboard can see, next to its field.

Azure's facts are read once per form (``AzureFacts.read``): the region's Resource SKUs, its
compute usages, the subscription's virtual networks, and one GET per asked-for VM name. The
rules (``problems``) are pure functions of the request and those facts, and say it in
Azure's own sentences where Azure has one. What only Azure can tell (a plan's terms not
accepted, a gallery version still replicating) comes back after queueing, as ARM's code
and sentence on the operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from catalog.models import CatalogImage
from contoso_images import azure

#: How many VMs one request may create (numbered names).
MAX_BATCH = 10

WINDOWS_NAME = (
    "Windows computer name cannot be more than 15 characters long, be entirely numeric, or "
    "contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" "
    ", < > / ?."
)
LINUX_AUTH = (
    "Authentication using either SSH or by user name and password must be enabled in Linux profile."
)
SSH_KEY = "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid."
USER_RESERVED = "The Admin Username specified is not allowed."
#: Azure's reserved admin user names (OSProfile.adminUsername, Azure docs).
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
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_WINDOWS_BAD = set("`~!@#$%^&*()=+_[]{}\\|;:.'\",<>/?")


def password_sentence(os_type: str) -> str:
    low, high = (8, 123) if os_type == "Windows" else (6, 72)
    return (
        f"The supplied password must be between {low}-{high} characters long and must satisfy "
        "at least 3 of password complexity requirements from the following: 1) Contains an "
        "uppercase character 2) Contains a lowercase character 3) Contains a numeric digit "
        "4) Contains a special character 5) Control characters are not allowed"
    )


def password_ok(password: str, os_type: str) -> bool:
    low, high = (8, 123) if os_type == "Windows" else (6, 72)
    classes = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    return (
        low <= len(password) <= high
        and classes >= 3
        and not any(ord(c) < 32 for c in password)
        and password.lower() not in WEAK_PASSWORDS
    )


# --- The image --------------------------------------------------------------------------------


def image_reference(image: CatalogImage, *, latest: bool = False) -> dict[str, str]:
    """The ``imageReference`` a create sends for a catalog entry; with ``latest``, a gallery
    version's definition (Azure then builds from its latest version in the region)."""
    if latest and image.is_gallery_version and image.definition is not None:
        return {"id": image.definition.resource_id}
    if image.is_marketplace:
        return {
            "publisher": image.publisher,
            "offer": image.offer,
            "sku": image.sku,
            "version": image.version or "latest",
        }
    return {"id": image.resource_id}


def generation(image: CatalogImage) -> str:
    gen = image.hyper_v_generation or (
        image.definition.hyper_v_generation if image.definition else ""
    )
    return gen or "V1"


def security_type(image: CatalogImage) -> str:
    """TrustedLaunch for a Gen2 image that supports it (and must, when it requires it)."""
    kind = (image.security_type or "").lower()
    if generation(image) == "V2" and kind.startswith("trustedlaunch"):
        return "TrustedLaunch"
    return ""


def image_regions(image: CatalogImage, network_regions: list[str]) -> list[str]:
    """Where the image can be deployed, among the regions that have a subnet."""
    if image.is_marketplace:
        regions = list(network_regions)
    elif image.is_gallery_version:
        regions = [
            r["region"] for r in image.replication if (r.get("state") or "").lower() != "failed"
        ]
    else:
        regions = [image.location]
    wanted = {_region(r) for r in regions}
    return [r for r in network_regions if _region(r) in wanted]


def _region(name: str) -> str:
    return name.replace(" ", "").lower()


def usable_sizes(skus: list[azure.ResourceSku], image: CatalogImage) -> list[azure.ResourceSku]:
    """Sizes that can boot the image's generation and architecture and are not restricted."""
    gen, arch = generation(image), (image.architecture or "x64").lower()
    return sorted(
        (
            s
            for s in skus
            if not s.restricted and gen in s.hyper_v_generations and s.architecture.lower() == arch
        ),
        key=lambda s: (s.vcpus, s.memory_gb, s.name),
    )


def names_of(name: str, count: int) -> list[str]:
    """The VM names of a request: the name itself, or ``name-01`` … ``name-NN``."""
    if count <= 1:
        return [name]
    return [f"{name}-{i:02d}" for i in range(1, count + 1)]


# --- Azure's facts -----------------------------------------------------------------------------


@dataclass
class AzureFacts:
    """What Azure says that the rules need (each read at most once per form)."""

    skus: list[azure.ResourceSku] = field(default_factory=list)
    usages: list[azure.Usage] = field(default_factory=list)
    networks: list[azure.VirtualNetwork] = field(default_factory=list)
    #: Names (lower-cased) of the asked-for VMs that exist already.
    taken: set[str] = field(default_factory=set)

    @classmethod
    def read(
        cls,
        subscription_id: str,
        *,
        location: str = "",
        resource_group: str = "",
        names: list[str] | None = None,
        fresh: bool = True,
    ) -> AzureFacts:
        """Read what the rules need; ``fresh=False`` lets the networks and sizes come from
        a read at most FACTS_CACHE_SECONDS old (the form's redraws), never the usages."""
        facts = cls(
            networks=_cached(
                f"deploy:vnets:{subscription_id}",
                lambda: azure.virtual_networks(subscription_id),
                fresh,
            )
        )
        if location:
            facts.skus = region_skus(subscription_id, location, fresh=fresh)
            facts.usages = azure.compute_usages(subscription_id, location)
        if names:
            facts.taken = taken_names(subscription_id, resource_group, names)
        return facts

    def network_regions(self) -> list[str]:
        seen: list[str] = []
        for vnet in self.networks:
            if vnet.subnets and vnet.location not in seen:
                seen.append(vnet.location)
        return sorted(seen)

    def subnets(self, location: str) -> list[tuple[azure.VirtualNetwork, azure.Subnet]]:
        return [
            (vnet, subnet)
            for vnet in self.networks
            if _region(vnet.location) == _region(location)
            for subnet in vnet.subnets
        ]

    def sku(self, name: str) -> azure.ResourceSku | None:
        return next((s for s in self.skus if s.name.lower() == name.lower()), None)

    def usage(self, name: str) -> azure.Usage | None:
        return next((u for u in self.usages if u.name.lower() == name.lower()), None)


#: How old a read of the networks and sizes may be when the form is redrawn.
FACTS_CACHE_SECONDS = 60


def _cached(key: str, read: Any, fresh: bool) -> Any:
    if not fresh:
        hit = cache.get(key)
        if hit is not None:
            return hit
    value = read()
    cache.set(key, value, FACTS_CACHE_SECONDS)
    return value


def region_skus(subscription_id: str, location: str, *, fresh: bool = True) -> list[Any]:
    """The region's Resource SKUs (cached for the form's redraws)."""
    return list(
        _cached(
            f"deploy:skus:{subscription_id}:{location.lower()}",
            lambda: azure.resource_skus(subscription_id, location),
            fresh,
        )
    )


def taken_names(subscription_id: str, resource_group: str, names: list[str]) -> set[str]:
    """The names (lower-cased) of VMs that exist already in the resource group: one GET each
    (a 404 is the answer hoped for; any other error is raised)."""
    taken = set()
    for name in names:
        try:
            azure.vm_get(subscription_id, resource_group, name)
        except azure.AzureError as exc:
            if exc.is_not_found:
                continue
            raise
        taken.add(name.lower())
    return taken


# --- The rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployAsk:
    """What the form asks for (the password is held, never shown or stored)."""

    image: CatalogImage
    name: str
    count: int
    resource_group: str
    location: str
    size: str
    subnet_id: str
    admin_username: str
    ssh_public_key: str = ""
    admin_password: str = field(default="", repr=False, compare=False)
    #: A gallery version's definition instead of the version: "the latest version".
    latest: bool = False

    @property
    def os_type(self) -> str:
        return self.image.os_type or "Linux"

    @property
    def names(self) -> list[str]:
        return names_of(self.name, self.count)


def problems(ask: DeployAsk, facts: AzureFacts) -> dict[str, list[str]]:
    """Every refusal Azure would give that the facts show, by form field."""
    found: dict[str, list[str]] = {}

    def add(name: str, sentence: str) -> None:
        found.setdefault(name, []).append(sentence)

    windows = ask.os_type == "Windows"
    for name in ask.names:
        if len(name) > 64 or not _VM_NAME.match(name) or name.endswith((".", "-")):
            add(
                "name",
                f"{name}: a VM name is 1–64 letters, digits, '-', '_' or '.', starts with a "
                "letter or digit and does not end with '.' or '-'.",
            )
        elif windows and (len(name) > 15 or name.isdigit() or _WINDOWS_BAD & set(name)):
            add("name", f"{name}: {WINDOWS_NAME}")
        if name.lower() in facts.taken:
            add(
                "name",
                f"A VM named {name} already exists in resource group {ask.resource_group}.",
            )
    if ask.admin_username.lower() in RESERVED_USERS:
        add("admin_username", USER_RESERVED)
    if windows:
        if not ask.admin_password:
            add("admin_password", "A Windows VM needs an admin password.")
        elif not password_ok(ask.admin_password, "Windows"):
            add("admin_password", password_sentence("Windows"))
    else:
        key = ask.ssh_public_key.strip()
        if not key and not ask.admin_password:
            add("ssh_public_key", LINUX_AUTH)
        elif key and not key.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
            add("ssh_public_key", SSH_KEY)
    regions = image_regions(ask.image, facts.network_regions())
    if ask.location and _region(ask.location) not in {_region(r) for r in regions}:
        add("location", f"{ask.image} is not available in {ask.location}.")
    subnets = {subnet.id.lower() for _, subnet in facts.subnets(ask.location)}
    if ask.subnet_id.lower() not in subnets:
        add("subnet", f"Choose a subnet in {ask.location}.")
    _size_problems(ask, facts, add)
    return found


def _size_problems(ask: DeployAsk, facts: AzureFacts, add: Any) -> None:
    sku = facts.sku(ask.size)
    if sku is None:
        add("size", f"The requested VM size {ask.size} is not available in {ask.location}.")
        return
    if sku.restricted:
        # SkuNotAvailable's documented sentence, for the size rather than a resource id.
        add(
            "size",
            f"The requested size {sku.name} is currently not available in location "
            f"'{ask.location}' ({sku.restriction_reason}). Please try another size or deploy "
            "to a different location or zones. See https://aka.ms/azureskunotavailable for "
            "details.",
        )
        return
    gen = generation(ask.image)
    if gen not in sku.hyper_v_generations:
        digit = gen[-1]
        add(
            "size",
            f"The selected VM size '{sku.name}' cannot boot Hypervisor Generation '{digit}'. "
            "Choose a size that supports Generation "
            f"{digit} images (see https://aka.ms/azuregen2vm).",
        )
    need = sku.vcpus * ask.count
    for counter, label in ((sku.family, sku.family), ("cores", "regional vCPUs (cores)")):
        usage = facts.usage(counter)
        if usage is not None and need > usage.available:
            add(
                "size",
                f"Needs {need} vCPUs of {label}; {usage.available} of {usage.limit} left in "
                f"{ask.location}.",
            )
            return
