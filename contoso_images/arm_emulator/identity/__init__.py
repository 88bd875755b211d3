"""An emulated Microsoft Entra ID beside the ARM emulator (Django-free).

What it serves, over the emulator's HTTPS server (``server.py``) or from Python:

* OpenID Connect for the dashboard's sign-in: discovery per tenant, JWKS with a rotating key,
  authorize (an account picker listing the seeded people and their roles), token
  (``authorization_code`` with PKCE, ``refresh_token``), logout;
* OAuth client credentials for the gateway: azure-identity's ``ClientSecretCredential`` and
  MSAL get real RS256 tokens for Resource Manager;
* Resource Manager's side: bearer tokens are checked (signature, audience, expiry, tenant)
  and refused with ARM's 401 bodies.

The seeded people, apps and ids are in ``seed.py``; everything changeable (roles, names,
redirect URIs, secrets, keys, lifetimes) is a method of :class:`Identity`, reached as
``Emulator(path).identity``. Sources for each behaviour: docs/emulator-fidelity.md.
"""

from __future__ import annotations

from . import seed
from .directory import (
    GUEST,
    MEMBER,
    MULTI_TENANT,
    SINGLE_TENANT,
    App,
    AppRole,
    LogEntry,
    Tenant,
    User,
)
from .keys import SigningKey
from .protocol import is_identity_path
from .service import ARM_AUDIENCES, Identity, IdentitySettings

__all__ = [
    "ARM_AUDIENCES",
    "GUEST",
    "MEMBER",
    "MULTI_TENANT",
    "SINGLE_TENANT",
    "App",
    "AppRole",
    "Identity",
    "IdentitySettings",
    "LogEntry",
    "SigningKey",
    "Tenant",
    "User",
    "is_identity_path",
    "seed",
]
