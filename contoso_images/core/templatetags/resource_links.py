"""``{% resource_url kind id as url %}``: the page of an Azure resource, if this user may open
one (an app registers it with `core.navigation.register_resource_link`), else "".

A template of a lower app (the audit log, say) links a VM without naming the app that shows
VMs: it asks by the resource's ARM type, which is Azure's name, not an app's.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def resource_url(context: template.Context, resource_type: Any, resource_id: Any) -> str:
    links = context.get("resource_links")
    if links is None:
        return ""
    return str(links.url(str(resource_type or ""), str(resource_id or "")))
