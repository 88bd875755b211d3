"""``{% resource_url kind id as url %}``: the page of an Azure resource, if this user may open
one (an app registers it with `core.navigation.register_resource_link`), else "".

A template of a lower app (the audit log, say) links a VM without naming the app that shows
VMs: it asks by the resource's ARM type, which is Azure's name, not an app's.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import mark_safe

from contoso_images.core import navigation

register = template.Library()


@register.simple_tag(takes_context=True)
def resource_url(context: template.Context, resource_type: Any, resource_id: Any) -> str:
    links = context.get("resource_links")
    if links is None:
        return ""
    return str(links.url(str(resource_type or ""), str(resource_id or "")))


@register.simple_tag(takes_context=True)
def resource_actions(context: template.Context, key: str, obj: Any) -> list[Any]:
    """``{% resource_actions "catalog.image" image as actions %}``: the buttons apps above
    registered for this object (core.navigation.register_resource_action)."""
    request = context.get("request")
    if request is None or obj is None:
        return []
    return navigation.resource_actions(key, request.user, obj)


@register.simple_tag(takes_context=True)
def resource_panels(context: template.Context, key: str, obj: Any) -> str:
    """``{% resource_panels "catalog.image" image %}``: the sections apps above registered
    for this object's page, each rendered (and escaped) by its own app."""
    request = context.get("request")
    if request is None or obj is None:
        return ""
    return mark_safe("".join(navigation.resource_panels(key, request, obj)))  # noqa: S308
