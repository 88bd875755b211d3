from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """What the base layout shows on every page: where Azure calls go."""
    emulated = settings.AZURE_MODE == "emulator"
    return {
        "azure_mode": settings.AZURE_MODE,
        "azure_connection_label": (
            "Connected to the ARM emulator (Contoso pilot tenant) — no real Azure resources"
            if emulated
            else f"Connected to Azure ({settings.AZURE_CLOUD} cloud)"
        ),
        "azure_is_emulated": emulated,
    }
