"""Catalog sync: one listing per gallery level; new, changed and vanished images; "latest"."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command

from catalog.choices import ImageKind, ReviewStatus
from catalog.models import CatalogImage, ImageDefinition, ReviewDecision
from catalog.services import catalog_sync_all, record_captured_image, review_decide
from contoso_images import azure
from contoso_images.core.models import SyncState
from contoso_images.operations.models import Operation

pytestmark = pytest.mark.django_db

GALLERY = ("rg-images", "gal_contoso")


def _kinds(emulator):
    """ARM GETs of the last sync by what they read."""
    counts = Counter()
    for entry in emulator.request_log():
        path = entry.path.split("?")[0].lower()
        if path.endswith("/subscriptions"):
            counts["subscriptions"] += 1
        elif path.endswith("/providers/microsoft.compute/images"):
            counts["managed images"] += 1
        elif path.endswith("/providers/microsoft.compute/galleries"):
            counts["galleries"] += 1
        elif path.endswith("/images"):
            counts["definitions"] += 1
        elif path.endswith("/versions"):
            counts["versions"] += 1
        elif "/versions/" in path and "expand=replicationstatus" in entry.path.lower():
            counts["replication"] += 1
        else:
            counts[f"other {entry.method} {path}"] += 1
    return dict(counts)


def _pilot(results):
    """The result of the subscription that holds the gallery."""
    return next(r for r in results if r.galleries or r.error)


def _version(catalog, label):
    return CatalogImage.objects.get(pk=catalog[label].pk)


def _delete(emulator, resource_id):
    api = "2026-03-03" if "/galleries/" in resource_id.lower() else "2026-04-01"
    status, _, body = emulator.handle(
        "DELETE", f"https://management.azure.com{resource_id}?api-version={api}", {}, None
    )
    assert status in (200, 202, 204), body


#: A seeded managed image each definition accepts as a source (same OS and generation).
SOURCES = {
    "win2022-base": "img-win2022-base-20241001",
    "ubuntu2204-base": "img-ubuntu2204-20240915",
    "legacy-app": "img-legacy-app-2016",
}


def _new_version(emulator, definition, version, *, excluded=False):
    sub = emulator.subscription_ids()[0]
    image = next(i for i in azure.managed_images(sub) if i.name == SOURCES[definition])
    token = azure.gallery_image_version_begin_create(
        sub,
        GALLERY[0],
        GALLERY[1],
        definition,
        version,
        location="westeurope",
        source_id=image.id,
        target_regions=[azure.TargetRegion("westeurope")],
        exclude_from_latest=excluded,
    )
    status = azure.operation_status(
        "gallery_image_version_create", token, subscription_id=sub, wait_seconds=5
    )
    assert status.state == "succeeded"


def _exclude(emulator, definition, version, excluded=True):
    sub = emulator.subscription_ids()[0]
    token = azure.gallery_image_version_begin_update(
        sub, *GALLERY, definition, version, exclude_from_latest=excluded
    )
    status = azure.operation_status(
        "gallery_image_version_update", token, subscription_id=sub, wait_seconds=5
    )
    assert status.state == "succeeded"


# --- one listing per level ------------------------------------------------------------------


def test_first_sync_reads_each_level_once_and_replication_of_new_versions(emulator, db):
    subscriptions = len(emulator.subscription_ids())  # the pilot has two; one has the gallery
    emulator.clear_request_log()
    results = catalog_sync_all()
    assert _kinds(emulator) == {
        "subscriptions": 1,
        "managed images": subscriptions,
        "galleries": subscriptions,
        "definitions": 1,
        "versions": 3,  # one per definition
        "replication": 5,  # each new version once
    }
    assert [r.error for r in results] == [""] * subscriptions
    assert sum(r.replication_reads for r in results) == 5


def test_a_settled_catalog_costs_one_listing_per_level_and_no_per_image_call(catalog, emulator):
    subscriptions = len(emulator.subscription_ids())
    emulator.clear_request_log()
    catalog_sync_all()
    assert _kinds(emulator) == {
        "subscriptions": 1,
        "managed images": subscriptions,
        "galleries": subscriptions,
        "definitions": 1,
        "versions": 3,
    }


def test_sync_records_every_field_the_catalog_shows(catalog):
    version = _version(catalog, "win2022-base 1.0.0")
    assert version.kind == ImageKind.GALLERY_VERSION
    assert (version.os_type, version.os_state, version.hyper_v_generation) == (
        "Windows",
        "Generalized",
        "V2",
    )
    assert version.architecture == "x64"
    assert version.provisioning_state == "Succeeded"
    assert version.created_in_azure_at is not None
    assert version.source_id.lower().endswith("/images/img-win2022-base-20241001")
    assert version.replication_state == "Completed"
    assert [r["region"] for r in version.replication] == ["West Europe", "North Europe", "East US"]
    assert {r["state"] for r in version.replication} == {"Completed"}
    assert {r["progress"] for r in version.replication} == {100}
    assert {r["replica_count"] for r in version.replication} == {1}
    assert {r["storage_account_type"] for r in version.replication} == {"Standard_LRS"}
    assert version.exclude_from_latest is False and version.end_of_life_date is None
    assert version.review_status == ReviewStatus.NOT_REVIEWED
    assert version.definition.gallery_name == "gal_contoso"
    assert (version.definition.publisher, version.definition.offer) == ("contoso", "windows-server")
    managed = _version(catalog, "img-win2022-base-20241001")
    assert managed.kind == ImageKind.MANAGED_IMAGE
    assert managed.source_id.lower().endswith("/virtualmachines/img-win2022-base")
    assert (managed.os_type, managed.os_state, managed.hyper_v_generation) == (
        "Windows",
        "Generalized",
        "V2",
    )
    assert CatalogImage.objects.filter(kind=ImageKind.MANAGED_IMAGE).count() == 3
    assert CatalogImage.objects.filter(kind=ImageKind.GALLERY_VERSION).count() == 5
    assert ImageDefinition.objects.count() == 3


def test_latest_is_the_highest_version_not_excluded(catalog):
    assert _version(catalog, "win2022-base 1.1.0").is_latest
    assert not _version(catalog, "win2022-base 1.0.0").is_latest
    assert _version(catalog, "ubuntu2204-base 1.0.0").is_latest
    assert not _version(catalog, "img-legacy-app-2016").is_latest


# --- new, changed, vanished ----------------------------------------------------------------


def test_a_new_version_arrives_not_reviewed_and_latest_moves_to_it(catalog, emulator):
    _new_version(emulator, "win2022-base", "1.2.0")
    catalog_sync_all()
    new = CatalogImage.objects.get(resource_key__endswith="/win2022-base/versions/1.2.0")
    assert new.review_status == ReviewStatus.NOT_REVIEWED
    assert new.is_latest
    assert not _version(catalog, "win2022-base 1.1.0").is_latest


def test_a_new_version_excluded_from_latest_leaves_latest_where_it_was(catalog, emulator):
    _new_version(emulator, "win2022-base", "2.0.0", excluded=True)
    catalog_sync_all()
    new = CatalogImage.objects.get(resource_key__endswith="/win2022-base/versions/2.0.0")
    assert new.exclude_from_latest and not new.is_latest
    assert _version(catalog, "win2022-base 1.1.0").is_latest


def test_excluding_the_latest_in_azure_moves_latest_back(catalog, emulator):
    _exclude(emulator, "win2022-base", "1.1.0")
    result = _pilot(catalog_sync_all())
    assert result.updated >= 1
    excluded = _version(catalog, "win2022-base 1.1.0")
    assert excluded.exclude_from_latest and not excluded.is_latest
    assert _version(catalog, "win2022-base 1.0.0").is_latest


def test_when_every_version_is_excluded_none_is_latest(catalog, emulator):
    _exclude(emulator, "ubuntu2204-base", "1.0.0")
    catalog_sync_all()
    assert not _version(catalog, "ubuntu2204-base 1.0.0").is_latest


def test_a_vanished_image_is_marked_gone_and_keeps_its_history(catalog, emulator, reviewer_user):
    version = _version(catalog, "legacy-app 1.0.0")
    managed = _version(catalog, "img-ubuntu2204-20240915")
    review_decide(image=managed, user=reviewer_user, decision="comment", note="Old build.")
    _delete(emulator, version.resource_id)
    _delete(emulator, managed.resource_id)
    result = _pilot(catalog_sync_all())
    assert result.gone == 2
    version.refresh_from_db()
    managed.refresh_from_db()
    assert version.gone_at and managed.gone_at
    assert not version.is_latest
    assert ReviewDecision.objects.filter(image=managed).count() == 1
    assert CatalogImage.objects.filter(pk=managed.pk).exists()


def test_a_deleted_definition_and_its_versions_are_gone(catalog, emulator):
    version = _version(catalog, "legacy-app 1.0.0")
    _delete(emulator, version.resource_id)
    _delete(emulator, version.definition.resource_id)
    catalog_sync_all()
    version.refresh_from_db()
    assert version.gone_at is not None
    assert ImageDefinition.objects.get(pk=version.definition_id).gone_at is not None


def test_a_failed_listing_changes_nothing_and_is_recorded(catalog, emulator):
    emulator.queue_fault(method="GET", path_contains="/images/legacy-app/versions", status=500)
    emulator.queue_fault(method="GET", path_contains="/images/legacy-app/versions", status=500)
    emulator.queue_fault(method="GET", path_contains="/images/legacy-app/versions", status=500)
    emulator.queue_fault(method="GET", path_contains="/images/legacy-app/versions", status=500)
    result = _pilot(catalog_sync_all())
    assert result.error
    assert not CatalogImage.objects.filter(gone_at__isnull=False).exists()
    state = SyncState.objects.get(kind="catalog", error__gt="")
    assert state.error == result.error


def test_throttling_is_recorded_and_the_next_sync_waits(catalog, emulator):
    pilot = catalog["win2022-base 1.0.0"].subscription.subscription_id
    emulator.queue_fault(
        method="GET",
        path_contains=f"{pilot}/providers/Microsoft.Compute/galleries",
        status=429,
        retry_after=120,
    )
    result = _pilot(catalog_sync_all())
    assert result.throttled_until is not None
    emulator.clear_faults()
    emulator.clear_request_log()
    again = _pilot(catalog_sync_all())
    assert again.error.startswith("skipped")
    assert _kinds(emulator)["galleries"] == 1  # only the other subscription's


def test_sync_catalog_command(emulator, db):
    from io import StringIO

    out = StringIO()
    call_command("sync_catalog", stdout=out)
    assert "3 managed images, 1 galleries, 3 definitions, 5 versions listed" in out.getvalue()


# --- after a capture -----------------------------------------------------------------------


def test_a_captured_version_is_in_the_catalog_at_once_with_its_provenance(
    catalog, emulator, operator_user
):
    from tests.factories import OperationFactory

    _new_version(emulator, "ubuntu2204-base", "1.1.0", excluded=True)
    operation = OperationFactory(kind="vm.deallocate", requested_by=operator_user)
    version_id = (
        f"/subscriptions/{emulator.subscription_ids()[0]}/resourceGroups/rg-images/providers/"
        "Microsoft.Compute/galleries/gal_contoso/images/ubuntu2204-base/versions/1.1.0"
    )
    emulator.clear_request_log()
    image = record_captured_image(
        version_id, operation_id=operation.pk, source_vm_id=operation.target_id
    )
    assert len(emulator.request_log()) == 2  # the definition and the version
    assert image.kind == ImageKind.GALLERY_VERSION
    assert image.capture_operation == Operation.objects.get(pk=operation.pk)
    assert image.source_vm_id == operation.target_id  # as Azure spelled it
    assert image.review_status == ReviewStatus.NOT_REVIEWED
    assert image.exclude_from_latest and not image.is_latest
    assert image.replication_state == "Completed"
    # The next sync keeps the provenance and the entry.
    catalog_sync_all()
    image.refresh_from_db()
    assert image.capture_operation_id == operation.pk


def test_a_captured_managed_image(catalog, emulator):
    image_id = catalog["img-legacy-app-2016"].resource_id
    image = record_captured_image(image_id, operation_id=None, source_vm_id="/x/vm")
    assert image.pk == catalog["img-legacy-app-2016"].pk
    assert image.source_vm_id == "/x/vm"


def test_record_captured_image_refuses_other_ids(db, emulator):
    with pytest.raises(ValueError, match="not a managed image"):
        record_captured_image(
            f"/subscriptions/{emulator.subscription_ids()[0]}/resourceGroups/rg/providers/"
            "Microsoft.Compute/virtualMachines/vm1",
            operation_id=None,
            source_vm_id="",
        )
