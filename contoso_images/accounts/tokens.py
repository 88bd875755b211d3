"""Every check an ID token must pass before anyone is signed in with it.

MSAL Python does not validate ID tokens: since 1.38 its token acquisition "only decodes the
claims" (``msal/oauth2cli/oidc.py`` ``_decode_id_token_claims`` and ``Client._obtain_token``,
AzureAD/microsoft-authentication-library-for-python#911), and its old ``decode_id_token``
never checked the signature (it relied on OIDC Core §3.1.3.7 item 6: TLS to the token
endpoint may stand in for it). What MSAL does check, in ``acquire_token_by_auth_code_flow``,
is the ``state`` (``oauth2.py``, ValueError on mismatch) and the ``nonce`` (``oidc.py``,
RuntimeError when the token's nonce is not the SHA-256 of the flow's), and it sends PKCE.
So the dashboard checks, here, in this order (azure-facts §15.4; claims-validation):

1. the header: RS256 only (no ``none``, no HMAC with the public key as the secret);
2. the signature, with the key of the header's ``kid`` from the tenant's ``jwks_uri``;
3. ``tid``: a GUID, the pinned tenant (or one of ``ENTRA_ALLOWED_TENANTS`` for a
   multi-tenant authority);
4. ``iss``: exactly the discovery document's issuer for that ``tid`` (and the key's own
   ``issuer`` when the keys document gives one);
5. ``aud``: this app's client id;
6. ``exp`` and ``nbf`` with :data:`LEEWAY_SECONDS` of clock skew, and ``iat`` present;
7. ``nonce``: the SHA-256 of the nonce this browser's flow holds (MSAL sends the hash as
   the request's nonce, ``oidc.py`` ``_nonce_hash``); checked here as well so a token
   handed in any other way meets the same rule;
8. ``oid``: present (the user's key with ``tid``), and for a session's role check the same
   ``tid`` + ``oid`` as the session's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import jwt

from contoso_images.accounts import provider, refusals
from contoso_images.accounts.config import EntraConfig, is_guid
from contoso_images.accounts.refusals import SignInRefused

ALGORITHMS = ("RS256",)
#: Clock skew allowed on exp/nbf: MSAL's own (``oidc.py``: ``skew = 120``).
LEEWAY_SECONDS = 120
REQUIRED = ("iss", "aud", "exp", "iat", "tid", "oid")


def nonce_hash(nonce: str) -> str:
    """What MSAL puts in the authorization request for the flow's ``nonce`` (and so what
    the ID token echoes): the hex SHA-256 (OIDC Core "Nonce Implementation Notes")."""
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


def _tenant_words(config: EntraConfig, meta: provider.Metadata) -> str:
    pinned = meta.pinned_tenant
    names = sorted({*([pinned] if pinned else []), *config.allowed_tenants})
    return ", ".join(names) or config.tenant


def allowed_tenants(config: EntraConfig, meta: provider.Metadata) -> frozenset[str]:
    pinned = meta.pinned_tenant
    return frozenset({*([pinned] if pinned else []), *config.allowed_tenants})


def validate_id_token(
    raw: str,
    config: EntraConfig,
    *,
    now: float,
    expected_nonce_hash: str | None,
    expected_identity: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The verified claims of ``raw``, or :class:`SignInRefused` naming the first check it
    failed. ``expected_nonce_hash`` None: a refreshed token (Entra puts no nonce in it)."""
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise SignInRefused(refusals.MALFORMED, detail=f"Unreadable header: {exc}") from exc
    if header.get("alg") not in ALGORITHMS:
        raise SignInRefused(
            refusals.BAD_SIGNATURE, detail=f"Signed with {header.get('alg')!r}, not RS256."
        )
    kid = str(header.get("kid") or "")
    try:
        jwk = provider.signing_key(config, kid) if kid else None
    except provider.ProviderUnavailable as exc:
        raise SignInRefused(refusals.UNREACHABLE, detail=str(exc)) from exc
    if jwk is None:
        raise SignInRefused(
            refusals.BAD_SIGNATURE,
            detail=f"The key {kid!r} is not among the tenant's published signing keys.",
            claims=_unverified(raw),
        )
    try:
        public_key = jwt.PyJWK(jwk).key
        claims = jwt.decode(
            raw,
            public_key,
            algorithms=list(ALGORITHMS),
            # Each claim is checked below, one by one, so the refusal can say which failed.
            options={
                "verify_aud": False,
                "verify_iss": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise SignInRefused(
            refusals.BAD_SIGNATURE,
            detail=f"The signature does not verify with the published key {kid!r}.",
            claims=_unverified(raw),
        ) from exc
    except jwt.PyJWTError as exc:
        raise SignInRefused(refusals.MALFORMED, detail=str(exc)) from exc
    missing = [name for name in REQUIRED if name not in claims]
    if missing:
        raise SignInRefused(
            refusals.MALFORMED, detail=f"Claims missing: {', '.join(missing)}.", claims=claims
        )
    try:
        meta = provider.metadata(config)
    except provider.ProviderUnavailable as exc:
        raise SignInRefused(refusals.UNREACHABLE, detail=str(exc)) from exc
    _check_tenant(claims, config, meta)
    _check_issuer(claims, meta, jwk)
    _check_audience(claims, config)
    _check_times(claims, now)
    if expected_nonce_hash is not None and claims.get("nonce") != expected_nonce_hash:
        raise SignInRefused(
            refusals.REPLAYED_NONCE,
            detail="The ID token's nonce is not the one of the flow this browser started.",
            claims=claims,
        )
    _check_identity(claims, expected_identity)
    return claims


def _unverified(raw: str) -> dict[str, Any]:
    """Claims read without verification, kept only to say in the record whose token a
    forged or broken one claimed to be (never used to decide anything)."""
    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return {k: claims[k] for k in ("tid", "oid", "preferred_username", "aud") if k in claims}


def _check_tenant(claims: Mapping[str, Any], config: EntraConfig, meta: provider.Metadata) -> None:
    tid = str(claims.get("tid", "")).lower()
    if not is_guid(tid) or tid not in allowed_tenants(config, meta):
        raise SignInRefused(
            refusals.WRONG_TENANT,
            detail=f"Token of tenant {tid or '(none)'}; accepted: {_tenant_words(config, meta)}.",
            claims=claims,
            tid=tid or "unknown",
            tenant=_tenant_words(config, meta),
        )


def _check_issuer(
    claims: Mapping[str, Any], meta: provider.Metadata, jwk: Mapping[str, Any]
) -> None:
    tid = str(claims["tid"]).lower()
    expected = meta.issuer_for(tid)
    if claims["iss"] != expected:
        raise SignInRefused(
            refusals.WRONG_ISSUER,
            detail=f"Issuer {claims['iss']!r}, expected {expected!r}.",
            claims=claims,
        )
    key_issuer = jwk.get("issuer")
    if key_issuer and str(key_issuer).replace(provider.TENANT_PLACEHOLDER, tid) != expected:
        raise SignInRefused(
            refusals.WRONG_ISSUER,
            detail=f"The signing key belongs to issuer {key_issuer!r}, not {expected!r}.",
            claims=claims,
        )


def _check_audience(claims: Mapping[str, Any], config: EntraConfig) -> None:
    aud = claims["aud"]
    audiences = aud if isinstance(aud, list) else [aud]
    if config.client_id not in audiences or (
        len(audiences) > 1 and claims.get("azp") != config.client_id
    ):
        raise SignInRefused(
            refusals.WRONG_AUDIENCE,
            detail=f"Audience {aud!r}, expected {config.client_id!r}.",
            claims=claims,
        )


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    try:
        exp = float(claims["exp"])
        nbf = float(claims.get("nbf", claims["iat"]))
    except (TypeError, ValueError) as exc:
        raise SignInRefused(refusals.MALFORMED, detail="exp/nbf are not numbers.") from exc
    if now > exp + LEEWAY_SECONDS:
        raise SignInRefused(
            refusals.EXPIRED,
            detail=f"Expired {int(now - exp)} s ago (leeway {LEEWAY_SECONDS} s).",
            claims=claims,
        )
    if now + LEEWAY_SECONDS < nbf:
        raise SignInRefused(
            refusals.NOT_YET_VALID,
            detail=f"Valid from {int(nbf - now)} s from now.",
            claims=claims,
        )


def _check_identity(claims: Mapping[str, Any], expected: tuple[str, str] | None) -> None:
    oid = str(claims.get("oid", "")).lower()
    if not oid:
        raise SignInRefused(refusals.MALFORMED, detail="No oid claim.", claims=claims)
    if expected is not None and (str(claims["tid"]).lower(), oid) != expected:
        raise SignInRefused(
            refusals.IDENTITY_CHANGED,
            detail=f"Expected tid/oid {expected}, got {(claims['tid'], oid)}.",
            claims=claims,
        )
