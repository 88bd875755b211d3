"""The Marketplace: popular images, a cached level-by-level browse, an image's detail, and
adding images to the catalog's allow-list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.choices import ImageKind, ReviewStatus
from catalog.models import CatalogImage, ReviewDecision
from tests.helpers import HX

pytestmark = pytest.mark.django_db

INDEX = "/catalog/marketplace/"
IMAGE = "/catalog/marketplace/image/"
UBUNTU = {
    "location": "westeurope",
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
}
ROCKY = {
    "location": "westeurope",
    "publisher": "resf",
    "offer": "rockylinux-x86_64",
    "sku": "9-base",
}


def _marketplace_requests(emulator):
    return [e for e in emulator.request_log() if "/publishers" in e.path.lower()]


@pytest.fixture
def subscriptions(db, emulator):
    from contoso_images.core.services import subscriptions_sync

    return subscriptions_sync()


LEVELS = [
    ("publishers", {"location": "westeurope"}, "Canonical"),
    (
        "offers",
        {"location": "westeurope", "publisher": "Canonical"},
        "0001-com-ubuntu-server-jammy",
    ),
    (
        "skus",
        {
            "location": "westeurope",
            "publisher": "Canonical",
            "offer": "0001-com-ubuntu-server-jammy",
        },
        "22_04-lts-gen2",
    ),
    ("versions", UBUNTU, "22.04.202410020"),
]


@pytest.mark.parametrize(("level", "params", "shown"), LEVELS)
def test_each_level_is_one_request_then_none(
    reviewer_client, emulator, subscriptions, level, params, shown
):
    emulator.clear_request_log()
    response = reviewer_client.get(INDEX, params, headers={**HX, "HX-Target": "mp-browse"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="mp-browse"')
    assert shown in html
    assert "Read from Azure just now" in html
    assert len(_marketplace_requests(emulator)) == 1
    emulator.clear_request_log()
    again = reviewer_client.get(INDEX, params, headers={**HX, "HX-Target": "mp-browse"})
    assert "From the cache" in again.content.decode()
    assert _marketplace_requests(emulator) == []


def test_the_page_shows_the_popular_images_and_the_publishers(
    reviewer_client, emulator, subscriptions
):
    emulator.clear_request_log()
    html = reviewer_client.get(INDEX).content.decode()
    assert "Ubuntu2204" in html and "Win2022Datacenter" in html
    assert "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest" in html
    assert "MicrosoftWindowsServer" in html  # the publishers of the region
    assert len(_marketplace_requests(emulator)) == 1  # the publishers level only


def test_search_inside_a_level_costs_no_request(reviewer_client, emulator, subscriptions):
    params = {
        "location": "westeurope",
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
    }
    reviewer_client.get(INDEX, params)
    emulator.clear_request_log()
    response = reviewer_client.get(
        INDEX, {**params, "q": "2022 g2"}, headers={**HX, "HX-Target": "mp-items"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="mp-items"')
    assert "2022-datacenter-g2" in html
    assert "2019-datacenter-gensecond" not in html
    assert _marketplace_requests(emulator) == []


def test_an_unknown_publisher_says_so(reviewer_client, emulator, subscriptions):
    response = reviewer_client.get(INDEX, {"location": "westeurope", "publisher": "NoSuchOne"})
    assert response.status_code == 200
    assert "That Marketplace image does not exist in this region." in response.content.decode()


def test_image_detail_latest_is_two_requests_cold_and_none_cached(
    reviewer_client, emulator, subscriptions
):
    emulator.clear_request_log()
    response = reviewer_client.get(IMAGE, {**UBUNTU, "version": "latest"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gen 2 (UEFI)" in html and "x64" in html and "Linux" in html
    assert "None: no terms to accept" in html
    assert "Active" in html
    assert len(_marketplace_requests(emulator)) == 2  # resolve "latest", then read it
    emulator.clear_request_log()
    reviewer_client.get(IMAGE, {**UBUNTU, "version": "latest"})
    assert _marketplace_requests(emulator) == []


def test_image_detail_with_a_plan_says_its_terms_must_be_accepted(
    reviewer_client, emulator, subscriptions
):
    html = reviewer_client.get(IMAGE, ROCKY).content.decode()
    assert "resf / rockylinux-x86_64 / 9-base" in html
    assert "terms must be accepted" in html
    assert "az vm image terms accept --urn resf:rockylinux-x86_64:9-base:latest" in html
    assert "Set-AzVMPlan" in html


def test_a_missing_image_is_404_with_a_sentence(reviewer_client, emulator, subscriptions):
    response = reviewer_client.get(IMAGE, {**UBUNTU, "version": "1.2.3"})
    assert response.status_code == 404
    assert "does not exist in this region" in response.content.decode()


def test_a_reviewer_adds_an_image_approved(reviewer_client, reviewer_user, emulator, subscriptions):
    response = reviewer_client.post(
        reverse("catalog:marketplace_add"),
        {**ROCKY, "version": "latest", "approve": "on", "note": "Allowed for the data team."},
    )
    entry = CatalogImage.objects.get(kind=ImageKind.MARKETPLACE)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:image_detail", args=[entry.pk])
    assert entry.urn == "resf:rockylinux-x86_64:9-base:latest"
    assert entry.plan == {"name": "9-base", "product": "rockylinux-x86_64", "publisher": "resf"}
    assert entry.review_status == ReviewStatus.APPROVED
    assert entry.added_by == reviewer_user
    decision = ReviewDecision.objects.get(image=entry)
    assert (decision.decision, decision.note, decision.operation) == (
        "approve",
        "Allowed for the data team.",
        None,
    )
    page = reviewer_client.get(response["Location"]).content.decode()
    assert "Plan: accept terms" in page and "Approved" in page


def test_a_pinned_version_is_its_own_entry_and_adding_twice_keeps_one(
    reviewer_client, emulator, subscriptions
):
    data = {**UBUNTU, "version": "22.04.202410020"}
    reviewer_client.post(reverse("catalog:marketplace_add"), data)
    response = reviewer_client.post(reverse("catalog:marketplace_add"), data, follow=True)
    assert "was already in the catalog" in response.content.decode()
    entry = CatalogImage.objects.get(kind=ImageKind.MARKETPLACE)
    assert entry.version == "22.04.202410020"
    assert entry.review_status == ReviewStatus.NOT_REVIEWED  # "approve" was not ticked


def test_an_image_that_does_not_exist_is_not_added(reviewer_client, emulator, subscriptions):
    response = reviewer_client.post(
        reverse("catalog:marketplace_add"), {**UBUNTU, "sku": "nope"}, follow=True
    )
    assert "does not exist in this region" in response.content.decode()
    assert not CatalogImage.objects.exists()


@pytest.mark.parametrize("fixture", ["operator_client", "auditor_client"])
def test_only_reviewers_add_images(request, fixture, emulator, subscriptions):
    client = request.getfixturevalue(fixture)
    response = client.post(reverse("catalog:marketplace_add"), {**UBUNTU, "version": "latest"})
    assert response.status_code == 403
    assert not CatalogImage.objects.exists()
    assert client.get(INDEX).status_code == 200  # but they see the Marketplace


def test_the_popular_list_marks_images_in_the_catalog(reviewer_client, emulator, subscriptions):
    reviewer_client.post(reverse("catalog:marketplace_add"), {**UBUNTU, "version": "latest"})
    html = reviewer_client.get(INDEX).content.decode()
    ubuntu = html[html.index(">Ubuntu2204<") :][:200]
    assert "In the catalog" in ubuntu
