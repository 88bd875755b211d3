"""core.bulk.insert_rows stores exactly what bulk_create stores (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contoso_images.core.bulk import insert_rows
from contoso_images.core.models import Subscription
from vmops.models import VirtualMachine

pytestmark = pytest.mark.django_db

COMPARED = [f.attname for f in VirtualMachine._meta.concrete_fields if not f.primary_key]


def _fields(subscription: Subscription, name: str, **extra) -> dict:
    return {
        "subscription_id": subscription.pk,
        "resource_group": "rg-web",
        "name": name,
        "azure_id": f"/subscriptions/x/resourcegroups/rg-web/providers/m/virtualmachines/{name}",
        "location": "westeurope",
        "size": "Standard_B2s",
        "os_type": "Linux",
        "image_reference": {"publisher": "Canonical", "offer": "ubuntu", "sku": "22_04-lts"},
        "image_label": "Canonical ubuntu 22_04-lts",
        "hyper_v_generation": "V2",
        "power_state": "running",
        "provisioning_state": "Succeeded",
        "generalized": False,
        "tags": {"env": "prod", "owner": 'é ü "quoted"'},
        "reported_at": datetime(2026, 12, 6, 21, 47, 7, 123456, tzinfo=UTC),
        "state_changed_at": None,
        "settled_power_state": "running",
        "settled_at": None,
        "created_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        **extra,
    }


def _stored(name: str) -> dict:
    return VirtualMachine.objects.filter(name=name).values(*COMPARED).get()


def test_rows_read_back_as_bulk_create_stores_them():
    subscription = Subscription.objects.create(subscription_id="s-1", display_name="One")
    for suffix, extra in (
        ("plain", {}),
        ("empty", {"image_reference": {}, "tags": {}, "size": "", "created_at": None}),
        ("gone", {"gone_at": datetime(2026, 1, 1, tzinfo=UTC), "generalized": True}),
    ):
        VirtualMachine.objects.bulk_create(
            [VirtualMachine(**_fields(subscription, f"orm-{suffix}", **extra))]
        )
        assert insert_rows(VirtualMachine, [_fields(subscription, f"fast-{suffix}", **extra)]) == 1
        orm, fast = _stored(f"orm-{suffix}"), _stored(f"fast-{suffix}")
        for row in (orm, fast):
            row.pop("name")
            row.pop("azure_id")
        assert fast == orm


def test_left_out_fields_get_their_defaults():
    subscription = Subscription.objects.create(subscription_id="s-3")
    fields = _fields(subscription, "defaults")
    for name in ("image_reference", "tags", "gone_at", "generalized", "settled_at"):
        fields.pop(name, None)
    insert_rows(VirtualMachine, [fields])
    vm = VirtualMachine.objects.get(name="defaults")
    assert (vm.image_reference, vm.tags, vm.gone_at, vm.generalized) == ({}, {}, None, False)


def test_batches_and_nothing_to_insert():
    subscription = Subscription.objects.create(subscription_id="s-2")
    assert insert_rows(VirtualMachine, []) == 0
    vms = [_fields(subscription, f"vm-{i:03d}") for i in range(7)]
    assert insert_rows(VirtualMachine, vms, batch_size=3) == 7
    assert VirtualMachine.objects.filter(subscription=subscription).count() == 7


def test_a_model_with_auto_now_fields_is_refused():
    from axes.models import AccessAttempt  # attempt_time is auto_now_add

    with pytest.raises(ValueError, match="auto_now"):
        insert_rows(AccessAttempt, [{"username": "x"}])
    assert not AccessAttempt.objects.exists()
