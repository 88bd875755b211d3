"""Issue 20 on the catalog: copy buttons, unknown regions, "no latest version", resource ids
as Azure wrote them. Each test failed before its fix."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

IMAGE = "/catalog/marketplace/image/"
INDEX = "/catalog/marketplace/"
UBUNTU = {
    "location": "westeurope",
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
}


@pytest.fixture
def subscriptions(db, emulator):
    from contoso_images.core.services import subscriptions_sync

    return subscriptions_sync()


def _copy_buttons(html: str) -> list[str]:
    """The ids the Copy buttons copy (app.js's data-copy), each checked to exist."""
    ids = [part.split('"')[0] for part in html.split('data-copy="')[1:]]
    for target in ids:
        assert f'id="{target}"' in html
    return ids


# --- 1. copy buttons --------------------------------------------------------------------------


def test_an_image_page_has_a_copy_button_per_command(reviewer_client, catalog):
    version = catalog["win2022-base 1.1.0"]
    html = reviewer_client.get(f"/catalog/images/{version.pk}/").content.decode()
    ids = _copy_buttons(html)
    assert len(ids) == html.count('<pre class="cmd"')
    assert len(ids) >= 10  # 2 VM commands and 3 review effects, az and PowerShell each
    assert len(set(ids)) == len(ids)
    assert "Copy the Azure CLI command: Create a VM from this image" in html


def test_a_marketplace_image_has_a_copy_button_per_command(
    reviewer_client, emulator, subscriptions
):
    html = reviewer_client.get(IMAGE, UBUNTU).content.decode()
    ids = _copy_buttons(html)
    assert ids and len(ids) == html.count('<pre class="cmd"')


# --- 2. an unknown region ------------------------------------------------------------------

UNKNOWN = [
    "xyz",
    "westeurop",
    "west-europe",
    "westeurope2",
    "mars",
    "europe",  # a geography, not a region
    "global",
    "eastus3",
    "uknorth",
    "a" * 50,
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("location", UNKNOWN)
def test_an_unknown_region_is_400_with_a_sentence(reviewer_client, emulator, subscriptions, location):
    emulator.clear_request_log()
    response = reviewer_client.get(IMAGE, {**UBUNTU, "location": location})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not an Azure region this subscription offers; choose one of" in html
    assert "westeurope" in html
    assert "NoRegisteredProviderFound" not in html
    assert "<script>alert(1)" not in html
    # Refused before the Marketplace was asked.
    assert not [e for e in emulator.request_log() if "/publishers" in e.path.lower()]


def test_an_unknown_region_when_the_regions_cannot_be_read_is_still_a_sentence(
    reviewer_client, emulator, subscriptions
):
    cache.clear()
    for sub in subscriptions:  # the subscription's list of locations, not the Marketplace's
        emulator.queue_fault(
            method="GET", path_contains=f"{sub.subscription_id}/locations", status=500, count=10
        )
    response = reviewer_client.get(IMAGE, {**UBUNTU, "location": "xyz"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "&#x27;xyz&#x27; is not an Azure region this subscription offers" in html
    assert "No registered resource provider" not in html


def test_browsing_an_unknown_region_is_400_with_a_sentence(
    reviewer_client, emulator, subscriptions
):
    response = reviewer_client.get(INDEX, {"location": "xyz"})
    assert response.status_code == 400
    assert "is not an Azure region this subscription offers" in response.content.decode()


def test_a_known_region_in_capitals_is_fine(reviewer_client, emulator, subscriptions):
    response = reviewer_client.get(IMAGE, {**UBUNTU, "location": "WestEurope"})
    assert response.status_code == 200
