"""Resource ids, labels, settings → endpoints, and the client factory (no network)."""

from __future__ import annotations

import pytest

from contoso_images.azure import (
    ImageReference,
    clear_client_cache,
    compute_client,
    parse_resource_id,
    subscription_client,
)
from contoso_images.azure.config import current

SUB = "00000000-0000-0000-0000-000000000001"


def test_parse_resource_id_vm():
    vm = (
        f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute"
        "/virtualMachines/web01"
    )
    assert parse_resource_id(vm) == (SUB, "rg-web", "Microsoft.Compute/virtualMachines", "web01")


def test_parse_resource_id_nested_and_odd_case():
    version = (
        f"/Subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal"
        "/images/web/versions/1.0.0"
    )
    assert parse_resource_id(version) == (
        SUB,
        "rg",
        "Microsoft.Compute/galleries/images/versions",
        "1.0.0",
    )
    assert parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/rg") == (SUB, "rg", "", "rg")


def test_image_reference_labels():
    urn = ImageReference(
        publisher="Canonical", offer="ubuntu-24_04-lts", sku="server", version="latest"
    )
    assert urn.label == "Canonical:ubuntu-24_04-lts:server:latest"
    gallery = ImageReference(
        id=f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal"
        "/images/web/versions/1.2.0"
    )
    assert gallery.label == "gal/web/1.2.0"
    image = ImageReference(
        id=f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/images/golden"
    )
    assert image.label == "golden"


@pytest.mark.parametrize(
    ("cloud", "endpoint", "authority"),
    [
        ("public", "https://management.azure.com", "https://login.microsoftonline.com"),
        (
            "usgovernment",
            "https://management.usgovcloudapi.net",
            "https://login.microsoftonline.us",
        ),
        ("china", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
    ],
)
def test_cloud_endpoints(settings, cloud, endpoint, authority):
    settings.AZURE_CLOUD = cloud
    settings.AZURE_RESOURCE_MANAGER_ENDPOINT = ""
    settings.AZURE_CREDENTIAL_SCOPE = ""
    config = current()
    assert config.resource_manager == endpoint
    assert config.credential_scope == f"{endpoint}/.default"
    assert config.authority == authority


def test_custom_cloud_needs_an_endpoint(settings):
    settings.AZURE_CLOUD = "custom"
    settings.AZURE_RESOURCE_MANAGER_ENDPOINT = ""
    with pytest.raises(ValueError, match="AZURE_RESOURCE_MANAGER_ENDPOINT"):
        current()
    settings.AZURE_RESOURCE_MANAGER_ENDPOINT = "https://management.local.azurestack.external/"
    settings.AZURE_CREDENTIAL_SCOPE = "https://management.adfs.azurestack.local/abc"
    config = current()
    assert config.resource_manager == "https://management.local.azurestack.external"
    assert config.credential_scope == "https://management.adfs.azurestack.local/abc"


def test_azure_mode_clients_use_cloud_endpoint_and_scope(settings):
    settings.AZURE_MODE = "azure"
    settings.AZURE_CLOUD = "usgovernment"
    settings.AZURE_RESOURCE_MANAGER_ENDPOINT = ""
    settings.AZURE_CREDENTIAL_SCOPE = ""
    clear_client_cache()
    try:
        client = compute_client(SUB)
        assert client is compute_client(SUB)  # cached
        assert client._config.base_url == "https://management.usgovcloudapi.net"
        assert client._config.credential_scopes == ["https://management.usgovcloudapi.net/.default"]
        assert type(client._config.credential).__name__ == "DefaultAzureCredential"
        assert client._config.retry_policy.total_retries == 3
        subs = subscription_client()
        assert subs._config.base_url == "https://management.usgovcloudapi.net"
    finally:
        clear_client_cache()


def test_unknown_mode_is_refused(settings):
    settings.AZURE_MODE = "moon"
    with pytest.raises(ValueError, match="AZURE_MODE"):
        current()
