"""Fields and checks that exist only from some api-version on are answered only from that
version: an older client gets the older shape and the older rules (docs/emulator-fidelity.md,
"api-version boundaries")."""

from __future__ import annotations

import json

import pytest

BASE = "https://management.azure.com"
MARKETPLACE = (
    "/providers/Microsoft.Compute/locations/westeurope/publishers/Canonical/artifacttypes/"
    "vmimage/offers/0001-com-ubuntu-server-jammy/skus/22_04-lts-gen2"
)
VERSION = (
    "/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/gal_contoso/images/"
    "win2022-base/versions/1.0.0"
)


def _get(emu, sub: str, path: str, api: str):
    status, _, body = emu.handle(
        "GET", f"{BASE}/subscriptions/{sub}{path}?api-version={api}", {}, None
    )
    assert status == 200, body
    return json.loads(body)


def _latest_version_props(emu, sub: str, api: str) -> dict:
    listing = _get(emu, sub, f"{MARKETPLACE}/versions", api)
    name = listing[-1]["name"]
    return _get(emu, sub, f"{MARKETPLACE}/versions/{name}", api)["properties"]


@pytest.mark.parametrize(
    ("api", "architecture", "deprecation"),
    [
        ("2025-04-01", True, True),
        ("2022-11-01", True, True),  # ImageDeprecationStatus first in this spec folder
        ("2022-08-01", True, False),  # ... and not in this one
        ("2021-11-01", True, False),
        ("2021-07-01", False, False),
        ("2019-03-01", False, False),  # recorded without either (azure-sdk-for-net, 2018)
    ],
)
def test_marketplace_version_shape_follows_the_api_version(
    emu, sub, api, architecture, deprecation
):
    props = _latest_version_props(emu, sub, api)
    assert ("architecture" in props) is architecture
    assert ("imageDeprecationStatus" in props) is deprecation
    assert props["automaticOSUpgradeProperties"] == {"automaticOSUpgradeSupported": False}


def test_marketplace_sku_listing_carries_automatic_os_upgrade_properties(emu, sub):
    path = MARKETPLACE.rsplit("/skus/", 1)[0] + "/skus"
    skus = _get(emu, sub, path, "2024-07-01")
    assert skus and all(
        s["properties"] == {"automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False}}
        for s in skus
    )
    assert list(skus[0]) == ["properties", "location", "name", "id"]


def _patch_regions(emu, sub: str, api: str, body: dict):
    url = f"{BASE}/subscriptions/{sub}{VERSION}?api-version={api}"
    return emu.handle("PATCH", url, {}, json.dumps(body).encode())


def test_safety_profile_and_its_refusal_exist_only_from_2022_01_03(emu, sub):
    assert "safetyProfile" in _get(emu, sub, VERSION, "2022-01-03")["properties"]
    assert "safetyProfile" not in _get(emu, sub, VERSION, "2021-10-01")["properties"]
    only_west = {"properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}]}}}
    # With the field, removing a replicated region needs allowDeletionOfReplicatedLocations.
    status, _, body = _patch_regions(emu, sub, "2022-03-03", only_west)
    assert status == 400 and b"allowDeletionOfReplicatedLocations" in body
    # Before it existed, the rule did not either; a safetyProfile sent is not read.
    sent = {
        "properties": {
            **only_west["properties"],
            "safetyProfile": {"allowDeletionOfReplicatedLocations": False},
        }
    }
    status, _, body = _patch_regions(emu, sub, "2021-10-01", sent)
    assert status == 200, body
    regions = [
        t["name"] for t in json.loads(body)["properties"]["publishingProfile"]["targetRegions"]
    ]
    assert regions == ["West Europe"]
    assert "safetyProfile" not in json.loads(body)["properties"]
