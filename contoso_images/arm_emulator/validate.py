"""Name and body validation shared by the PUT handlers (400 InvalidParameter)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from . import regions
from .errors import ArmError, invalid_parameter
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
    return payload, regions.normalize(location(payload)), obj(payload, "properties")


def compute_location(name: str, resource_type: str) -> None:
    """Compute resources live in physical regions only; a logical one (``europe``) or an
    unknown name is refused with ARM's LocationNotAvailableForResourceType (wording
    modelled on ARM's, docs/emulator-fidelity.md)."""
    if not regions.is_physical(name):
        raise ArmError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{name}' is not available for resource type '{resource_type}'.",
        )


def end_of_life(value: Any, target: str, now: float) -> str:
    """An ``endOfLifeDate`` as Azure echoes it (``2026-12-31T12:59:59+00:00`` for
    ``2026-12-31T12:59:59.000Z``, recorded), refusing a date that is not in the future
    ("EndOfLifeDate must be set to a future date.", Compute Gallery troubleshooting page)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_parameter(
            f"The value '{value}' of '{target}' is not a valid date.", target=target
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if moment.timestamp() <= now:
        raise invalid_parameter("EndOfLifeDate must be set to a future date.", target=target)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


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
