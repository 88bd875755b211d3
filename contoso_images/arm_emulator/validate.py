"""Name and body validation shared by the PUT handlers (400 InvalidParameter)."""

from __future__ import annotations

import re
from typing import Any

from .catalog import normalize_region
from .errors import invalid_parameter
from .wire import ArmRequest

_IMAGE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
_GALLERY_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,78}[A-Za-z0-9_])?$")
_DEFINITION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$")
_VERSION_NAME = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def image_name(name: str) -> None:
    if not _IMAGE_NAME.match(name):
        raise invalid_parameter(
            f"The image name '{name}' is invalid. It must be 1-80 characters: letters, numbers, "
            "underscores, periods or hyphens, beginning with a letter or number and ending "
            "with a letter, number or underscore.",
            target="imageName",
        )


def gallery_name(name: str) -> None:
    if not _GALLERY_NAME.match(name):
        raise invalid_parameter(
            f"The gallery name '{name}' is invalid. Allowed characters are English "
            "alphanumeric characters, underscores and periods; it cannot begin or end with a "
            "period, and is up to 80 characters.",
            target="galleryName",
        )


def definition_name(name: str) -> None:
    if not _DEFINITION_NAME.match(name):
        raise invalid_parameter(
            f"The gallery image name '{name}' is invalid. Allowed characters are English "
            "alphanumeric characters, hyphens, underscores and periods; it must begin and "
            "end with an alphanumeric character.",
            target="galleryImageName",
        )


def version_name(name: str) -> None:
    m = _VERSION_NAME.match(name)
    if not m or any(int(p) > 2**31 - 1 for p in m.groups()):
        raise invalid_parameter(
            f"The gallery image version name '{name}' is invalid. It must follow the "
            "Major(int32).Minor(int32).Patch(int32) format, for example 1.0.0. Allowed "
            "characters for the image version are numbers and periods.",
            target="galleryImageVersionName",
        )


def put_body(req: ArmRequest) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """What every PUT starts from: the JSON body, its location (normalized) and its
    ``properties`` object — or 400 when one of them is malformed."""
    payload = req.json()
    return payload, normalize_region(location(payload)), obj(payload, "properties")


def location(payload: dict[str, Any]) -> str:
    loc = payload.get("location")
    if not isinstance(loc, str) or not loc.strip():
        raise invalid_parameter("The 'location' property is required.", target="location")
    return loc


def obj(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """``payload[key]`` as an object (missing → empty), else 400."""
    value = payload.get(key) or {}
    if not isinstance(value, dict):
        raise invalid_parameter(f"The '{key}' property must be an object.", target=key)
    return value


def tags(payload: dict[str, Any]) -> dict[str, str]:
    value = payload.get("tags") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_parameter("The 'tags' property must map names to strings.", target="tags")
    return value


def choice(value: Any, allowed: tuple[str, ...], target: str, default: str | None = None) -> str:
    """Case-insensitive enum check returning the canonical spelling."""
    if value is None and default is not None:
        return default
    for option in allowed:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    raise invalid_parameter(
        f"The value '{value}' of '{target}' is invalid. Allowed values: {', '.join(allowed)}.",
        target=target,
    )
