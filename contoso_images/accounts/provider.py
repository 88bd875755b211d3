"""The tenant's OpenID Connect metadata and signing keys, fetched over verified TLS and cached.

Entra ID publishes its issuer and endpoints at ``{authority}/v2.0/.well-known/openid-configuration``
and its keys at ``jwks_uri``; keys rotate, so a validator caches the document and fetches it
again when a token names a ``kid`` it does not know (access-tokens, "Validate the signature";
azure-facts §15.4). Both are cached per authority for a day; an unknown ``kid`` triggers one
new fetch, at most every :data:`JWKS_REFETCH_SECONDS`, so a stream of forged ``kid`` values
cannot turn the dashboard into a load generator against the tenant.

MSAL fetches the same discovery document for its own use but keeps neither the ``jwks_uri``
nor the keys: it does not verify ID tokens at all since 1.38 (see tokens.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from contoso_images.accounts import clock
from contoso_images.accounts.config import EntraConfig, is_guid

METADATA_SECONDS = 24 * 3600
JWKS_REFETCH_SECONDS = 60
#: (connect, read) seconds for the metadata and keys.
TIMEOUT = (5, 15)
TENANT_PLACEHOLDER = "{tenantid}"


class ProviderUnavailable(Exception):
    """The tenant's metadata or keys could not be fetched (network, TLS, a non-200)."""


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str

    @property
    def pinned_tenant(self) -> str | None:
        """The tenant GUID in the issuer of a single-tenant authority (None for the
        ``{tenantid}`` template of organizations/common)."""
        for segment in self.issuer.split("/"):
            if is_guid(segment):
                return segment.lower()
        return None

    def issuer_for(self, tid: str) -> str:
        """The issuer a token of tenant ``tid`` must carry: the metadata's, with a
        multi-tenant template's ``{tenantid}`` replaced (claims-validation)."""
        return self.issuer.replace(TENANT_PLACEHOLDER, tid)


@dataclass
class _Entry:
    metadata: Metadata | None = None
    metadata_at: float = 0.0
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys_at: float = -1e18
    lock: threading.Lock = field(default_factory=threading.Lock)


_entries: dict[tuple[str, str], _Entry] = {}
_entries_lock = threading.Lock()


def _entry(config: EntraConfig) -> _Entry:
    key = (config.authority.lower(), str(config.verify()))
    with _entries_lock:
        return _entries.setdefault(key, _Entry())


def clear_cache() -> None:
    """Forget every cached document (tests start each emulator on a new port)."""
    with _entries_lock:
        _entries.clear()


def _get_json(url: str, config: EntraConfig) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=TIMEOUT, verify=config.verify())
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise ProviderUnavailable(f"{url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderUnavailable(f"{url} did not answer JSON") from exc
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"{url} did not answer a JSON object")
    return body


def metadata(config: EntraConfig) -> Metadata:
    """The authority's discovery document (cached a day)."""
    entry = _entry(config)
    with entry.lock:
        if entry.metadata is None or clock.now() - entry.metadata_at > METADATA_SECONDS:
            doc = _get_json(f"{config.authority}/v2.0/.well-known/openid-configuration", config)
            try:
                entry.metadata = Metadata(
                    issuer=str(doc["issuer"]),
                    authorization_endpoint=str(doc["authorization_endpoint"]),
                    token_endpoint=str(doc["token_endpoint"]),
                    jwks_uri=str(doc["jwks_uri"]),
                    end_session_endpoint=str(doc.get("end_session_endpoint") or ""),
                )
            except KeyError as exc:
                raise ProviderUnavailable(f"the discovery document lacks {exc}") from exc
            entry.metadata_at = clock.now()
        return entry.metadata


def signing_key(config: EntraConfig, kid: str) -> dict[str, Any] | None:
    """The published JWK for ``kid`` (fetching the keys again once if it is unknown)."""
    meta = metadata(config)
    entry = _entry(config)
    with entry.lock:
        found = entry.keys.get(kid)
        stale = clock.now() - entry.keys_at > METADATA_SECONDS
        may_refetch = clock.now() - entry.keys_at > JWKS_REFETCH_SECONDS
        if stale or (found is None and may_refetch):
            doc = _get_json(meta.jwks_uri, config)
            keys = doc.get("keys")
            if not isinstance(keys, list):
                raise ProviderUnavailable("the keys document has no 'keys' list")
            entry.keys = {str(k["kid"]): k for k in keys if isinstance(k, dict) and k.get("kid")}
            entry.keys_at = clock.now()
            found = entry.keys.get(kid)
        return found
