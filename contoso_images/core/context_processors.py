from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from contoso_images.core.navigation import ResourceLinks, nav_entries


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """What the base layout shows on every page: where Azure calls go, the sections the user
    may open, and the resource pages the user may follow links to.

    The sections and links are lazy: an htmx partial that shows neither asks nothing.
    """
    emulated = settings.AZURE_MODE == "emulator"
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    namespace = match.app_name if match is not None else ""
    return {
        "azure_mode": settings.AZURE_MODE,
        "azure_connection_label": (
            "Connected to the ARM emulator (Contoso pilot tenant) — no real Azure resources"
            if emulated
            else f"Connected to Azure ({settings.AZURE_CLOUD} cloud)"
        ),
        "azure_is_emulated": emulated,
        "nav_sections": SimpleLazyObject(
            lambda: (
                nav_entries(user, current_namespace=namespace, current_path=request.path)
                if user is not None
                else []
            )
        ),
        "resource_links": SimpleLazyObject(lambda: ResourceLinks(user)),
    }
