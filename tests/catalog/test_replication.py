"""Changing a gallery version's replication after its creation (``catalog.replicate``): the
rules Azure applies, the operation on the shared engine, a lost answer, the page and its
permission."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog.services.replication import WantedRegion, replication_change
from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.operations import engine
from tests.helpers import HX

pytestmark = pytest.mark.django_db

VERSION = "win2022-base 1.1.0"


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


def _current(image) -> list[WantedRegion]:
    return [
        WantedRegion(r["region"], int(r["replica_count"]), r["storage_account_type"])
        for r in image.replication
    ]


def _in_azure(image) -> dict[str, tuple[int, str]]:
    version = azure.gallery_image_version_get(
        image.subscription.subscription_id,
        image.resource_group,
        image.definition.gallery_name,
        image.definition.name,
        image.name,
    )
    return {
        t.name.replace(" ", "").lower(): (t.regional_replica_count, t.storage_account_type)
        for t in version.target_regions
    }


def test_adding_a_region_and_replicas_is_carried_out_in_azure(catalog, emulator, reviewer_user):
    from contoso_images.audit.models import AuditEvent

    image = catalog[VERSION]
    home = image.location
    current = _current(image)
    assert len(current) >= 2  # West Europe and North Europe
    wanted = [
        WantedRegion(r.name, 2, r.storage) if r.name.replace(" ", "").lower() == home else r
        for r in current
    ] + [WantedRegion("swedencentral", 1, "Standard_ZRS")]
    operation = replication_change(image=image, user=reviewer_user, regions=wanted)
    done = engine.run(operation_id=operation.pk)
    assert done.status == "succeeded", done.error_summary
    shown = _in_azure(image)
    assert shown["swedencentral"] == (1, "Standard_ZRS")
    assert shown[home][0] == 2
    image.refresh_from_db()
    assert {r["region"].replace(" ", "").lower() for r in image.replication} >= {"swedencentral"}
    actions = set(
        AuditEvent.objects.filter(operation_id=operation.pk).values_list("action", flat=True)
    )
    assert actions  # the operation's own events: requested and how it ended
    patches = [e for e in emulator.request_log() if e.method == "PATCH"]
    assert len(patches) == 1


def test_a_change_azure_already_shows_sends_nothing(catalog, emulator, reviewer_user):
    image = catalog[VERSION]
    wanted = [*_current(image), WantedRegion("swedencentral", 1, "Standard_LRS")]
    first = replication_change(image=image, user=reviewer_user, regions=wanted)
    assert engine.run(operation_id=first.pk).status == "succeeded"
    # Azure changed the same way outside the dashboard, between the catalog's read and now.
    emulator.clear_request_log()
    image.refresh_from_db()
    more = [*wanted, WantedRegion("uksouth", 1, "Standard_LRS")]
    azure_token = azure.gallery_image_version_begin_update(
        image.subscription.subscription_id,
        image.resource_group,
        image.definition.gallery_name,
        image.definition.name,
        image.name,
        target_regions=[azure.TargetRegion(r.name, r.replicas, r.storage) for r in more],
    )
    assert azure_token
    emulator.advance(60)
    emulator.clear_request_log()
    second = replication_change(image=image, user=reviewer_user, regions=more)
    done = engine.run(operation_id=second.pk)
    assert done.status == "succeeded"
    assert not [e for e in emulator.request_log() if e.method == "PATCH"]


@pytest.mark.parametrize("loss", [{"status": 500}, {"timeout": True}, {"drop": True}])
def test_a_replication_patch_whose_answer_is_lost_is_read_again_not_resent(
    loss, catalog, emulator, reviewer_user
):
    emulator.set_durations(gallery_image_version_update=10)
    image = catalog[VERSION]
    wanted = [*_current(image), WantedRegion("swedencentral", 3, "Standard_LRS")]
    operation = replication_change(image=image, user=reviewer_user, regions=wanted)
    emulator.clear_request_log()
    emulator.queue_fault(method="PATCH", path_contains="/versions/", applied=True, **loss)
    done = engine.run(operation_id=operation.pk)
    if done.status not in ("succeeded", "failed"):
        emulator.advance(11)
        done = engine.run(operation_id=operation.pk)
    patches = [e for e in emulator.request_log() if e.method == "PATCH"]
    assert [e.applied for e in patches] == [True]
    assert done.status == "succeeded", (done.error_code, done.error_summary)
    assert _in_azure(image)["swedencentral"] == (3, "Standard_LRS")


def test_azure_s_rules_are_sentences_before_anything_is_sent(catalog, emulator, reviewer_user):
    image = catalog[VERSION]
    current = _current(image)
    home = current[0]
    with pytest.raises(ActionRefused, match="own region"):
        replication_change(
            image=image,
            user=reviewer_user,
            regions=[WantedRegion("swedencentral", 1, "Standard_LRS")],
        )
    other = "Standard_ZRS" if home.storage != "Standard_ZRS" else "Standard_LRS"
    with pytest.raises(ActionRefused, match="does not change a replicated region's storage"):
        replication_change(
            image=image,
            user=reviewer_user,
            regions=[WantedRegion(home.name, 1, other), *current[1:]],
        )
    with pytest.raises(ActionRefused, match="1 to 100 replicas"):
        replication_change(
            image=image,
            user=reviewer_user,
            regions=[WantedRegion(home.name, 101, home.storage), *current[1:]],
        )
    with pytest.raises(ActionRefused, match="already has"):
        replication_change(image=image, user=reviewer_user, regions=current)


def test_removing_a_region_needs_its_confirmation(catalog, emulator, reviewer_user):
    image = catalog[VERSION]
    added = [*_current(image), WantedRegion("swedencentral", 1, "Standard_LRS")]
    assert (
        engine.run(
            operation_id=replication_change(image=image, user=reviewer_user, regions=added).pk
        ).status
        == "succeeded"
    )
    image.refresh_from_db()
    back = [r for r in _current(image) if r.name.replace(" ", "").lower() != "swedencentral"]
    with pytest.raises(ActionRefused, match="confirm removing"):
        replication_change(image=image, user=reviewer_user, regions=back)
    operation = replication_change(
        image=image, user=reviewer_user, regions=back, allow_removal=True
    )
    assert operation.parameters["allow_removal"] is True
    assert engine.run(operation_id=operation.pk).status == "succeeded"
    assert "swedencentral" not in _in_azure(image)


# --- the page ---------------------------------------------------------------------------------


def _post(client, image, data, htmx=False):
    headers = {**HX, "HX-Target": "image-status"} if htmx else {}
    return client.post(reverse("catalog:image_replication", args=[image.pk]), data, headers=headers)


def _form_data(image, **extra):
    data = {}
    for i, r in enumerate(image.replication):
        data[f"keep_{i}"] = "on"
        data[f"replicas_{i}"] = str(r["replica_count"])
    data.update(extra)
    return data


def test_the_page_offers_the_change_with_its_command(reviewer_client, catalog):
    image = catalog[VERSION]
    html = reviewer_client.get(f"/catalog/images/{image.pk}/").content.decode()
    assert "Change replication…" in html
    assert 'name="add_region_0"' in html and "swedencentral" in html
    assert "Standard_ZRS" in html and "Premium_LRS" in html
    assert "az sig image-version update" in html and "--target-regions" in html
    assert 'data-copy="cmd-replication-az-1"' in html


def test_a_change_by_htmx_shows_its_progress(reviewer_client, catalog, emulator):
    image = catalog[VERSION]
    response = _post(
        reviewer_client,
        image,
        _form_data(
            image, add_region_0="swedencentral", add_replicas_0="2", add_storage_0="Standard_ZRS"
        ),
        htmx=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="image-status"' in html and "Replication change" in html
    assert 'hx-trigger="every' in html  # the panel polls until Azure has done it


def test_a_change_without_htmx_redirects_with_a_message(reviewer_client, catalog):
    image = catalog[VERSION]
    response = _post(reviewer_client, image, _form_data(image, add_region_0="swedencentral"))
    assert response.status_code == 302
    assert response.url == f"/catalog/images/{image.pk}/"


def test_an_unchanged_replication_is_409_with_a_sentence(reviewer_client, catalog):
    image = catalog[VERSION]
    response = _post(reviewer_client, image, _form_data(image), htmx=True)
    assert response.status_code == 409
    assert "nothing to change" in response.content.decode()


def test_bad_replicas_are_400(reviewer_client, catalog):
    image = catalog[VERSION]
    response = _post(reviewer_client, image, _form_data(image, replicas_0="0"), htmx=True)
    assert response.status_code == 400


@pytest.mark.parametrize("fixture", ["operator_client", "auditor_client"])
def test_only_catalog_managers_change_replication(request, fixture, catalog):
    client = request.getfixturevalue(fixture)
    image = catalog[VERSION]
    assert _post(client, image, _form_data(image, add_region_0="swedencentral")).status_code == 403
    html = client.get(f"/catalog/images/{image.pk}/").content.decode()
    assert "Change replication…" not in html


def test_the_change_needs_the_csrf_token(reviewer_user, catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    image = catalog[VERSION]
    assert _post(client, image, _form_data(image, add_region_0="swedencentral")).status_code == 403


def test_the_change_is_post_only(reviewer_client, catalog):
    image = catalog[VERSION]
    response = reviewer_client.get(reverse("catalog:image_replication", args=[image.pk]))
    assert response.status_code == 405
