"""The sign-in settings as one value, what is wrong with them, and the local-password policy.

Read from ``django.conf.settings`` at each use (tests and ``override_settings`` change them).
Entra ID sign-in is *configured* when ``ENTRA_TENANT_ID``, ``ENTRA_CLIENT_ID`` and
``ENTRA_CLIENT_SECRET`` are all set; a configuration with a problem (:func:`problems`) is
refused by the system checks at start-up and never used to sign anyone in.

The tenant is pinned: a tenant GUID or verified domain. ``organizations`` and ``common``
(any work account of any tenant, and for ``common`` personal accounts too) are the defaults
of most SSO libraries and a classic hole (azure-facts §15.4, STACK.md §5 pitfalls): they are
refused unless ``ENTRA_ALLOWED_TENANTS`` lists the tenants whose tokens are accepted, and
``consumers`` (personal Microsoft accounts only) is always refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from contoso_images.core.roles import ROLES
from contoso_images.core.users import Person

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
MULTI_TENANT = ("organizations", "common")
PERSONAL_ONLY = "consumers"
#: Personal Microsoft accounts all carry this tid (id-token-claims-reference).
PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def is_guid(value: str) -> bool:
    return bool(GUID.match(value or ""))


@dataclass(frozen=True)
class EntraConfig:
    tenant: str
    client_id: str
    client_secret: str
    authority_host: str
    allowed_tenants: frozenset[str]
    #: Claim value (an app role's value, or a group's object id in lower case) → role group.
    role_map: Mapping[str, str]
    roles_max_age_seconds: int
    ca_bundle: str
    redirect_uri: str

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant}"

    @property
    def multi_tenant(self) -> bool:
        return self.tenant.lower() in MULTI_TENANT

    @property
    def maps_groups(self) -> bool:
        """Whether some role comes from a security group (the ``groups`` claim)."""
        return any(is_guid(key) for key in self.role_map)

    def verify(self) -> str | bool:
        """What requests and MSAL verify the login host's certificate with: a CA bundle,
        or the system's trust. Never off."""
        return self.ca_bundle or True


def _host(value: str) -> str:
    value = value.strip().rstrip("/")
    return value if "://" in value else f"https://{value}"


def _role_map(raw: Mapping[str, Any]) -> dict[str, str]:
    return {
        (key.strip().lower() if is_guid(key.strip()) else key.strip()): str(value).strip()
        for key, value in raw.items()
        if key.strip()
    }


def read() -> EntraConfig:
    """The settings as they are now (configured or not)."""
    return EntraConfig(
        tenant=str(getattr(settings, "ENTRA_TENANT_ID", "") or "").strip(),
        client_id=str(getattr(settings, "ENTRA_CLIENT_ID", "") or "").strip(),
        client_secret=str(getattr(settings, "ENTRA_CLIENT_SECRET", "") or ""),
        authority_host=_host(
            str(getattr(settings, "ENTRA_AUTHORITY_HOST", "") or "login.microsoftonline.com")
        ),
        allowed_tenants=frozenset(
            t.strip().lower() for t in getattr(settings, "ENTRA_ALLOWED_TENANTS", []) if t.strip()
        ),
        role_map=_role_map(getattr(settings, "ENTRA_ROLE_MAP", {}) or {}),
        roles_max_age_seconds=int(getattr(settings, "ENTRA_ROLES_MAX_AGE", 15)) * 60,
        ca_bundle=str(
            getattr(settings, "ENTRA_CA_BUNDLE", "")
            or getattr(settings, "AZURE_CA_BUNDLE", "")
            or ""
        ),
        redirect_uri=str(getattr(settings, "ENTRA_REDIRECT_URI", "") or ""),
    )


def is_set(config: EntraConfig) -> bool:
    return bool(config.tenant and config.client_id and config.client_secret)


def problems(config: EntraConfig) -> list[tuple[str, str]]:
    """What keeps this configuration from signing anyone in safely: (check id, sentence)."""
    found: list[tuple[str, str]] = []
    given = [config.tenant, config.client_id, config.client_secret]
    if any(given) and not all(given):
        found.append(
            (
                "accounts.E001",
                "Entra ID sign-in needs ENTRA_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET "
                "together; only some are set.",
            )
        )
    tenant = config.tenant.lower()
    if tenant == PERSONAL_ONLY:
        found.append(
            (
                "accounts.E002",
                "ENTRA_TENANT_ID=consumers would let personal Microsoft accounts in; set your "
                "tenant's GUID.",
            )
        )
    elif tenant in MULTI_TENANT and not config.allowed_tenants:
        found.append(
            (
                "accounts.E003",
                f"ENTRA_TENANT_ID={config.tenant} accepts accounts of every tenant; set your "
                "tenant's GUID, or list the tenants to accept in ENTRA_ALLOWED_TENANTS.",
            )
        )
    bad_tenants = sorted(t for t in config.allowed_tenants if not is_guid(t))
    if bad_tenants:
        found.append(
            ("accounts.E004", f"ENTRA_ALLOWED_TENANTS holds {bad_tenants}, not tenant GUIDs.")
        )
    if PERSONAL_ACCOUNTS_TENANT in config.allowed_tenants:
        found.append(
            (
                "accounts.E005",
                "ENTRA_ALLOWED_TENANTS lists the personal Microsoft accounts' tenant.",
            )
        )
    if urlsplit(config.authority_host).scheme != "https":
        found.append(
            (
                "accounts.E006",
                f"ENTRA_AUTHORITY_HOST={config.authority_host} is not https (MSAL and Entra ID "
                "require TLS).",
            )
        )
    unknown = sorted({group for group in config.role_map.values() if group not in ROLES})
    if unknown:
        found.append(
            (
                "accounts.E007",
                f"ENTRA_ROLE_MAP maps to {unknown}; the role groups are {', '.join(ROLES)}.",
            )
        )
    if is_set(config) and not config.role_map:
        found.append(
            ("accounts.E008", "ENTRA_ROLE_MAP is empty: nobody signing in would get a role.")
        )
    if config.roles_max_age_seconds < 60:
        found.append(("accounts.E009", "ENTRA_ROLES_MAX_AGE must be at least 1 (minutes)."))
    return found


def entra() -> EntraConfig | None:
    """The configuration to sign people in with, or None (not configured, or unsafe)."""
    config = read()
    if not is_set(config) or problems(config):
        return None
    return config


def local_login_allowed(user: Person) -> bool:
    """Whether this user may sign in with a local password now: everyone while
    ``LOCAL_LOGIN`` is on; otherwise only the superusers named in ``LOCAL_LOGIN_SUPERUSERS``
    (the break-glass accounts)."""
    if getattr(settings, "LOCAL_LOGIN", True):
        return True
    allowed = {str(name) for name in getattr(settings, "LOCAL_LOGIN_SUPERUSERS", [])}
    return bool(user.is_superuser and user.get_username() in allowed)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: an unsafe sign-in configuration stops the server from starting."""
    config = read()
    messages: list[checks.CheckMessage] = [
        checks.Error(sentence, id=check_id) for check_id, sentence in problems(config)
    ]
    if not getattr(settings, "LOCAL_LOGIN", True) and not is_set(config):
        messages.append(
            checks.Warning(
                "LOCAL_LOGIN is false and Entra ID sign-in is not configured: only the "
                "superusers in LOCAL_LOGIN_SUPERUSERS can sign in.",
                id="accounts.W001",
            )
        )
    return messages
