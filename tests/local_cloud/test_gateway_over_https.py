"""The gateway's production path against the local cloud: the real management SDK, a real
``ClientSecretCredential`` getting tokens from the emulated Entra ID, TLS verified against the
emulator's CA, every Resource Manager request carrying a token the emulator checked."""

from __future__ import annotations

import base64

import pytest

from contoso_images import azure as gateway
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.azure import AzureError, clear_client_cache, compute_client
from contoso_images.azure.errors import AUTHENTICATION_FAILED


def _running(subscription_id: str) -> gateway.VirtualMachine:
    vms = gateway.vm_list_with_power_state(subscription_id)
    return next(vm for vm in vms if vm.power_state == "running" and not vm.generalized)


def test_the_sdk_lists_and_deallocates_over_https(local_cloud, emu):
    sub = emu.subscription_ids()[0]
    vms = gateway.vm_list_with_power_state(sub)
    assert len(vms) > 5 and {"running", "deallocated"} <= {vm.power_state for vm in vms}

    vm = _running(sub)
    token = gateway.vm_begin_deallocate(sub, vm.resource_group, vm.name)
    status = gateway.operation_status("vm_deallocate", token, subscription_id=sub)
    assert status.state == "succeeded"
    assert gateway.vm_get(sub, vm.resource_group, vm.name).vm.power_state == "deallocated"

    # The continuation token (azure-core's base64 JSON) names this server, never Azure.
    saved = base64.b64decode(token).decode()
    assert f"{local_cloud.base_url}/subscriptions/" in saved
    assert "management.azure.com" not in saved
    # Every ARM request was authorized; one token served them all.
    assert [e for e in emu.request_log() if e.status == 401] == []
    tokens = [e for e in emu.identity.log() if e.endpoint == "token"]
    assert [(e.grant_type, e.client_id, e.outcome) for e in tokens] == [
        ("client_credentials", people.GATEWAY_CLIENT_ID, "ok")
    ]


def test_the_client_is_built_for_the_custom_cloud(local_cloud, emu):
    client = compute_client(emu.subscription_ids()[0])
    config = client._config
    assert config.base_url == local_cloud.base_url
    assert config.credential_scopes == [f"{local_cloud.base_url}/.default"]
    credential = config.credential
    assert type(credential).__name__ == "ClientSecretCredential"
    transport = client._client._pipeline._transport
    assert transport.connection_config.verify == str(local_cloud.tls.ca_cert)
    assert transport.connection_config.timeout == 5
    assert transport.connection_config.read_timeout == 5


def test_public_arm_scope_is_accepted_too(local_cloud, emu, settings):
    """The Azure CLI's and the SDK's default resource works against the local cloud."""
    settings.AZURE_CREDENTIAL_SCOPE = "https://management.azure.com/.default"
    clear_client_cache()
    assert gateway.subscriptions()
    assert [e.status for e in emu.request_log()] == [200]


def test_tokens_are_refreshed_when_they_near_expiry(local_cloud, emu):
    """Tokens that live a minute are never reused by azure-core (it renews 5 minutes before
    expiry) nor by MSAL's cache: each Resource Manager call gets a fresh token, all accepted."""
    emu.identity.set_token_lifetimes(access=60)
    sub = emu.subscription_ids()[0]
    for _ in range(3):
        gateway.vm_list_with_power_state(sub)
    tokens = [e for e in emu.identity.log() if e.endpoint == "token" and e.outcome == "ok"]
    arm = emu.request_log()
    assert len(tokens) == len(arm) == 3
    assert all(e.status == 200 for e in arm)


def test_a_long_lived_token_is_reused(local_cloud, emu):
    sub = emu.subscription_ids()[0]
    for _ in range(3):
        gateway.vm_list_with_power_state(sub)
    assert len([e for e in emu.identity.log() if e.endpoint == "token"]) == 1


def test_a_wrong_client_secret_is_an_authentication_error(local_cloud, emu, settings):
    settings.AZURE_CLIENT_SECRET = "not-the-secret"
    clear_client_cache()
    with pytest.raises(AzureError) as caught:
        gateway.vm_list_with_power_state(emu.subscription_ids()[0])
    assert caught.value.code == AUTHENTICATION_FAILED
    assert "AADSTS7000215" in caught.value.message
    assert emu.request_log() == []  # nothing reached Resource Manager
    assert [e.outcome for e in emu.identity.log()] == ["AADSTS7000215"]


def test_a_token_the_emulator_refuses_is_a_401_azure_error(local_cloud, emu):
    """A removed signing key makes the cached token unverifiable: ARM's 401 reaches the
    caller as an authentication error with ARM's request id, never as a crash."""
    sub = emu.subscription_ids()[0]
    gateway.vm_list_with_power_state(sub)
    emu.identity.rotate_keys(keep_previous=False)
    with pytest.raises(AzureError) as caught:
        gateway.vm_list_with_power_state(sub)
    err = caught.value
    assert err.status_code == 401 and err.code == "InvalidAuthenticationToken"
    assert err.request_id
    assert err.sentence.startswith("Could not sign in to Azure")
