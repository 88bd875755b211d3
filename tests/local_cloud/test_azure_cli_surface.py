"""What the Azure CLI reads beyond the dashboard's own calls, checked with plain HTTP (the CLI
itself runs in ``test_azure_cli.py``): the 2022-09-01 cloud metadata document of ``az cloud
register``, a resource group (``az image create`` takes its location), and the request log
naming who each accepted token belongs to."""

from __future__ import annotations

from contoso_images.arm_emulator.identity import seed as people

from .conftest import app_token


def test_cloud_metadata_2022_09_01_is_one_cloud_with_suffixes(server, https):
    doc = https.get(f"{server.base_url}/metadata/endpoints?api-version=2022-09-01").json()
    # The keys Azure CLI 2.91's _arm_to_cli_mapper reads without a default.
    assert doc["name"]
    assert doc["suffixes"] == {}
    assert doc["resourceManager"] == f"{server.base_url}/"
    auth = doc["authentication"]
    assert auth["loginEndpoint"] == server.base_url
    assert auth["audiences"][0] == "https://management.core.windows.net/"
    assert (auth["tenant"], auth["identityProvider"]) == ("common", "AAD")
    assert doc["graphAudience"] == "https://graph.windows.net/"
    # The older api-version keeps the Azure Stack Hub shape.
    old = https.get(f"{server.base_url}/metadata/endpoints?api-version=2015-01-01").json()
    assert "suffixes" not in old and old["authentication"]["loginEndpoint"].endswith("/")


def test_a_resource_group_as_arm_shows_it(server, https, emu):
    token = app_token(https, server.base_url, "https://management.core.windows.net//.default")
    bearer = {"Authorization": f"Bearer {token}"}
    sub = emu.subscription_ids()[0]
    # The CLI writes "resourcegroups" in lower case; ARM's id keeps "resourceGroups".
    resp = https.get(
        f"{server.base_url}/subscriptions/{sub}/resourcegroups/RG-IMAGES?api-version=2024-11-01",
        headers=bearer,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "id": f"/subscriptions/{sub}/resourceGroups/rg-images",
        "name": "rg-images",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Succeeded"},
    }
    missing = https.get(
        f"{server.base_url}/subscriptions/{sub}/resourcegroups/rg-nope?api-version=2024-11-01",
        headers=bearer,
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ResourceGroupNotFound"
    old = https.get(
        f"{server.base_url}/subscriptions/{sub}/resourcegroups/rg-images?api-version=2015-01-01",
        headers=bearer,
    )
    assert old.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_the_request_log_names_the_caller_of_each_accepted_token(server, https, emu):
    emu.clear_request_log()
    token = app_token(https, server.base_url, "https://management.azure.com/.default")
    assert https.get(f"{server.base_url}/subscriptions?api-version=2022-12-01").status_code == 401
    ok = https.get(
        f"{server.base_url}/subscriptions?api-version=2022-12-01",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ok.status_code == 200
    refused, accepted = emu.request_log()
    assert (refused.status, refused.caller) == (401, "")
    assert (accepted.status, accepted.caller) == (200, people.GATEWAY_CLIENT_ID)
