"""Listings read page by page through the client's pipeline, without SDK models.

The requests must be the ones the SDK's own methods send, the retry and error rules the
gateway's, and the parsed results the same as reading the SDK's models.
"""

from __future__ import annotations

import math

import pytest

from contoso_images import azure as gateway
from contoso_images.azure import AzureError
from contoso_images.azure.clients import compute_client
from contoso_images.azure.galleries import definition_from_raw, gallery_from_raw, version_from_raw
from contoso_images.azure.images import image_from_raw
from contoso_images.azure.raw import as_raw
from contoso_images.azure.vms import vm_from_raw

LIST_SUFFIX = "/providers/microsoft.compute/virtualmachines"
GALLERY = ("rg-images", "gal_contoso")


def _listing_paths(emulator):
    return [
        e.path for e in emulator.request_log() if e.path.split("?")[0].lower().endswith(LIST_SUFFIX)
    ]


@pytest.fixture
def no_sdk_models(monkeypatch):
    """Building SDK models from a listing fails the test: the pages must not need them."""

    def refuse(*args, **kwargs):
        raise AssertionError("an SDK model was built from a listing")

    monkeypatch.setattr("azure.mgmt.compute.operations._operations._deserialize", refuse)


def test_vm_pages_follow_next_link_one_page_at_a_time(emulator, subscription_id, no_sdk_models):
    emulator.seed_contoso_pilot(extra_vms=250)
    emulator.clear_request_log()
    pages = gateway.vm_pages_with_power_state(subscription_id)
    first = next(pages)
    assert len(first) == emulator.page_size
    assert len(_listing_paths(emulator)) == 1  # the next page is asked for only when needed
    rest = list(pages)
    total = len(first) + sum(len(page) for page in rest)
    assert len(_listing_paths(emulator)) == math.ceil(total / emulator.page_size)
    assert all(isinstance(vm, gateway.VirtualMachine) for page in rest for vm in page)


def test_the_first_request_is_the_one_the_sdks_list_all_sends(emulator, subscription_id):
    emulator.clear_request_log()
    list(compute_client(subscription_id).virtual_machines.list_all(status_only="true"))
    sdk = _listing_paths(emulator)
    emulator.clear_request_log()
    list(gateway.vm_pages_with_power_state(subscription_id))
    assert _listing_paths(emulator) == sdk
    assert "statusOnly=true" in sdk[0] and "api-version=" in sdk[0]


def test_parsed_vms_are_what_the_sdk_models_held(emulator, subscription_id):
    emulator.seed_contoso_pilot(extra_vms=120)
    sdk = [
        vm_from_raw(as_raw(vm))
        for vm in compute_client(subscription_id).virtual_machines.list_all(status_only="true")
    ]
    assert gateway.vm_list_with_power_state(subscription_id) == sdk


def test_catalog_listings_build_no_sdk_models(emulator, subscription_id, no_sdk_models):
    assert gateway.managed_images(subscription_id)
    assert gateway.galleries(subscription_id)
    assert gateway.gallery_image_definitions(subscription_id, *GALLERY)
    assert gateway.gallery_image_versions(subscription_id, *GALLERY, "win2022-base")


def test_catalog_listings_match_the_sdk(emulator, subscription_id):
    ops = compute_client(subscription_id)
    assert gateway.managed_images(subscription_id) == [
        image_from_raw(as_raw(i)) for i in ops.images.list()
    ]
    assert gateway.galleries(subscription_id) == [
        gallery_from_raw(as_raw(g)) for g in ops.galleries.list()
    ]
    assert gateway.gallery_image_definitions(subscription_id, *GALLERY) == [
        definition_from_raw(as_raw(d)) for d in ops.gallery_images.list_by_gallery(*GALLERY)
    ]
    versions = ops.gallery_image_versions.list_by_gallery_image(*GALLERY, "win2022-base")
    assert gateway.gallery_image_versions(subscription_id, *GALLERY, "win2022-base") == [
        version_from_raw(as_raw(v)) for v in versions
    ]


def test_a_throttled_or_failing_page_is_retried_like_any_read(emulator, subscription_id):
    emulator.seed_contoso_pilot(extra_vms=250)
    expected = len(gateway.vm_list_with_power_state(subscription_id))
    emulator.queue_fault(method="GET", path_contains="skiptoken", status=429, retry_after=1)
    emulator.queue_fault(method="GET", path_contains="skiptoken", status=503, retry_after=1)
    emulator.clear_request_log()
    listed = [vm for page in gateway.vm_pages_with_power_state(subscription_id) for vm in page]
    assert len(listed) == expected
    statuses = [e.status for e in emulator.request_log()]
    assert statuses.count(429) == 1 and statuses.count(503) == 1
    assert len(statuses) == math.ceil(expected / emulator.page_size) + 2


def test_a_page_that_keeps_failing_raises_azure_error_after_the_pages_before_it(
    emulator, subscription_id
):
    emulator.seed_contoso_pilot(extra_vms=250)
    emulator.queue_fault(method="GET", path_contains="skiptoken", status=500, count=4)
    pages = gateway.vm_pages_with_power_state(subscription_id)
    assert len(next(pages)) == emulator.page_size
    with pytest.raises(AzureError) as caught:
        next(pages)
    assert caught.value.status_code == 500 and caught.value.sentence
    assert caught.value.request_id  # ARM's request id kept, as for every gateway error


def test_an_unknown_subscription_is_not_found_with_arms_code(emulator):
    with pytest.raises(AzureError) as caught:
        list(gateway.vm_pages_with_power_state("00000000-0000-0000-0000-000000000000"))
    assert caught.value.is_not_found
    assert caught.value.code == "SubscriptionNotFound"
