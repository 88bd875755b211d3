"""django-q2 entry points. Thin: each hands over to a service."""

from __future__ import annotations

from vmops import services


def inventory_sync_scheduled() -> str:
    return "; ".join(str(result) for result in services.inventory_sync_all())
