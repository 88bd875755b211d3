"""The catalog page, an image's page and review by htmx: what people see and may do."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.choices import ReviewStatus
from catalog.models import CatalogImage, ReviewDecision
from contoso_images.operations.engine import run as operation_run
from contoso_images.operations.models import Operation
from tests.catalog.factories import (
    GalleryVersionFactory,
    ImageDefinitionFactory,
    ManagedImageFactory,
    MarketplaceEntryFactory,
)
from tests.helpers import HX

pytestmark = pytest.mark.django_db

INDEX = "/catalog/"


def _review_url(image):
    return reverse("catalog:image_review", args=[image.pk])


def _row_ids(response):
    html = response.content.decode()
    return {int(part.split('"')[0]) for part in html.split('id="image-row-')[1:]}


# --- the page ------------------------------------------------------------------------------


def test_the_catalog_shows_every_entry_grouped_with_badges(reviewer_client, catalog):
    MarketplaceEntryFactory(sku="22_04-lts-gen2")
    response = reviewer_client.get(INDEX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Awaiting review (9)" in html  # 3 managed images, 5 versions, 1 Marketplace entry
    assert "gal_contoso › win2022-base" in html  # versions grouped under their definition
    kinds = [part.split("<")[0] for part in html.split('colspan="8">')[1:]]
    assert [k for k in kinds if k.endswith(("versions", "images"))] == [
        "Compute Gallery versions",
        "Managed images",
        "Marketplace images",
    ]
    assert html.count('class="badge badge-latest"') == 3  # one latest per definition
    assert "Not reviewed" in html
    assert 'href="/catalog/images/' in html


@pytest.mark.parametrize("fixture", ["reviewer_client", "operator_client", "auditor_client"])
def test_every_role_that_sees_the_catalog_sees_it(request, fixture, catalog):
    client = request.getfixturevalue(fixture)
    response = client.get(INDEX)
    assert response.status_code == 200
    html = response.content.decode()
    approve_button = ">Approve</button>"
    assert (approve_button in html) == (fixture == "reviewer_client")


def test_users_without_a_role_get_403(client, roleless_user, catalog):
    client.force_login(roleless_user)
    image = catalog["win2022-base 1.0.0"]
    assert client.get(INDEX).status_code == 403
    assert client.get(reverse("catalog:image_detail", args=[image.pk])).status_code == 403
    assert client.get(reverse("catalog:marketplace_index")).status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"kind": "managed_image"},
            {"img-win2022-base-20241001", "img-ubuntu2204-20240915", "img-legacy-app-2016"},
        ),
        (
            {"kind": "gallery_version", "os_type": "Linux"},
            {"ubuntu2204-base 1.0.0", "ubuntu2204-base 1.1.0"},
        ),
        ({"generation": "V1"}, {"legacy-app 1.0.0", "img-legacy-app-2016"}),
        (  # the seeded ubuntu2204-base 1.1.0 is excluded from latest
            {"lifecycle": "latest"},
            {"win2022-base 1.1.0", "ubuntu2204-base 1.0.0", "legacy-app 1.0.0"},
        ),
        (
            {"location": "westeurope", "q": "ubuntu"},
            {"ubuntu2204-base 1.0.0", "ubuntu2204-base 1.1.0", "img-ubuntu2204-20240915"},
        ),
        ({"q": "win2022 1.1"}, {"win2022-base 1.1.0"}),
        ({"review": "approved"}, {"legacy-app 1.0.0"}),
        ({"architecture": "x64", "kind": "gallery_version", "q": "legacy"}, {"legacy-app 1.0.0"}),
    ],
)
def test_filters(reviewer_client, reviewer_user, catalog, query, expected):
    from catalog.services import review_decide

    legacy = catalog["legacy-app 1.0.0"]
    CatalogImage.objects.filter(pk=legacy.pk).update(review_status=ReviewStatus.APPROVED)
    review_decide(
        image=catalog["img-legacy-app-2016"], user=reviewer_user, decision="comment", note="fine"
    )
    response = reviewer_client.get(INDEX, query)
    shown = {name for name, image in catalog.items() if image.pk in _row_ids(response)}
    assert shown == expected


def test_lifecycle_filters_for_end_of_life(reviewer_client, catalog):
    from datetime import timedelta

    from django.utils import timezone

    # The seed gives legacy-app 1.0.0 an end of life in 20 days and keeps
    # ubuntu2204-base 1.1.0 out of latest; the sync carries both.
    soon = catalog["legacy-app 1.0.0"]
    past = catalog["win2022-base 1.0.0"]
    excluded = catalog["ubuntu2204-base 1.1.0"]
    assert soon.end_of_life_date is not None and excluded.exclude_from_latest
    CatalogImage.objects.filter(pk=past.pk).update(
        end_of_life_date=timezone.now() - timedelta(days=1)
    )
    assert _row_ids(reviewer_client.get(INDEX, {"lifecycle": "eol_soon"})) == {soon.pk}
    assert _row_ids(reviewer_client.get(INDEX, {"lifecycle": "past_eol"})) == {past.pk}
    assert _row_ids(reviewer_client.get(INDEX, {"lifecycle": "excluded"})) == {excluded.pk}
    html = reviewer_client.get(INDEX).content.decode()
    assert "End of life " in html and "Past end of life" in html


def test_awaiting_review_is_the_oldest_first(reviewer_client, catalog):
    from datetime import timedelta

    from django.utils import timezone

    oldest = catalog["ubuntu2204-base 1.0.0"]
    CatalogImage.objects.filter(pk=oldest.pk).update(
        first_seen_at=timezone.now() - timedelta(days=30)
    )
    response = reviewer_client.get(INDEX, {"review": "awaiting"})
    html = response.content.decode()
    first = html.index('id="image-row-')
    assert html[first:].startswith(f'id="image-row-{oldest.pk}"')
    assert len(_row_ids(response)) == 8


def test_gone_images_are_hidden_unless_asked_for(reviewer_client, catalog):
    from django.utils import timezone

    gone = catalog["img-legacy-app-2016"]
    CatalogImage.objects.filter(pk=gone.pk).update(gone_at=timezone.now())
    assert gone.pk not in _row_ids(reviewer_client.get(INDEX))
    assert gone.pk in _row_ids(reviewer_client.get(INDEX, {"include_gone": "on"}))
    assert gone.pk in _row_ids(reviewer_client.get(INDEX, {"lifecycle": "gone"}))


def test_sorting_and_paging(reviewer_client, catalog):
    response = reviewer_client.get(INDEX, {"sort": "-name"})
    assert response.status_code == 200
    response = reviewer_client.get(INDEX, {"sort": "nonsense", "page": "99"})
    assert response.status_code == 200  # a stale link shows the catalog, not an error


def test_htmx_gets_the_listing_alone(reviewer_client, catalog):
    response = reviewer_client.get(INDEX, headers={**HX, "HX-Target": "catalog-listing"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="catalog-listing"')
    assert "<html" not in html


def _catalog_of(size):
    definition = ImageDefinitionFactory()
    for i in range(size // 2):
        GalleryVersionFactory(definition=definition, name=f"1.0.{i}")
    for _ in range(size - size // 2):
        ManagedImageFactory(subscription=definition.subscription)


def test_the_page_costs_the_same_queries_for_10_and_1000_entries(reviewer_client, django_db_setup):
    _catalog_of(10)
    reviewer_client.get(INDEX)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        assert reviewer_client.get(INDEX).status_code == 200
    _catalog_of(990)
    assert CatalogImage.objects.count() == 1000
    with CaptureQueriesContext(connection) as large:
        assert reviewer_client.get(INDEX).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


# --- review by htmx ------------------------------------------------------------------------


def test_approve_by_htmx_swaps_the_row_and_polls_until_azure_did_it(
    reviewer_client, catalog, emulator
):
    version = catalog["win2022-base 1.0.0"]
    response = reviewer_client.post(
        _review_url(version), {"decision": "approve"}, headers={**HX, "HX-Target": version.row_id}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="{version.row_id}"')
    assert "every 2s" in html and "Approval" in html
    operation = Operation.objects.get(target_key=version.resource_key)
    operation_run(operation_id=operation.pk)
    response = reviewer_client.get(
        reverse("catalog:image_row", args=[version.pk]) + f"?op={operation.pk}",
        headers={**HX, "HX-Target": version.row_id},
    )
    html = response.content.decode()
    assert "every 2s" not in html
    assert 'data-review-status="approved"' in html
    trigger = response["HX-Trigger-After-Settle"]
    assert "catalog-changed" in trigger and f"catalog-definition-{version.definition_id}" in trigger


def test_a_refused_update_says_why_on_the_row(reviewer_client, catalog, emulator):
    version = catalog["win2022-base 1.1.0"]
    emulator.queue_fault(method="PATCH", path_contains="/versions/1.1.0", status=409)
    reviewer_client.post(_review_url(version), {"decision": "reject", "note": "no"}, headers=HX)
    operation = Operation.objects.get(target_key=version.resource_key)
    operation_run(operation_id=operation.pk)
    response = reviewer_client.get(
        reverse("catalog:image_row", args=[version.pk]) + f"?op={operation.pk}",
        headers={**HX, "HX-Target": version.row_id},
    )
    html = response.content.decode()
    assert "Rejection not carried out: Another request changed this resource" in html
    assert 'data-review-status="not_reviewed"' in html


def test_a_second_decision_while_one_runs_gets_409_with_a_sentence(reviewer_client, catalog):
    version = catalog["win2022-base 1.1.0"]
    reviewer_client.post(_review_url(version), {"decision": "approve"}, headers=HX)
    response = reviewer_client.post(
        _review_url(version), {"decision": "reject", "note": "wait"}, headers=HX
    )
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    assert "already in progress" in response.content.decode()
    assert ReviewDecision.objects.count() == 1


def test_a_decision_without_its_reason_gets_409(reviewer_client, catalog):
    image = catalog["img-legacy-app-2016"]
    response = reviewer_client.post(_review_url(image), {"decision": "reject"}, headers=HX)
    assert response.status_code == 409
    assert response.content.decode() == "Say why: a reject needs a note."
    response = reviewer_client.post(_review_url(image), {"decision": "bogus"}, headers=HX)
    assert response.status_code == 400


def test_without_htmx_a_decision_redirects_with_a_message(reviewer_client, catalog):
    image = catalog["img-legacy-app-2016"]
    response = reviewer_client.post(
        _review_url(image), {"decision": "approve", "next": "/catalog/?review=awaiting"}
    )
    assert response.status_code == 302 and response["Location"] == "/catalog/?review=awaiting"
    page = reviewer_client.get(response["Location"])
    assert "Approve of img-legacy-app-2016 is recorded." in page.content.decode()
    assert CatalogImage.objects.get(pk=image.pk).review_status == ReviewStatus.APPROVED


def test_a_decision_recorded_at_once_refreshes_the_tiles(reviewer_client, catalog):
    image = catalog["img-legacy-app-2016"]
    response = reviewer_client.post(
        _review_url(image), {"decision": "approve"}, headers={**HX, "HX-Target": image.row_id}
    )
    assert "catalog-changed" in response["HX-Trigger-After-Settle"]


@pytest.mark.parametrize("fixture", ["operator_client", "auditor_client"])
def test_operators_and_auditors_cannot_decide(request, fixture, catalog):
    client = request.getfixturevalue(fixture)
    image = catalog["win2022-base 1.0.0"]
    response = client.post(_review_url(image), {"decision": "approve"}, headers=HX)
    assert response.status_code == 403
    assert not ReviewDecision.objects.exists()
    assert not Operation.objects.exists()


def test_users_without_a_role_cannot_decide(client, roleless_user, catalog):
    client.force_login(roleless_user)
    image = catalog["win2022-base 1.0.0"]
    assert client.post(_review_url(image), {"decision": "approve"}).status_code == 403
    assert not ReviewDecision.objects.exists()


def test_review_needs_the_csrf_token(reviewer_user, catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    image = catalog["win2022-base 1.0.0"]
    assert client.post(_review_url(image), {"decision": "approve"}).status_code == 403
    assert not ReviewDecision.objects.exists()


def test_review_is_post_only(reviewer_client, catalog):
    image = catalog["win2022-base 1.0.0"]
    assert reviewer_client.get(_review_url(image)).status_code == 405


# --- an image's page -----------------------------------------------------------------------


def test_a_gallery_version_page_shows_everything(reviewer_client, reviewer_user, catalog):
    from catalog.services import review_decide

    image = catalog["win2022-base 1.0.0"]
    review_decide(image=image, user=reviewer_user, decision="comment", note="Checked CIS.")
    response = reviewer_client.get(reverse("catalog:image_detail", args=[image.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Replication per region",
        "North Europe",
        "Versions of win2022-base",
        "Review history",
        "Checked CIS.",
        "rui-reviewer",
        "img-win2022-base-20241001",  # its source, a managed image in the catalog
        "az vm create",
        "Set-AzVMSourceImage -Id",
        "--set publishingProfile.excludeFromLatest=false",
        "-PublishingProfileExcludeFromLatest:$false",
        "Gen 2 (UEFI)",
    ):
        assert text in html, text


def test_a_managed_image_page(reviewer_client, catalog):
    image = catalog["img-win2022-base-20241001"]
    html = reviewer_client.get(reverse("catalog:image_detail", args=[image.pk])).content.decode()
    assert "Captured from VM" not in html
    assert "img-win2022-base" in html  # the VM it was made from
    assert "win2022-base 1.0.0" in html  # the gallery version made from it
    assert "excludeFromLatest" not in html


def test_an_image_deleted_in_azure_is_noticed_on_its_page(reviewer_client, catalog, emulator):
    image = catalog["legacy-app 1.0.0"]
    emulator.handle(
        "DELETE",
        f"https://management.azure.com{image.resource_id}?api-version=2026-03-03",
        {},
        None,
    )
    html = reviewer_client.get(reverse("catalog:image_detail", args=[image.pk])).content.decode()
    assert "was deleted in Azure" in html
    assert CatalogImage.objects.get(pk=image.pk).gone_at is not None


def test_by_resource_id_redirects_or_404(reviewer_client, catalog):
    image = catalog["win2022-base 1.1.0"]
    url = reverse("catalog:image_by_resource")
    response = reviewer_client.get(url, {"id": image.resource_id.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:image_detail", args=[image.pk])
    assert reviewer_client.get(url, {"id": "/subscriptions/x/nothing"}).status_code == 404


def test_an_unknown_image_is_404(reviewer_client, db):
    assert reviewer_client.get(reverse("catalog:image_detail", args=[999])).status_code == 404


def test_refresh_now_queues_one_sync(reviewer_client, catalog, monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: queued.append(a))
    response = reviewer_client.post(reverse("catalog:catalog_refresh"), headers=HX)
    assert response.status_code == 200
    for _ in range(5):
        cache.clear()  # as another web process without a shared cache would see it
        reviewer_client.post(reverse("catalog:catalog_refresh"), headers=HX)
    assert len(queued) == 1


def test_the_awaiting_queue_is_not_grouped_and_names_each_definition(reviewer_client, catalog):
    html = reviewer_client.get(INDEX, {"review": "awaiting"}).content.decode()
    assert 'class="group-row"' not in html and 'class="kind-row"' not in html
    assert ">win2022-base 1.1.0</a>" in html
    assert 'name="sort" value="grouped"' in html  # changing a filter keeps the usual order


@pytest.mark.parametrize(
    "target", ["catalog", "logout", "//evil.example/", "https://evil.example/"]
)
def test_a_review_posted_with_a_next_that_is_no_path_goes_back_to_the_image(
    reviewer_client, catalog, target
):
    version = catalog["win2022-base 1.1.0"]
    response = reviewer_client.post(
        _review_url(version), {"decision": "reject", "note": "no", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:image_detail", args=[version.pk])


def test_auditors_may_not_refresh_the_catalog_from_azure(
    client, auditor_user, reviewer_user, operator_user
):
    url = reverse("catalog:catalog_refresh")
    client.force_login(auditor_user)
    assert client.post(url).status_code == 403
    assert (
        ">Refresh now</button>" not in client.get(reverse("catalog:catalog_index")).content.decode()
    )
    for user in (reviewer_user, operator_user):
        client.force_login(user)
        assert (
            ">Refresh now</button>" in client.get(reverse("catalog:catalog_index")).content.decode()
        )
        assert client.post(url).status_code == 302


def test_names_from_azure_are_escaped_in_the_catalog_rows(reviewer_client):
    """The row is written in Python (catalog_rows.image_row_html): every value from Azure goes
    through format_html's escaping, as the template's did."""
    hostile = '<img src=x onerror="alert(1)">'
    definition = ImageDefinitionFactory(gallery_name=f"gal{hostile}", name=f"def{hostile}")
    GalleryVersionFactory(definition=definition, resource_group=f"rg{hostile}")
    ManagedImageFactory(name=f"img{hostile}", resource_group=f"rg2{hostile}")
    html = reviewer_client.get(reverse("catalog:catalog_index")).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
