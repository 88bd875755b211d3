"""Marketplace (bare arrays), VM sizes (paged) and the subscription endpoints."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.resource.subscriptions import SubscriptionClient

from contoso_images.azure.emulator_transport import EmulatorTransport, StaticCredential


def test_marketplace_walk(client, sub):
    images = client.virtual_machine_images
    publishers = [p.name for p in images.list_publishers("westeurope")]
    assert {"MicrosoftWindowsServer", "MicrosoftSQLServer", "Canonical", "bitnami"} <= set(
        publishers
    )
    offers = [o.name for o in images.list_offers("eastus", "bitnami")]
    assert {"mysql", "mongodb", "cassandra"} <= set(offers)
    skus = [s.name for s in images.list_skus("eastus", "MicrosoftSQLServer", "sql2022-ws2022")]
    assert "standard-gen2" in skus
    versions = images.list(
        "eastus",
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
        top=1,
        orderby="name desc",
    )
    assert [v.name for v in versions] == ["22.04.202410020"]
    assert versions[0].id == (
        f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical"
        "/ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts-gen2"
        "/Versions/22.04.202410020"
    )
    image = images.get("eastus", "bitnami", "mysql", "mysql", "8.0.39")
    assert image.plan.product == "mysql"
    assert image.os_disk_image.operating_system == "Linux"
    assert image.hyper_v_generation == "V1"


def test_marketplace_not_found(client):
    with pytest.raises(ResourceNotFoundError) as exc:
        client.virtual_machine_images.get("eastus", "Canonical", "nope", "x", "1.0.0")
    assert (exc.value.error.code, exc.value.error.message) == (
        "NotFound",
        "Artifact: VMImage was not found.",
    )


def test_sizes_per_location(client):
    sizes = {s.name for s in client.virtual_machine_sizes.list("japaneast")}
    assert {"Standard_B1s", "Standard_D2s_v5", "Standard_E4s_v5", "Standard_F2s_v2"} <= sizes


def test_subscriptions_and_locations(emu):
    client = SubscriptionClient(StaticCredential(), transport=EmulatorTransport(emu))
    subs = list(client.subscriptions.list())
    assert [s.display_name for s in subs] == [
        "Contoso Pilot – Production",
        "Contoso Pilot – Development",
    ]
    assert subs[0].subscription_id == emu.subscription_ids()[0]
    assert subs[0].state == "Enabled"
    locations = {
        loc.name: loc for loc in client.subscriptions.list_locations(subs[0].subscription_id)
    }
    assert locations["westeurope"].display_name == "West Europe"
    assert locations["westus"].metadata.region_type == "Physical"
    assert locations["europe"].metadata.region_type == "Logical"
    assert len(locations) == 86  # the public list; internal-only regions left out
