"""Resource Manager over HTTPS refuses what real ARM refuses, with ARM's 401 bodies and
challenge; sources in docs/emulator-fidelity.md ("Bearer tokens")."""

from __future__ import annotations

import pytest

from contoso_images.arm_emulator.identity import seed as people
from contoso_images.arm_emulator.versions import COMPUTE

from .conftest import TENANT, app_token

API = "api-version=2022-12-01"


def _vms_url(base: str, sub: str) -> str:
    version = f"api-version={COMPUTE[0]}"
    return f"{base}/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines?{version}"


def _refusal(resp) -> tuple[str, str]:
    assert resp.status_code == 401, resp.text
    error = resp.json()["error"]
    return error["code"], error["message"]


def test_a_valid_token_is_accepted(server, https, emu):
    token = app_token(https, server.base_url, "https://management.azure.com/.default")
    resp = https.get(
        _vms_url(server.base_url, emu.subscription_ids()[0]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200
    assert resp.json()["value"]


def test_no_token(server, https, emu):
    sub = emu.subscription_ids()[0]
    resp = https.get(_vms_url(server.base_url, sub))
    assert _refusal(resp) == (
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
    )
    # The challenge names the subscription's tenant, as ARM's does.
    assert resp.headers["WWW-Authenticate"] == (
        f'Bearer authorization_uri="{server.base_url}/{TENANT}", error="invalid_token", '
        "error_description=\"The authentication failed because of missing 'Authorization' "
        'header."'
    )
    assert resp.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert [(e.method, e.status) for e in emu.request_log()] == [("GET", 401)]


def test_not_a_bearer_header(server, https, emu):
    resp = https.get(
        _vms_url(server.base_url, emu.subscription_ids()[0]),
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
    )
    assert _refusal(resp)[0] == "AuthenticationFailedInvalidHeader"


def test_an_expired_token(server, https, emu):
    token = emu.identity.issue_access_token(lifetime=-600)
    resp = https.get(
        _vms_url(server.base_url, emu.subscription_ids()[0]),
        headers={"Authorization": f"Bearer {token}"},
    )
    code, message = _refusal(resp)
    assert code == "ExpiredAuthenticationToken"
    assert message.startswith("The access token expiry UTC time '")
    assert "is earlier than current UTC time" in message
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize("forgery", ["other_key", "garbage", "unknown_kid"])
def test_a_token_not_signed_by_the_tenant(server, https, emu, forgery):
    if forgery == "other_key":
        token = emu.identity.forge_access_token()
    elif forgery == "garbage":
        token = "not.a.jwt"
    else:
        good = emu.identity.issue_access_token()
        head, payload, signature = good.split(".")
        token = ".".join(["eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vLXN1Y2gta2V5In0", payload, signature])
    resp = https.get(
        _vms_url(server.base_url, emu.subscription_ids()[0]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert _refusal(resp) == ("InvalidAuthenticationToken", "The access token is invalid.")


def test_a_token_for_another_audience(server, https, emu):
    """A token the emulated Entra ID really issued, but for Microsoft Graph."""
    token = app_token(https, server.base_url, "https://graph.microsoft.com/.default")
    resp = https.get(
        _vms_url(server.base_url, emu.subscription_ids()[0]),
        headers={"Authorization": f"Bearer {token}"},
    )
    code, message = _refusal(resp)
    assert code == "InvalidAuthenticationTokenAudience"
    assert message.startswith(
        "The access token has been obtained for wrong audience or resource "
        "'https://graph.microsoft.com'. It should exactly match with one of the allowed "
        "audiences 'https://management.core.windows.net/','https://management.core.windows.net',"
        "'https://management.azure.com/','https://management.azure.com'"
    )


def test_a_token_from_another_tenant(server, https, emu):
    token = emu.identity.issue_access_token(tenant=people.FABRIKAM_TENANT_ID)
    resp = https.get(
        _vms_url(server.base_url, emu.subscription_ids()[0]),
        headers={"Authorization": f"Bearer {token}"},
    )
    code, message = _refusal(resp)
    assert code == "InvalidAuthenticationTokenTenant"
    assert f"https://sts.windows.net/{people.FABRIKAM_TENANT_ID}/" in message


def test_a_token_signed_by_the_previous_key_stays_valid_until_it_is_dropped(server, https, emu):
    token = emu.identity.issue_access_token()
    url = _vms_url(server.base_url, emu.subscription_ids()[0])
    auth = {"Authorization": f"Bearer {token}"}
    emu.identity.rotate_keys()
    assert https.get(url, headers=auth).status_code == 200
    emu.identity.rotate_keys()  # the key that signed it is now two rotations old
    assert _refusal(https.get(url, headers=auth))[0] == "InvalidAuthenticationToken"


def test_the_in_process_transport_needs_no_token_unless_asked(emu):
    """Unit tests keep the socket-free path; a flag in the state file turns the check on."""
    url = f"https://management.azure.com/subscriptions?{API}"
    assert emu.handle("GET", url, {"Authorization": "Bearer emulator-token"}, None)[0] == 200
    emu.identity.require_tokens()
    status, headers, _body = emu.handle(
        "GET", url, {"Authorization": "Bearer emulator-token"}, None
    )
    assert status == 401
    # In process the challenge names Entra's public authority, as ARM's does.
    assert headers["WWW-Authenticate"].startswith(
        'Bearer authorization_uri="https://login.windows.net/'
    )
    token = emu.identity.issue_access_token()
    assert emu.handle("GET", url, {"Authorization": f"Bearer {token}"}, None)[0] == 200
