"""The gateway's settings, read from Django settings at call time (never at import time).

Tests flip ``AZURE_MODE``/``AZURE_EMULATOR_STATE`` with ``override_settings``; reading settings
inside functions is what lets the client cache notice (the frozen config is part of its key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

EMULATOR = "emulator"
AZURE = "azure"
CUSTOM = "custom"
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to open a connection to Resource Manager
DEFAULT_READ_TIMEOUT = 60.0  # seconds to wait for bytes of a response (100 VMs come far quicker)

# Resource Manager endpoint and Entra ID authority host per sovereign cloud.
_CLOUDS: dict[str, tuple[str, str]] = {
    "public": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "usgovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
    "china": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class GatewayConfig:
    mode: str
    subscription_ids: tuple[str, ...]
    cloud: str
    resource_manager: str
    credential_scope: str
    authority: str
    emulator_state: str | None
    max_retry_wait: float
    # The public Retail Prices API (no credential); another host for a sovereign cloud or a
    # local HTTPS emulator. Emulator mode always uses the in-process one.
    retail_prices_endpoint: str = "https://prices.azure.com"
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    ca_bundle: str = ""  # a CA file to trust instead of the system's; empty: system trust
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    @property
    def uses_client_secret(self) -> bool:
        """A service principal with a secret is configured (else DefaultAzureCredential)."""
        return bool(self.tenant_id and self.client_id and self.client_secret)

    @property
    def disable_instance_discovery(self) -> bool:
        """Only a custom cloud's authority is unknown to Microsoft's instance discovery
        (azure-facts §16.1/§16.5: discovery calls login.microsoftonline.com and fails)."""
        return self.cloud == CUSTOM


def current() -> GatewayConfig:
    """Build the configuration from the settings as they are right now."""
    mode = (getattr(settings, "AZURE_MODE", EMULATOR) or EMULATOR).lower()
    if mode not in (EMULATOR, AZURE):
        raise ValueError(f"AZURE_MODE must be 'emulator' or 'azure', not {mode!r}")
    cloud = (getattr(settings, "AZURE_CLOUD", "public") or "public").lower()
    endpoint, authority = _CLOUDS.get(cloud, _CLOUDS["public"])
    custom_endpoint = getattr(settings, "AZURE_RESOURCE_MANAGER_ENDPOINT", "") or ""
    if custom_endpoint:
        endpoint = custom_endpoint
    elif cloud not in _CLOUDS:
        raise ValueError("AZURE_CLOUD 'custom' needs AZURE_RESOURCE_MANAGER_ENDPOINT")
    endpoint = endpoint.rstrip("/")
    scope = getattr(settings, "AZURE_CREDENTIAL_SCOPE", "") or f"{endpoint}/.default"
    authority = getattr(settings, "AZURE_AUTHORITY_HOST", "") or authority
    state = getattr(settings, "AZURE_EMULATOR_STATE", None) or None
    connect_timeout = float(getattr(settings, "AZURE_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))
    read_timeout = float(getattr(settings, "AZURE_READ_TIMEOUT", DEFAULT_READ_TIMEOUT))
    if connect_timeout <= 0 or read_timeout <= 0:
        raise ValueError("AZURE_CONNECT_TIMEOUT and AZURE_READ_TIMEOUT must be > 0")
    return GatewayConfig(
        mode=mode,
        subscription_ids=tuple(getattr(settings, "AZURE_SUBSCRIPTION_IDS", None) or ()),
        cloud=cloud,
        resource_manager=endpoint,
        credential_scope=scope,
        authority=authority.rstrip("/"),
        emulator_state=str(state) if state else None,
        max_retry_wait=float(getattr(settings, "AZURE_MAX_RETRY_WAIT", 10.0)),
        retail_prices_endpoint=(
            getattr(settings, "RETAIL_PRICES_ENDPOINT", "") or "https://prices.azure.com"
        ).rstrip("/"),
        tenant_id=getattr(settings, "AZURE_TENANT_ID", "") or "",
        client_id=getattr(settings, "AZURE_CLIENT_ID", "") or "",
        client_secret=getattr(settings, "AZURE_CLIENT_SECRET", "") or "",
        ca_bundle=str(getattr(settings, "AZURE_CA_BUNDLE", "") or ""),
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
