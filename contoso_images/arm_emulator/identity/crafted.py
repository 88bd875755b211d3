"""ID tokens made outside the token endpoint, for tests of the apps that validate them.

A relying party must refuse a token from another tenant, for another audience, expired,
with another nonce or signed by a key the tenant never published (azure-facts §15.4). The
token endpoint only issues good tokens, so these functions build one exactly as it would
(``tokens.id_token_claims``, the current signing key and ``kid``) and then change what a
test names: a claim replaced (``aud=...``), removed (``nonce=None``), the times moved, or
the signature made with a foreign key under the current ``kid``.

Additive to the emulated Entra ID: nothing here is reachable over HTTP.
"""

from __future__ import annotations

from typing import Any

from . import keys, seed, tokens
from .service import Identity


def id_token_claims(
    identity: Identity,
    *,
    base: str,
    oid: str,
    client_id: str = seed.DASHBOARD_CLIENT_ID,
    nonce: str | None = None,
    issued_at: float | None = None,
    lifetime: int | None = None,
    scopes: tuple[str, ...] = ("openid", "profile", "offline_access"),
    **changes: Any,
) -> dict[str, Any]:
    """The claims the token endpoint at ``base`` would put in ``oid``'s ID token for
    ``client_id``; each keyword in ``changes`` replaces a claim (None removes it)."""
    user = identity.user(oid)
    app = identity.app(client_id)
    now = int(identity.clock() if issued_at is None else issued_at)
    claims = tokens.id_token_claims(
        base=base,
        user=user,
        app=app,
        scopes=scopes,
        nonce=nonce,
        sid=tokens.opaque(12),
        now=now,
        lifetime=identity.settings().id_token_seconds if lifetime is None else lifetime,
    )
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def sign(identity: Identity, claims: dict[str, Any], *, foreign_key: bool = False) -> str:
    """``claims`` signed RS256 with the tenant's current key and ``kid`` — or, with
    ``foreign_key``, with a key it never published, under that same ``kid``."""
    current = identity.signing_keys()[0].kid  # seeds the keys on first use
    if foreign_key:
        return keys.sign_with_foreign_key(claims, current)
    return keys.sign(identity.store.conn(), claims, kid=current)


def id_token(identity: Identity, *, foreign_key: bool = False, **kwargs: Any) -> str:
    """:func:`id_token_claims` signed (see :func:`sign`)."""
    return sign(identity, id_token_claims(identity, **kwargs), foreign_key=foreign_key)
