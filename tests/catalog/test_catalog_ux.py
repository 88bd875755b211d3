"""Issue 20 on the catalog: copy buttons, unknown regions, "no latest version", resource ids
as Azure wrote them. Each test failed before its fix."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from catalog.models import ReviewDecision

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
def test_an_unknown_region_is_400_with_a_sentence(
    reviewer_client, emulator, subscriptions, location
):
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


# --- 3. no latest version -------------------------------------------------------------------

WARNING = "After this, the definition has no latest version"


def _review_box(html: str, decision: str) -> str:
    """The review form of one decision (up to the next form)."""
    start = html.index(f'name="decision" value="{decision}"')
    return html[start : html.index("</form>", start)]


def test_excluding_the_only_latest_version_warns_before(reviewer_client, catalog):
    only = catalog["ubuntu2204-base 1.0.0"]
    assert only.is_latest
    html = reviewer_client.get(f"/catalog/images/{only.pk}/").content.decode()
    for decision in ("reject", "deprecate"):
        box = _review_box(html, decision)
        assert WARNING in box
        assert f"az vm create --image {only.definition.resource_id}" in box
    # The catalog's row warns the same way, in the dialog it fetches when opened.
    html = reviewer_client.get("/catalog/").content.decode()
    row = html[html.index(f'id="image-row-{only.pk}"') :]
    row = row[: row.index("</tr>")]
    dialog = f"/catalog/images/{only.pk}/decide/reject/"
    assert f'hx-get="{dialog}"' in row
    box = reviewer_client.get(dialog, headers={"HX-Request": "true"}).content.decode()
    assert WARNING in box and 'hx-target="#image-row-' in box


def test_no_warning_when_another_version_would_become_latest(reviewer_client, catalog):
    latest = catalog["win2022-base 1.1.0"]
    assert latest.is_latest
    html = reviewer_client.get(f"/catalog/images/{latest.pk}/").content.decode()
    assert WARNING not in html
    assert "No latest version" not in html


def test_a_definition_with_no_latest_version_says_so(reviewer_client, reviewer_user, catalog):
    from catalog.services import review_decide
    from contoso_images.operations.engine import run as operation_run

    only = catalog["ubuntu2204-base 1.0.0"]
    decision = review_decide(image=only, user=reviewer_user, decision="reject", note="No.")
    assert operation_run(operation_id=decision.operation.pk).status == "succeeded"
    html = reviewer_client.get(f"/catalog/images/{only.pk}/").content.decode()
    assert "No latest version:" in html
    html = reviewer_client.get("/catalog/").content.decode()
    assert html.count("No latest version</span>") == 1  # the definition's group row
    assert "Definition has no latest version" in html  # and its version's row
    html = reviewer_client.get("/catalog/", {"review": "awaiting"}).content.decode()
    assert "Definition has no latest version" in html


# --- 6. resource ids as Azure spelled them ----------------------------------------------------


def test_the_capture_provenance_keeps_the_vm_id_as_azure_spelled_it(reviewer_client, catalog):
    from catalog.services import record_captured_image

    version = catalog["win2022-base 1.1.0"]
    vm_id = (
        f"/subscriptions/{version.subscription.subscription_id}/resourceGroups/RG-Web/"
        "providers/Microsoft.Compute/virtualMachines/Web-Prod-01"
    )
    image = record_captured_image(version.resource_id, operation_id=None, source_vm_id=vm_id)
    assert image.source_vm_id == vm_id
    html = reviewer_client.get(f"/catalog/images/{image.pk}/").content.decode()
    assert "/resourceGroups/RG-Web/providers/Microsoft.Compute/virtualMachines/Web-Prod-01" in html
    assert version.resource_id in html and version.resource_id != version.resource_key


def test_the_audit_names_a_marketplace_entry_as_written(
    reviewer_client, reviewer_user, emulator, subscriptions
):
    from contoso_images.audit.models import AuditEvent

    response = reviewer_client.post(
        "/catalog/marketplace/add/", {**UBUNTU, "version": "latest", "approve": "on"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="catalog.marketplace.add")
    assert (
        event.target_id
        == "marketplace:Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"
    )
    review = AuditEvent.objects.get(action="catalog.review.approve")
    assert review.target_id == event.target_id
    # Still matched case-insensitively by its lower-cased key.
    assert event.target_key == event.target_id.lower()


# --- issue 19: rows close to a bare render ------------------------------------------------------


def test_rows_carry_no_token_next_or_dialog_of_their_own(reviewer_client, catalog):
    html = reviewer_client.get("/catalog/").content.decode()
    rows = html.count('id="image-row-')
    assert rows >= 5
    # The page's tokens (its shared decision form, sign-out, "Refresh now") do not grow
    # with its rows.
    one = reviewer_client.get("/catalog/", {"q": "img-legacy-app-2016"}).content.decode()
    assert one.count('id="image-row-') == 1
    assert html.count('name="csrfmiddlewaretoken"') == one.count('name="csrfmiddlewaretoken"')
    assert html.count('name="next"') == 1
    assert "<textarea" not in html  # note dialogs are fetched when opened
    assert 'form="catalog-review" formaction="/catalog/images/' in html


def test_a_one_click_decision_without_javascript_goes_through_the_shared_form(
    reviewer_user, catalog
):
    """What a browser without script posts: the shared form's token and next, the button's
    decision, to the button's formaction."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    html = client.get("/catalog/?review=awaiting").content.decode()
    form = html[html.index('<form id="catalog-review"') :]
    form = form[: form.index("</form>")]
    token = form.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    next_url = form.split('name="next" value="')[1].split('"')[0]
    managed = next(i for i in catalog.values() if i.kind == "managed_image")
    response = client.post(
        f"/catalog/images/{managed.pk}/review/",
        {
            "csrfmiddlewaretoken": token,
            "next": next_url.replace("&amp;", "&"),
            "decision": "approve",
        },
    )
    assert response.status_code == 302 and response.url == "/catalog/?review=awaiting"
    assert ReviewDecision.objects.filter(image=managed, decision="approve").exists()


def test_a_dialog_without_javascript_is_the_image_page(reviewer_client, catalog):
    image = catalog["win2022-base 1.1.0"]
    response = reviewer_client.get(f"/catalog/images/{image.pk}/decide/reject/")
    assert response.status_code == 302
    assert response.url == f"/catalog/images/{image.pk}/#image-status"
    page = reviewer_client.get(response.url).content.decode()
    assert 'name="decision" value="reject"' in page and "<textarea" in page


def test_dialogs_are_for_reviewers_and_offered_decisions_only(
    reviewer_client, reviewer_user, operator_user, catalog
):
    from catalog.services import review_decide

    image = catalog["legacy-app 1.0.0"]
    hx = {"HX-Request": "true"}
    assert (
        reviewer_client.get(f"/catalog/images/{image.pk}/decide/nonsense/", headers=hx).status_code
        == 404
    )
    managed = next(i for i in catalog.values() if i.kind == "managed_image")
    review_decide(image=managed, user=reviewer_user, decision="reject", note="no")
    response = reviewer_client.get(f"/catalog/images/{managed.pk}/decide/reject/", headers=hx)
    assert response.status_code == 409
    operator = Client()
    operator.force_login(operator_user)
    assert operator.get(f"/catalog/images/{image.pk}/decide/reject/", headers=hx).status_code == 403
