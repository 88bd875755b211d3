"""ARM resource ids, taken apart without a network call.

ARM ids look like
``/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]``;
segment names are case-insensitive (Marketplace ids come back as ``/Subscriptions/.../Providers/``).
"""

from __future__ import annotations


def _segments(resource_id: str) -> list[str]:
    return [part for part in resource_id.strip().split("/") if part]


def parse_resource_id(resource_id: str) -> tuple[str, str, str, str]:
    """Return ``(subscription_id, resource_group, provider_type, name)`` for an ARM id.

    ``provider_type`` is the namespace plus every type segment, e.g.
    ``Microsoft.Compute/galleries/images/versions``; parts that the id lacks are ``""``.
    """
    parts = _segments(resource_id)
    lowered = [p.lower() for p in parts]
    subscription_id = resource_group = provider_type = name = ""
    if "subscriptions" in lowered:
        i = lowered.index("subscriptions")
        subscription_id = parts[i + 1] if i + 1 < len(parts) else ""
    if "resourcegroups" in lowered:
        i = lowered.index("resourcegroups")
        resource_group = parts[i + 1] if i + 1 < len(parts) else ""
        name = resource_group
    if "providers" in lowered:
        i = lowered.index("providers")
        rest = parts[i + 1 :]
        if rest:
            namespace, pairs = rest[0], rest[1:]
            types = pairs[0::2]
            names = pairs[1::2]
            provider_type = "/".join([namespace, *types])
            name = names[-1] if names else ""
    return subscription_id, resource_group, provider_type, name


def resource_names(resource_id: str) -> list[str]:
    """Names after the provider namespace: ``[gallery, definition, version]`` for a version."""
    parts = _segments(resource_id)
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return parts[-1:]
    rest = parts[lowered.index("providers") + 2 :]
    return rest[1::2]
