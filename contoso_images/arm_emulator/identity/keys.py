"""RS256 signing keys with a ``kid``, their rotation, and the JWKS document.

Entra ID signs tokens with RS256 and names the key in the ``kid`` header; it publishes its
keys at ``jwks_uri`` and rotates them, so validators cache the document and fetch it again
when they meet an unknown ``kid`` (access-tokens, "Validate the signature"; azure-facts §15.4).
The emulator keeps three kinds of key in the state file:

``current``   signs every new token;
``next``      already published, signs nothing yet: a validator that cached the document
              before a rotation still knows the key that signs after it;
``previous``  the key that was current before the last rotation: still published (so the
              tokens it signed stay valid until they expire) until the next rotation, or
              dropped at once with ``rotate(keep_previous=False)``.

The ``kid`` (and ``x5t``) is the base64url SHA-1 of the public key, the shape of Entra's kids.
Real Entra keys also carry an ``x5c`` certificate chain; these do not (docs/emulator-fidelity.md).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .directory import KEY_TABLE

CURRENT, NEXT, PREVIOUS, RETIRED = "current", "next", "previous", "retired"
PUBLISHED = (CURRENT, NEXT, PREVIOUS)
KEY_SIZE = 2048

_cache_lock = threading.Lock()
_private_cache: dict[str, rsa.RSAPrivateKey] = {}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    state: str
    created: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _new_key() -> tuple[str, rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = _b64(hashlib.sha1(der).digest())  # noqa: S324 - a key id, as Entra's x5t, not security
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with _cache_lock:
        _private_cache[kid] = key
    return kid, key, pem


def _insert(conn: sqlite3.Connection, state: str, now: float) -> str:
    kid, _key, pem = _new_key()
    conn.execute(
        f"INSERT INTO {KEY_TABLE} (kid, private_pem, created, state) VALUES (?, ?, ?, ?)",  # noqa: S608
        (kid, pem, now, state),
    )
    return kid


def ensure(conn: sqlite3.Connection, now: float) -> None:
    """A current and a next key exist (call inside a write transaction)."""
    states = {r[0] for r in conn.execute(f"SELECT state FROM {KEY_TABLE}")}  # noqa: S608
    if CURRENT not in states:
        _insert(conn, CURRENT, now)
    if NEXT not in states:
        _insert(conn, NEXT, now)


def rotate(conn: sqlite3.Connection, now: float, *, keep_previous: bool = True) -> str:
    """Next becomes current, a new next is made; returns the new current ``kid``."""
    ensure(conn, now)
    conn.execute(f"UPDATE {KEY_TABLE} SET state = ? WHERE state = ?", (RETIRED, PREVIOUS))  # noqa: S608
    conn.execute(
        f"UPDATE {KEY_TABLE} SET state = ? WHERE state = ?",  # noqa: S608
        (PREVIOUS if keep_previous else RETIRED, CURRENT),
    )
    conn.execute(f"UPDATE {KEY_TABLE} SET state = ? WHERE state = ?", (CURRENT, NEXT))  # noqa: S608
    _insert(conn, NEXT, now)
    return current_kid(conn)


def keys(conn: sqlite3.Connection) -> list[SigningKey]:
    order = {CURRENT: 0, NEXT: 1, PREVIOUS: 2, RETIRED: 3}
    rows = conn.execute(f"SELECT kid, state, created FROM {KEY_TABLE}").fetchall()  # noqa: S608
    found = [SigningKey(kid, state, created) for kid, state, created in rows]
    return sorted(found, key=lambda k: (order.get(k.state, 9), -k.created))


def current_kid(conn: sqlite3.Connection) -> str:
    row = conn.execute(
        f"SELECT kid FROM {KEY_TABLE} WHERE state = ?",  # noqa: S608
        (CURRENT,),
    ).fetchone()
    if row is None:
        raise LookupError("no current signing key")
    return str(row[0])


def _private(conn: sqlite3.Connection, kid: str) -> rsa.RSAPrivateKey | None:
    with _cache_lock:
        cached = _private_cache.get(kid)
    if cached is not None:
        return cached
    row = conn.execute(
        f"SELECT private_pem FROM {KEY_TABLE} WHERE kid = ?",  # noqa: S608
        (kid,),
    ).fetchone()
    if row is None:
        return None
    key = serialization.load_pem_private_key(row[0].encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    with _cache_lock:
        _private_cache[kid] = key
    return key


def published_public_key(conn: sqlite3.Connection, kid: str) -> rsa.RSAPublicKey | None:
    """The public key for ``kid`` if the JWKS publishes it (current, next or previous)."""
    row = conn.execute(
        f"SELECT state FROM {KEY_TABLE} WHERE kid = ?",  # noqa: S608
        (kid,),
    ).fetchone()
    if row is None or row[0] not in PUBLISHED:
        return None
    key = _private(conn, kid)
    return None if key is None else key.public_key()


def jwks(conn: sqlite3.Connection, issuer: str | None = None) -> dict[str, Any]:
    """The keys document: current, next and (until the next rotation) previous."""
    entries = []
    for signing_key in keys(conn):
        if signing_key.state not in PUBLISHED:
            continue
        private = _private(conn, signing_key.kid)
        if private is None:
            continue
        numbers = private.public_key().public_numbers()
        entry: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": signing_key.kid,
            "x5t": signing_key.kid,
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
        }
        if issuer:
            entry["issuer"] = issuer
        entries.append(entry)
    return {"keys": entries}


def sign(
    conn: sqlite3.Connection, claims: dict[str, Any], *, kid: str | None = None, x5t: bool = False
) -> str:
    """A compact JWS of ``claims`` signed RS256 with the current key (or ``kid``)."""
    kid = kid or current_kid(conn)
    key = _private(conn, kid)
    if key is None:
        raise LookupError(f"no signing key {kid!r}")
    headers: dict[str, Any] = {"typ": "JWT", "kid": kid}
    if x5t:
        headers["x5t"] = kid
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def sign_with_foreign_key(claims: dict[str, Any], kid: str) -> str:
    """A token signed by a key the emulator never published, under a ``kid`` of the
    caller's choosing (tests: a forged token must be refused)."""
    _kid, key, _pem = _new_key()
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT", "kid": kid})
