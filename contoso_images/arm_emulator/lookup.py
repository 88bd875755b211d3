"""Finding subscriptions, resource groups and resources — or raising ARM's 404s."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import unquote

from . import errors
from .state import Resource, get_resource, resource_group, subscription_row

KIND_VM = "vm"
KIND_IMAGE = "image"
KIND_GALLERY = "gallery"
KIND_GALLERY_IMAGE = "gallery_image"
KIND_GALLERY_VERSION = "gallery_image_version"

TYPE_NAMES = {
    KIND_VM: "Microsoft.Compute/virtualMachines",
    KIND_IMAGE: "Microsoft.Compute/images",
    KIND_GALLERY: "Microsoft.Compute/galleries",
    KIND_GALLERY_IMAGE: "Microsoft.Compute/galleries/images",
    KIND_GALLERY_VERSION: "Microsoft.Compute/galleries/images/versions",
}

_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.Compute/(?P<type>virtualMachines|images)/(?P<name>[^/]+)$",
    re.IGNORECASE,
)


def require_sub(conn: sqlite3.Connection, sub: str) -> str:
    row = subscription_row(conn, sub)
    if row is None:
        raise errors.subscription_not_found(sub)
    return row[0]


def require_rg(conn: sqlite3.Connection, sub: str, rg: str) -> str:
    """The resource group's name as created (404 ResourceGroupNotFound otherwise)."""
    require_sub(conn, sub)
    found = resource_group(conn, sub, rg)
    if found is None:
        raise errors.resource_group_not_found(rg)
    return found[0]


# The collection segments of each kind's path, outermost first.
_SEGMENTS = {
    KIND_VM: ("virtualMachines",),
    KIND_IMAGE: ("images",),
    KIND_GALLERY: ("galleries",),
    KIND_GALLERY_IMAGE: ("galleries", "images"),
    KIND_GALLERY_VERSION: ("galleries", "images", "versions"),
}


def resource_path(kind: str, name: str, parent: str = "") -> str:
    """The provider-relative path ARM names in its 404s and 409s, each name after its
    collection: ``Microsoft.Compute/galleries/g/images/d/versions/1.0.0``."""
    names = [*(parent.split("/") if parent else []), name]
    pairs = "/".join(f"{c}/{n}" for c, n in zip(_SEGMENTS[kind], names, strict=True))
    return f"Microsoft.Compute/{pairs}"


def require(
    conn: sqlite3.Connection, kind: str, sub: str, rg: str, name: str, parent: str = ""
) -> Resource:
    """The resource, or 404: ResourceGroupNotFound, else ResourceNotFound naming the
    resource asked for (also when its parent is missing, as ARM answers a GET)."""
    require_rg(conn, sub, rg)
    res = get_resource(conn, kind, sub, rg, name, parent)
    if res is None:
        raise errors.resource_not_found(resource_path(kind, name, parent), rg)
    return res


def parse_id(resource_id: str) -> tuple[str, str, str, str] | None:
    """``(sub, rg, kind, name)`` of a VM or managed image ARM id, else None."""
    m = _ID.match(resource_id.rstrip("/"))
    if not m:
        return None
    kind = KIND_VM if m["type"].lower() == "virtualmachines" else KIND_IMAGE
    return m["sub"], unquote(m["rg"]), kind, unquote(m["name"])
