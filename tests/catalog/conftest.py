"""Fixtures of the catalog tests: the synced pilot catalog, and an empty cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """The Marketplace levels live in Django's cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalog(db, emulator):
    """The emulated tenant's custom images synced into the catalog: {display name: image}."""
    from catalog.models import CatalogImage
    from catalog.services import catalog_sync_all

    catalog_sync_all()
    images = CatalogImage.objects.select_related("definition", "subscription")
    return {image.display_name: image for image in images}
