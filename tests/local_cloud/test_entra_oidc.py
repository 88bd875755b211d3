"""The emulated Entra ID's OpenID Connect flow with plain ``requests``: discovery, the account
picker, the authorization code with PKCE, tokens checked against the JWKS, refresh, sign-out,
and every refusal in Entra's error shape (docs/emulator-fidelity.md, "Entra ID")."""

from __future__ import annotations

import re

import jwt
import pytest

from contoso_images.arm_emulator.identity import seed as people

from .conftest import (
    REDIRECT,
    TENANT,
    authorize_params,
    pkce,
    redeem,
    redirect_query,
    sign_in,
)

ERROR_FIELDS = {
    "error",
    "error_description",
    "error_codes",
    "timestamp",
    "trace_id",
    "correlation_id",
}


def _discovery(https, base: str, tenant: str = TENANT) -> dict:
    resp = https.get(f"{base}/{tenant}/v2.0/.well-known/openid-configuration")
    assert resp.status_code == 200
    return resp.json()


def _verified(https, base: str, token: str, audience: str) -> dict:
    """Validate an ID token as an app must (signature from jwks_uri, iss, aud, exp)."""
    doc = _discovery(https, base)
    jwks = https.get(doc["jwks_uri"]).json()
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in jwks["keys"] if k["kid"] == kid]
    public = jwt.PyJWK(key).key
    return jwt.decode(token, public, algorithms=["RS256"], audience=audience, issuer=doc["issuer"])


def _sign_in_and_redeem(https, base: str, oid: str, **extra: str) -> tuple[dict, dict]:
    verifier, challenge = pkce()
    params = authorize_params(challenge, **extra)
    query = redirect_query(sign_in(https, base, oid, params))
    assert query["state"] == params["state"]
    resp = redeem(https, base, query["code"], verifier)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    claims = _verified(https, base, body["id_token"], people.DASHBOARD_CLIENT_ID)
    assert claims["nonce"] == params["nonce"]
    return body, claims


