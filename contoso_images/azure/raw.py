"""Small helpers for reading ARM's raw JSON (what SDK models hold underneath).

Converters read the REST mapping (``model.as_dict()``) rather than model attributes: the strings
there are ARM's own (``"Standard_B2s"``, never ``VirtualMachineSizeTypes.STANDARD_B2_S``,
which is how SDK enums print on Python 3.11) and the shape is the documented REST shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from contoso_images.azure.ids import parse_resource_id


def as_raw(model: Any) -> Mapping[str, Any]:
    """An SDK model read as its REST mapping (or a plain dict, passed through).

    azure-mgmt-compute 39 models are ``MutableMapping``s keyed by REST names whose leaves are
    ARM's raw strings; reading them as mappings skips ``as_dict()``'s deep
    copy, which cost about a fifth of a 10,000-VM listing.
    """
    if model is None:
        return {}
    if isinstance(model, Mapping):
        return model
    return dict(model)


def obj(data: Mapping[str, Any] | None, *path: str) -> dict[str, Any]:
    """Walk ``path`` through nested objects; ``{}`` wherever something is missing."""
    current: Any = data or {}
    for key in path:
        current = current.get(key) if isinstance(current, Mapping) else None
        if current is None:
            return {}
    return dict(current) if isinstance(current, Mapping) else {}


def text(data: Mapping[str, Any] | None, key: str) -> str:
    value = (data or {}).get(key)
    return "" if value is None else str(value)


def integer(data: Mapping[str, Any] | None, key: str) -> int | None:
    value = (data or {}).get(key)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def moment(value: Any) -> datetime | None:
    """Parse ARM's ISO 8601 timestamps (7 fractional digits and ``Z`` included)."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def tags(data: Mapping[str, Any] | None) -> dict[str, str]:
    return {
        str(k): "" if v is None else str(v) for k, v in ((data or {}).get("tags") or {}).items()
    }


class ResourceFields(TypedDict):
    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str


def resource_fields(raw: Mapping[str, Any]) -> ResourceFields:
    """The fields every dataclass of a tracked ARM resource (VM, image, gallery, image
    definition, image version) starts with; spread them in: ``Gallery(**resource_fields(raw),
    ...)``. Subscription and resource group come from the id, as ARM sends no fields for them.
    """
    resource_id = text(raw, "id")
    subscription_id, resource_group, _, _ = parse_resource_id(resource_id)
    return {
        "id": resource_id,
        "subscription_id": subscription_id,
        "resource_group": resource_group,
        "name": text(raw, "name"),
        "location": text(raw, "location"),
    }
