"""MSAL itself against the emulated Entra ID: its authority handling (``canonicalize()``,
tenant discovery with instance discovery off) accepts the discovery document, and it gets
tokens by client credentials and by the authorization code flow (it checks state, nonce and
the ID token on its own)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import msal
import pytest
import requests

from contoso_images.arm_emulator.identity import seed as people
from contoso_images.arm_emulator.versions import COMPUTE

from .conftest import REDIRECT, TENANT


@pytest.fixture
def msal_http(server) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.tls.ca_cert)
    return session


def _app(
    server, http: requests.Session, client_id: str, secret: str
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=f"{server.base_url}/{TENANT}",
        instance_discovery=False,
        http_client=http,
    )


def test_msal_client_credentials(server, msal_http, emu):
    app = _app(server, msal_http, people.GATEWAY_CLIENT_ID, people.GATEWAY_CLIENT_SECRET)
    result = app.acquire_token_for_client(scopes=["https://management.azure.com/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer" and result["expires_in"] > 0
    sub = emu.subscription_ids()[0]
    resp = msal_http.get(
        f"{server.base_url}/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines",
        params={"api-version": COMPUTE[0]},
        headers={"Authorization": f"Bearer {result['access_token']}"},
    )
    assert resp.status_code == 200
    # MSAL caches it: a second call is answered from its cache.
    again = app.acquire_token_for_client(scopes=["https://management.azure.com/.default"])
    assert again["access_token"] == result["access_token"]
    assert len([e for e in emu.identity.log() if e.endpoint == "token"]) == 1


def test_msal_reports_entra_errors(server, msal_http):
    app = _app(server, msal_http, people.GATEWAY_CLIENT_ID, "wrong")
    result = app.acquire_token_for_client(scopes=["https://management.azure.com/.default"])
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]


# MSAL nudges towards form_post; the dashboard keeps query (a cross-site form_post callback
# carries no SameSite=Lax session cookie: STACK.md §5).
@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_msal_authorization_code_flow(server, msal_http):
    app = _app(server, msal_http, people.DASHBOARD_CLIENT_ID, people.DASHBOARD_CLIENT_SECRET)
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT)
    assert flow["auth_uri"].startswith(f"{server.base_url}/{TENANT}/oauth2/v2.0/authorize?")
    page = msal_http.get(flow["auth_uri"])
    assert "Rui Reviewer" in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(flow["auth_uri"]).query).items()}
    picked = msal_http.post(
        flow["auth_uri"].split("?")[0], data={**query, "login": people.RUI}, allow_redirects=False
    )
    response = {k: v[0] for k, v in parse_qs(urlsplit(picked.headers["Location"]).query).items()}
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "id_token_claims" in result, result
    claims = result["id_token_claims"]
    assert claims["oid"] == people.RUI and claims["tid"] == TENANT
    assert claims["roles"] == ["reviewers"]
    assert result["refresh_token"]