def _entra_error(resp, status: int, error: str, code: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= ERROR_FIELDS
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert re.search(
        r"Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: ",
        body["error_description"],
    )
    return str(body["error_description"])


def test_discovery_document_is_https_on_this_port(server, https):
    base = server.base_url
    doc = _discovery(https, base)
    assert doc["issuer"] == f"{base}/{TENANT}/v2.0"
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"):
        assert doc[key].startswith(f"{base}/{TENANT}/")
    assert doc["token_endpoint"] == f"{base}/{TENANT}/oauth2/v2.0/token"
    assert doc["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    # By domain, the endpoints name the tenant GUID; unknown tenants are refused.
    by_domain = _discovery(https, base, people.CONTOSO_DOMAIN)
    assert by_domain["token_endpoint"] == doc["token_endpoint"]
    multi = _discovery(https, base, "organizations")
    assert multi["issuer"] == f"{base}/{{tenantid}}/v2.0"
    resp = https.get(f"{base}/nowhere.example/v2.0/.well-known/openid-configuration")
    _entra_error(resp, 400, "invalid_tenant", 90002)


def test_the_sign_in_page_lists_people_and_their_roles(server, https):
    _verifier, challenge = pkce()
    resp = https.get(
        f"{server.base_url}/{TENANT}/oauth2/v2.0/authorize", params=authorize_params(challenge)
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    page = resp.text
    for name, role in (
        ("Olivia Operator", "operators"),
        ("Rui Reviewer", "reviewers"),
        ("Ada Auditor", "auditors"),
        ("Nico Newcomer", "no role"),
        ("Grace Guest", "reviewers"),
    ):
        row = page[page.index(name) :]
        assert role in row[: row.index("</tr>")]
    assert "Felix Fabrikam" in page[page.index("Accounts of other tenants") :]
    assert f"value='{people.OLIVIA}'" in page


def test_code_flow_with_pkce_gives_verified_tokens(server, https):
    body, claims = _sign_in_and_redeem(https, server.base_url, people.OLIVIA)
    assert body["token_type"] == "Bearer" and body["refresh_token"] and body["access_token"]
    assert claims["tid"] == TENANT and claims["oid"] == people.OLIVIA
    assert claims["ver"] == "2.0" and claims["roles"] == ["operators"]
    assert claims["preferred_username"] == f"olivia@{people.CONTOSO_DOMAIN}"
    assert claims["name"] == "Olivia Operator"
    assert claims["groups"] == [people.GROUP_IT_OPERATIONS]
    assert claims["sub"] != claims["oid"] and len(claims["sub"]) == 43  # pairwise
    assert claims["iat"] <= claims["nbf"] < claims["exp"]
    kid = jwt.get_unverified_header(body["id_token"])["kid"]
    assert kid == server.emulator.identity.signing_keys()[0].kid


def test_people_without_roles_too_many_groups_and_guests(server, https):
    base = server.base_url
    _body, nico = _sign_in_and_redeem(https, base, people.NICO)
    assert "roles" not in nico
    _body, gus = _sign_in_and_redeem(https, base, people.GUS)
    assert "groups" not in gus
    assert gus["_claim_names"] == {"groups": "src1"}
    assert gus["_claim_sources"]["src1"]["endpoint"].endswith(
        f"/users/{people.GUS}/getMemberObjects"
    )
    # Grace signs in with her Fabrikam account; the token is for her guest object here.
    _body, grace = _sign_in_and_redeem(https, base, people.GRACE_HOME)
    assert grace["tid"] == TENANT and grace["oid"] == people.GRACE_GUEST
    assert grace["idp"] == f"https://sts.windows.net/{people.FABRIKAM_TENANT_ID}/"
    assert grace["roles"] == ["reviewers"]
    assert grace["preferred_username"] == f"grace@{people.FABRIKAM_DOMAIN}"


def test_a_person_of_another_tenant_is_refused_by_a_single_tenant_app(server, https):
    _verifier, challenge = pkce()
    resp = sign_in(https, server.base_url, people.FELIX, authorize_params(challenge))
    assert resp.status_code == 400
    assert "AADSTS50020" in resp.text and "Felix" not in resp.headers.get("Location", "")


def test_a_multi_tenant_app_lets_another_tenant_in_with_its_own_tid(server, https):
    identity = server.emulator.identity
    identity.set_sign_in_audience(people.DASHBOARD_CLIENT_ID, "AzureADMultipleOrgs")
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    resp = https.post(
        f"{server.base_url}/organizations/oauth2/v2.0/authorize",
        data={**params, "login": people.FELIX},
        allow_redirects=False,
    )
    code = redirect_query(resp)["code"]
    token = https.post(
        f"{server.base_url}/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "client_id": people.DASHBOARD_CLIENT_ID,
            "client_secret": people.DASHBOARD_CLIENT_SECRET,
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    claims = jwt.decode(token.json()["id_token"], options={"verify_signature": False})
    assert claims["tid"] == people.FABRIKAM_TENANT_ID
    assert claims["iss"] == f"{server.base_url}/{people.FABRIKAM_TENANT_ID}/v2.0"


def test_refresh_notices_role_changes_renames_and_removal(server, https):
    base, identity = server.base_url, server.emulator.identity
    body, claims = _sign_in_and_redeem(https, base, people.MORGAN)
    assert claims["roles"] == ["operators", "reviewers"]

    identity.set_roles(people.MORGAN, ["reviewers"])
    identity.rename_user(
        people.MORGAN, display_name="Morgan Lee", upn=f"morgan.lee@{people.CONTOSO_DOMAIN}"
    )

    def refresh(token: str):
        return https.post(
            f"{base}/{TENANT}/oauth2/v2.0/token",
            data={
                "grant_type": "refresh_token",
                "client_id": people.DASHBOARD_CLIENT_ID,
                "client_secret": people.DASHBOARD_CLIENT_SECRET,
                "refresh_token": token,
                "scope": "openid profile offline_access",
            },
        )

    resp = refresh(body["refresh_token"])
    assert resp.status_code == 200, resp.text
    renewed = _verified(https, base, resp.json()["id_token"], people.DASHBOARD_CLIENT_ID)
    assert renewed["roles"] == ["reviewers"]
    assert renewed["name"] == "Morgan Lee"
    assert renewed["preferred_username"] == f"morgan.lee@{people.CONTOSO_DOMAIN}"
    assert renewed["oid"] == claims["oid"] and renewed["sub"] == claims["sub"]

    identity.remove_user(people.MORGAN)
    _entra_error(refresh(resp.json()["refresh_token"]), 400, "invalid_grant", 50034)


def test_revoked_sessions_refuse_refresh(server, https):
    body, _claims = _sign_in_and_redeem(https, server.base_url, people.RUI)
    assert server.emulator.identity.revoke_sessions(people.RUI) >= 1
    resp = https.post(
        f"{server.base_url}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": people.DASHBOARD_CLIENT_ID,
            "client_secret": people.DASHBOARD_CLIENT_SECRET,
            "refresh_token": body["refresh_token"],
        },
    )
    _entra_error(resp, 400, "invalid_grant", 50173)


# --- refusals ---------------------------------------------------------------------------


def _code(https, base: str, **extra: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    query = redirect_query(sign_in(https, base, people.ADA, authorize_params(challenge, **extra)))
    return query["code"], verifier


def test_a_wrong_code_verifier(server, https):
    code, _verifier = _code(https, server.base_url)
    other, _ = pkce()
    _entra_error(redeem(https, server.base_url, code, other), 400, "invalid_grant", 501481)
    # The code is spent even though the attempt failed.
    _entra_error(redeem(https, server.base_url, code, _verifier), 400, "invalid_grant", 54005)


def test_a_missing_code_verifier(server, https):
    code, _verifier = _code(https, server.base_url)
    _entra_error(redeem(https, server.base_url, code, None), 400, "invalid_grant", 501481)


def test_a_code_is_single_use(server, https):
    code, verifier = _code(https, server.base_url)
    assert redeem(https, server.base_url, code, verifier).status_code == 200
    _entra_error(redeem(https, server.base_url, code, verifier), 400, "invalid_grant", 54005)


def test_a_code_is_short_lived(server, https):
    server.emulator.identity.set_token_lifetimes(code=0)
    code, verifier = _code(https, server.base_url)
    _entra_error(redeem(https, server.base_url, code, verifier), 400, "invalid_grant", 70008)


def test_a_redirect_uri_not_registered_is_shown_not_followed(server, https):
    _verifier, challenge = pkce()
    params = authorize_params(challenge, redirect_uri="https://evil.example/callback")
    resp = sign_in(https, server.base_url, people.ADA, params)
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "AADSTS50011: The redirect URI &#x27;https://evil.example/callback&#x27;" in resp.text


def test_a_different_redirect_uri_at_the_token_endpoint(server, https):
    code, verifier = _code(https, server.base_url)
    resp = redeem(
        https, server.base_url, code, verifier, redirect_uri=people.DASHBOARD_REDIRECT_URIS[1]
    )
    _entra_error(resp, 400, "invalid_grant", 500112)


def test_a_wrong_client_secret(server, https):
    code, verifier = _code(https, server.base_url)
    resp = redeem(https, server.base_url, code, verifier, client_secret="guess")
    text = _entra_error(resp, 401, "invalid_client", 7000215)
    assert people.DASHBOARD_CLIENT_ID in text
    # The client was refused before the code was looked at: it still works.
    assert redeem(https, server.base_url, code, verifier).status_code == 200


def test_unknown_clients_grants_and_scopes(server, https):
    url = f"{server.base_url}/{TENANT}/oauth2/v2.0/token"
    resp = https.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": "nobody",
            "client_secret": "x",
            "scope": "https://management.azure.com/.default",
        },
    )
    _entra_error(resp, 400, "unauthorized_client", 700016)
    creds = {"client_id": people.GATEWAY_CLIENT_ID, "client_secret": people.GATEWAY_CLIENT_SECRET}
    _entra_error(
        https.post(url, data={**creds, "grant_type": "password"}),
        400,
        "unsupported_grant_type",
        70003,
    )
    _entra_error(
        https.post(
            url,
            data={
                **creds,
                "grant_type": "client_credentials",
                "scope": "https://management.azure.com/user_impersonation",
            },
        ),
        400,
        "invalid_scope",
        1002012,
    )
    _entra_error(
        https.post(
            url,
            data={
                **creds,
                "grant_type": "client_credentials",
                "scope": "https://vault.azure.net/.default",
            },
        ),
        400,
        "invalid_resource",
        500011,
    )
    _entra_error(
        https.post(
            url,
            data={
                "client_id": people.GATEWAY_CLIENT_ID,
                "grant_type": "client_credentials",
                "scope": "https://management.azure.com/.default",
            },
        ),
        401,
        "invalid_client",
        7000218,
    )


def test_errors_at_authorize_go_back_to_the_app_with_state(server, https):
    _verifier, challenge = pkce()
    params = authorize_params(challenge, response_type="token")
    query = redirect_query(sign_in(https, server.base_url, people.ADA, params))
    assert query["error"] == "unsupported_response_type" and query["state"] == params["state"]
    assert query["error_description"].startswith("AADSTS700054")
    cancelled = redirect_query(
        sign_in(https, server.base_url, "cancel", authorize_params(challenge))
    )
    assert cancelled["error"] == "access_denied"


def test_form_post_answers_with_a_form(server, https):
    _verifier, challenge = pkce()
    resp = sign_in(
        https, server.base_url, people.ADA, authorize_params(challenge, response_mode="form_post")
    )
    assert resp.status_code == 200
    assert f"action='{REDIRECT}'" in resp.text and "name='code'" in resp.text


# --- keys and sign-out ------------------------------------------------------------------


def test_jwks_rotation(server, https):
    base, identity = server.base_url, server.emulator.identity
    jwks_uri = _discovery(https, base)["jwks_uri"]
    before = [k["kid"] for k in https.get(jwks_uri).json()["keys"]]
    assert len(before) == 2  # the current and the next key
    old_body, _claims = _sign_in_and_redeem(https, base, people.ADA)
    old_kid = jwt.get_unverified_header(old_body["id_token"])["kid"]
    assert old_kid == before[0]

    new_kid = identity.rotate_keys()
    assert new_kid == before[1]  # the published next key signs from now on
    after = [k["kid"] for k in https.get(jwks_uri).json()["keys"]]
    assert after[0] == new_kid and old_kid in after and len(after) == 3
    body, _claims = _sign_in_and_redeem(https, base, people.ADA)
    assert jwt.get_unverified_header(body["id_token"])["kid"] == new_kid
    _verified(https, base, old_body["id_token"], people.DASHBOARD_CLIENT_ID)  # still valid

    identity.rotate_keys(keep_previous=False)
    final = [k["kid"] for k in https.get(jwks_uri).json()["keys"]]
    assert old_kid not in final and new_kid not in final
    with pytest.raises(ValueError):
        _verified(https, base, old_body["id_token"], people.DASHBOARD_CLIENT_ID)


def test_sign_out_returns_only_to_registered_addresses(server, https):
    base = server.base_url
    body, _claims = _sign_in_and_redeem(https, base, people.ADA)
    logout = f"{base}/{TENANT}/oauth2/v2.0/logout"
    target = people.DASHBOARD_LOGOUT_URIS[0]
    resp = https.get(
        logout,
        params={
            "post_logout_redirect_uri": target,
            "state": "s1",
            "id_token_hint": body["id_token"],
        },
        allow_redirects=False,
    )
    assert resp.status_code == 302 and resp.headers["Location"] == f"{target}?state=s1"
    resp = https.get(
        logout,
        params={
            "post_logout_redirect_uri": "https://evil.example/",
            "client_id": people.DASHBOARD_CLIENT_ID,
        },
        allow_redirects=False,
    )
    assert resp.status_code == 200 and "You signed out" in resp.text
    assert "Location" not in resp.headers
