"""django-q2 entry points. Thin: each hands over to a service."""

from __future__ import annotations

from catalog import services


def catalog_sync_scheduled() -> str:
    return "; ".join(str(result) for result in services.catalog_sync_all())
