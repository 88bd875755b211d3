"""The claims of the tokens the emulated Entra ID issues.

ID tokens are v2.0 (id-token-claims-reference, azure-facts §15.3): ``iss`` exactly as the
discovery document's issuer, ``aud`` the client id, ``tid`` + ``oid`` as the immutable key,
``sub`` pairwise (different per app for the same person), ``preferred_username`` / ``name`` /
``email`` only with the ``profile`` / ``email`` scopes, ``nonce`` echoed, ``roles`` for app
roles, ``groups`` or — past 200 groups — the overage claims.

Access tokens for Resource Manager are v1.0, as ARM accepts them: ``aud`` the resource
(``https://management.azure.com/`` or another identifier of ARM), ``iss``
``https://sts.windows.net/{tid}/``, ``appid``, ``oid`` of the service principal (app tokens)
or the user, ``idtyp`` ``app`` for the client-credentials grant (access-tokens reference).

Times come from the real clock, not the emulator's offset clock: the clients that cache these
tokens (MSAL, azure-core) judge expiry by the real clock, and ``Emulator.advance`` must not
make every cached token look expired to Resource Manager while its holder thinks it is fresh.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

from .directory import App, User
from .seed import GROUP_CLAIM_LIMIT

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pairwise_sub(oid: str, client_id: str, tenant: str) -> str:
    """A stable subject per (person, app), 43 characters like Entra's, revealing neither."""
    digest = hashlib.sha256(f"{tenant}:{oid}:{client_id}".lower().encode()).digest()
    return _b64(digest)


def opaque(size: int = 48) -> str:
    return secrets.token_urlsafe(size)


def v2_issuer(base: str, tenant: str) -> str:
    return f"{base}/{tenant}/v2.0"


def v1_issuer(tenant: str) -> str:
    return f"https://sts.windows.net/{tenant}/"


def id_token_claims(
    *,
    base: str,
    user: User,
    app: App,
    scopes: Sequence[str],
    nonce: str | None,
    sid: str,
    now: int,
    lifetime: int,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "aud": app.client_id,
        "iss": v2_issuer(base, user.tenant),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "oid": user.oid,
        "rh": opaque(24),
        "sid": sid,
        "sub": pairwise_sub(user.oid, app.client_id, user.tenant),
        "tid": user.tenant,
        "uti": opaque(16),
        "ver": "2.0",
    }
    if "profile" in scopes:
        claims["name"] = user.display_name
        # A guest's preferred_username is the address they sign in with, not the #EXT# UPN.
        claims["preferred_username"] = user.email if user.is_guest else user.upn
    if "email" in scopes and user.email:
        claims["email"] = user.email
    if nonce:
        claims["nonce"] = nonce
    if user.is_guest and user.home_tenant:
        claims["idp"] = v1_issuer(user.home_tenant)
    roles = user.roles_for(app.client_id)
    if roles:
        claims["roles"] = list(roles)
    if app.group_claims and user.groups:
        if len(user.groups) > GROUP_CLAIM_LIMIT:
            claims["_claim_names"] = {"groups": "src1"}
            claims["_claim_sources"] = {
                "src1": {
                    "endpoint": f"https://graph.microsoft.com/v1.0/users/{user.oid}/getMemberObjects"
                }
            }
        else:
            claims["groups"] = list(user.groups)
    return claims


def app_access_token_claims(
    *, tenant: str, app: App, audience: str, now: int, lifetime: int
) -> dict[str, Any]:
    """A v1.0 access token for the client-credentials grant (the app acts as itself)."""
    return {
        "aud": audience,
        "iss": v1_issuer(tenant),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "aio": opaque(24),
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": "1",
        "idp": v1_issuer(tenant),
        "idtyp": "app",
        "oid": app.sp_oid,
        "rh": opaque(24),
        "sub": app.sp_oid,
        "tid": tenant,
        "uti": opaque(16),
        "ver": "1.0",
    }


def user_access_token_claims(
    *,
    user: User,
    app: App,
    audience: str,
    scopes: Sequence[str],
    now: int,
    lifetime: int,
) -> dict[str, Any]:
    """A v1.0 delegated access token (the app acts for a signed-in user)."""
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": v1_issuer(user.tenant),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "acr": "1",
        "aio": opaque(24),
        "amr": ["pwd"],
        "appid": app.client_id,
        "appidacr": "1",
        "name": user.display_name,
        "oid": user.oid,
        "rh": opaque(24),
        "scp": " ".join(s for s in scopes if s not in OIDC_SCOPES) or "User.Read",
        "sub": pairwise_sub(user.oid, app.client_id, user.tenant),
        "tid": user.tenant,
        "unique_name": user.upn,
        "upn": user.upn,
        "uti": opaque(16),
        "ver": "1.0",
    }
    if user.is_guest and user.home_tenant:
        claims["idp"] = v1_issuer(user.home_tenant)
    roles = user.roles_for(app.client_id)
    if roles and audience in (app.client_id, *app.identifier_uris):
        claims["roles"] = list(roles)
    return claims


def client_info(user: User) -> str:
    """MSAL's ``client_info`` (asked for with ``client_info=1``): uid + utid, base64url."""
    raw = json.dumps({"uid": user.home_oid or user.oid, "utid": user.home_tenant or user.tenant})
    return _b64(raw.encode())


def s256(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(code_verifier)) without padding (RFC 7636 §4.2)."""
    return _b64(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def hashed(value: str) -> str:
    """How codes and refresh tokens are kept: only their SHA-256, never the value."""
    return hashlib.sha256(value.encode()).hexdigest()
