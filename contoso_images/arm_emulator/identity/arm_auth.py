"""Resource Manager's check of the bearer token, with ARM's 401 answers.

Real ARM refuses a request before any resource provider sees it when the token is missing,
malformed, forged, expired, for another audience or from another tenant than the
subscription's; the 401 carries ARM's error envelope and a ``WWW-Authenticate: Bearer``
challenge naming the authority (the subscription's tenant when the path has one). The codes
and messages (docs/emulator-fidelity.md lists their sources):

=====================================  ===========================================
missing ``Authorization``              ``AuthenticationFailed``
not ``Bearer <token>``                 ``AuthenticationFailedInvalidHeader``
unreadable, bad signature, unknown kid ``InvalidAuthenticationToken``
``exp`` in the past                    ``ExpiredAuthenticationToken``
``aud`` not one of ARM's               ``InvalidAuthenticationTokenAudience``
``tid`` not the subscription's tenant  ``InvalidAuthenticationTokenTenant``
=====================================  ===========================================

azure-core's bearer policy forgets its cached token on any 401 with ``WWW-Authenticate``, so
the next call asks the credential again.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt

from contoso_images.arm_emulator.errors import ArmError
from contoso_images.arm_emulator.state import subscription_row

from . import keys

PUBLIC_AUTHORITY = "https://login.windows.net"
ARM_HOSTS = ("management.azure.com",)
#: APIs that take no token at all (the Retail Prices API is anonymous).
ANONYMOUS_HOSTS = ("prices.azure.com",)
_SUB = re.compile(r"^/subscriptions/([^/?]+)", re.IGNORECASE)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def authority_for(url: str) -> str:
    """The login authority a challenge names: Entra's public host when the request came for
    ``management.azure.com`` (in process), else the emulator's own origin (its Entra ID)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.hostname in ARM_HOSTS:
        return PUBLIC_AUTHORITY
    return f"{parts.scheme}://{parts.netloc}"


def _arm_time(ts: float) -> str:
    """ARM's expiry format: ``1/18/2023 5:10:42 PM`` (UTC)."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    hour = dt.hour % 12 or 12
    half = "AM" if dt.hour < 12 else "PM"
    return f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02d}:{dt.second:02d} {half}"


def _norm(uri: str) -> str:
    return uri.rstrip("/").lower()


def _refuse(
    code: str, message: str, *, authority: str, tenant: str | None, description: str
) -> ArmError:
    challenge = (
        f'Bearer authorization_uri="{authority}/{tenant or ""}", error="invalid_token", '
        f'error_description="{description}"'
    )
    return ArmError(401, code, message, headers={"WWW-Authenticate": challenge})


def check(
    conn: sqlite3.Connection,
    *,
    url: str,
    path: str,
    headers: Mapping[str, str],
    audiences: Sequence[str],
    now: float,
) -> ArmError | None:
    """``None`` when the request carries a token ARM would accept, else the 401."""
    if urlsplit(url).hostname in ANONYMOUS_HOSTS:
        return None
    authority = authority_for(url)
    sub_match = _SUB.match(path)
    sub_tenant: str | None = None
    if sub_match:
        row = subscription_row(conn, sub_match.group(1))
        sub_tenant = row[2] if row else None

    header = _header(headers, "Authorization")
    if header is None or not header.strip():
        return _refuse(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            authority=authority,
            tenant=sub_tenant,
            description="The authentication failed because of missing 'Authorization' header.",
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _refuse(
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            authority=authority,
            tenant=sub_tenant,
            description="The authentication failed because of invalid 'Authorization' header.",
        )
    invalid = _refuse(
        "InvalidAuthenticationToken",
        "The access token is invalid.",
        authority=authority,
        tenant=sub_tenant,
        description="The access token is invalid.",
    )
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return invalid
    public = keys.published_public_key(conn, str(kid)) if kid else None
    if public is None:
        return invalid
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return invalid

    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        return invalid
    if exp < now:
        return _refuse(
            "ExpiredAuthenticationToken",
            f"The access token expiry UTC time '{_arm_time(exp)}' is earlier than current UTC "
            f"time '{_arm_time(now)}'.",
            authority=authority,
            tenant=sub_tenant,
            description="The access token has expired.",
        )
    audience = str(claims.get("aud", ""))
    allowed = {_norm(a) for a in audiences}
    if _norm(audience) not in allowed:
        listed = ",".join(
            f"'{v}'" for a in audiences for v in (a if a.endswith("/") else a + "/", a.rstrip("/"))
        )
        return _refuse(
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{audience}'. "
            f"It should exactly match with one of the allowed audiences {listed}.",
            authority=authority,
            tenant=sub_tenant,
            description="The access token has been obtained for wrong audience or resource.",
        )
    tid = str(claims.get("tid", ""))
    if sub_tenant and tid.lower() != sub_tenant.lower():
        issuer = claims.get("iss", "")
        return _refuse(
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer '{issuer}'. It must match the tenant "
            f"'https://sts.windows.net/{sub_tenant}/' associated with this subscription. Please "
            f"use the authority (URL) '{authority}/{sub_tenant}' to get the token. Note, if "
            "the subscription is transferred to another tenant there is no impact to the "
            "services, but information about new tenant could take time to propagate (up to "
            "an hour). If you just transferred your subscription and see this error message, "
            "please try back later.",
            authority=authority,
            tenant=sub_tenant,
            description="The access token is from the wrong issuer.",
        )
    return None


def caller(headers: Mapping[str, str]) -> str:
    """Who an accepted bearer token names: an app token's ``appid`` (``idtyp: app``), else a
    person's ``upn`` or ``oid``; empty without a readable token. Read without checking the
    signature: only called after ``check`` accepted the same header."""
    header = _header(headers, "Authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    try:
        claims: dict[str, Any] = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    if claims.get("idtyp") == "app" and claims.get("appid"):
        return str(claims["appid"])
    return str(claims.get("upn") or claims.get("oid") or "")
