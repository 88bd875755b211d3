"""The refresh token, sealed before it goes into the session.

A session's refresh token lets the dashboard ask Entra ID for the person's roles again every
``ENTRA_ROLES_MAX_AGE`` minutes without a new sign-in. It stays on the server (the session
store; never a cookie: Django's default session engine is the database), and it is sealed
there with Fernet (AES-128-CBC + HMAC-SHA-256, ``cryptography``) under a key derived from
``SECRET_KEY`` by HKDF: a copy of the sessions table, a database backup or a leaked dump
holds no usable token. Keys derived from ``SECRET_KEY_FALLBACKS`` still open what they
sealed, so rotating the secret key does not sign everyone out at once; a token no key opens
is treated as absent (the person signs in again).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

INFO = b"contoso-images/accounts/refresh-token/v1"


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(str(secret)) for secret in secrets])


def seal(value: str) -> str:
    return _keys().encrypt(value.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The value, or None when no current or fallback key opens it (or it was altered)."""
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
