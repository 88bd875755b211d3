"""The one place that builds SDK clients, and the only place that picks the transport.

``emulator`` mode keeps the real ``https://management.azure.com`` base URL and plugs the ARM
emulator in as the azure-core transport, so the SDK runs unchanged, continuation tokens (which
hold absolute URLs) resume in any process, and no socket is opened. It is for unit tests and
quick local runs.

``azure`` mode is the production path, against Azure or against the emulator's HTTPS server
(``AZURE_CLOUD=custom``, docs/local-cloud.md): the configured Resource Manager endpoint, the
credential scope passed explicitly (the SDK never derives it from ``base_url``, azure-facts
§16.3), ``ClientSecretCredential`` when a tenant, client id and secret are set (else
``DefaultAzureCredential``), instance discovery off only for a custom cloud, certificates
verified against ``AZURE_CA_BUNDLE`` when set (the system's trust otherwise; never off), and
short connect/read timeouts. Clients are cached per subscription, mode and configuration,
which settings are read at call time (tests flip them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.pipeline import policies
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from contoso_images.azure.config import AZURE, EMULATOR, GatewayConfig, current
from contoso_images.azure.retry import CappedRetryPolicy

if TYPE_CHECKING:
    from azure.core.pipeline.transport import HttpTransport

_EMULATOR_BASE_URL = "https://management.azure.com"
_EMULATOR_PRICES_URL = "https://prices.azure.com"
_POLLING_INTERVAL = 5  # only used by SDK pollers when ARM sends no Retry-After

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}
_Client = TypeVar("_Client")
_credentials: dict[tuple[Any, ...], TokenCredential] = {}
_emulators: dict[str, tuple[Any, HttpTransport[Any, Any]]] = {}


def _emulator_and_transport(config: GatewayConfig) -> tuple[Any, HttpTransport[Any, Any]]:
    """One emulator + transport per state file and process, shared by every client."""
    from contoso_images.arm_emulator import Emulator, default_state_path
    from contoso_images.azure.emulator_transport import EmulatorTransport

    path = config.emulator_state or str(default_state_path())
    with _lock:
        if path not in _emulators:
            emu = Emulator(path)
            _emulators[path] = (emu, EmulatorTransport(emu))
        return _emulators[path]


def _verify(config: GatewayConfig) -> dict[str, Any]:
    """``connection_verify`` for a CA bundle; nothing (system trust) otherwise. Passed per
    request by azure-core, so it wins over a ``REQUESTS_CA_BUNDLE`` in the environment."""
    return {"connection_verify": config.ca_bundle} if config.ca_bundle else {}


def _credential(config: GatewayConfig) -> TokenCredential:
    if config.mode == EMULATOR:
        from contoso_images.azure.emulator_transport import StaticCredential

        return StaticCredential()  # a fixed token: the in-process path checks none
    key = (
        config.authority,
        config.tenant_id,
        config.client_id,
        config.client_secret,
        config.ca_bundle,
        config.disable_instance_discovery,
    )
    with _lock:
        if key not in _credentials:
            _credentials[key] = _new_credential(config)
        return _credentials[key]


def _new_credential(config: GatewayConfig) -> TokenCredential:
    # Token requests go through azure-identity's own pipeline: the CA bundle and the
    # timeouts must be given to the credential too, not only to the management clients.
    options: dict[str, Any] = {"authority": config.authority, **_verify(config)}
    if config.disable_instance_discovery:
        options["disable_instance_discovery"] = True
    if config.uses_client_secret:
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            config.tenant_id,
            config.client_id,
            config.client_secret,
            connection_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            **options,
        )
    from azure.identity import DefaultAzureCredential

    # Its managed-identity probe keeps its own short timeouts: not overridden here.
    return DefaultAzureCredential(**options)


def _client_kwargs(config: GatewayConfig) -> dict[str, Any]:
    transport = _emulator_and_transport(config)[1] if config.mode == EMULATOR else None
    kwargs: dict[str, Any] = {
        "retry_policy": CappedRetryPolicy(max_wait=config.max_retry_wait),
        "polling_interval": _POLLING_INTERVAL,
    }
    if transport is not None:
        kwargs["transport"] = transport
    if config.mode == AZURE:
        kwargs["base_url"] = config.resource_manager
        kwargs["credential_scopes"] = [config.credential_scope]
        # azure-core waits 300 s to connect and 300 s per read, three times over, by default:
        # a stalled connection must fail in seconds, not hold a page or a worker for minutes.
        kwargs["connection_timeout"] = config.connect_timeout
        kwargs["read_timeout"] = config.read_timeout
        kwargs.update(_verify(config))
    else:
        kwargs["base_url"] = _EMULATOR_BASE_URL
    return kwargs


def _cached(key: tuple[Any, ...], build: Callable[[], _Client]) -> _Client:
    with _lock:
        client = _clients.get(key)
    if client is None:
        client = build()
        with _lock:
            client = _clients.setdefault(key, client)
    built: _Client = client
    return built


def compute_client(subscription_id: str) -> ComputeManagementClient:
    """A cached ``ComputeManagementClient`` for one subscription in the configured mode."""
    config = current()
    return _cached(
        ("compute", subscription_id, config),
        lambda: ComputeManagementClient(
            _credential(config), subscription_id, **_client_kwargs(config)
        ),
    )


def network_client(subscription_id: str) -> NetworkManagementClient:
    """A cached ``NetworkManagementClient`` (virtual networks, subnets, NICs): same ARM host,
    credential, retry policy and, in emulator mode, the same in-process transport."""
    config = current()
    return _cached(
        ("network", subscription_id, config),
        lambda: NetworkManagementClient(
            _credential(config), subscription_id, **_client_kwargs(config)
        ),
    )


def subscription_client() -> SubscriptionClient:
    """A cached ``SubscriptionClient`` (subscriptions and their regions)."""
    config = current()
    return _cached(
        ("subscriptions", config),
        lambda: SubscriptionClient(_credential(config), **_client_kwargs(config)),
    )


def _retail_prices_pipeline(config: GatewayConfig) -> PipelineClient[HttpRequest, HttpResponse]:
    """A bare azure-core pipeline: the ARM clients' retry policy and timeouts, no credential
    (the API is public), no redirects."""
    if config.mode == EMULATOR:
        transport: HttpTransport[Any, Any] = _emulator_and_transport(config)[1]
        endpoint = _EMULATOR_PRICES_URL
    else:
        from azure.core.pipeline.transport import RequestsTransport

        transport = RequestsTransport(
            connection_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            **_verify(config),
        )
        endpoint = config.retail_prices_endpoint
    return PipelineClient(
        endpoint,
        transport=transport,
        policies=[
            policies.RequestIdPolicy(),
            policies.HeadersPolicy({"Accept": "application/json"}),
            policies.UserAgentPolicy(sdk_moniker="contoso-images-retail-prices"),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            CappedRetryPolicy(max_wait=config.max_retry_wait),
            policies.CustomHookPolicy(),
            policies.NetworkTraceLoggingPolicy(),
            policies.HttpLoggingPolicy(),
        ],
    )


def retail_prices_client() -> PipelineClient[HttpRequest, HttpResponse]:
    """A cached pipeline for the Azure Retail Prices API (``RETAIL_PRICES_ENDPOINT``)."""
    config = current()
    client: PipelineClient[HttpRequest, HttpResponse] = _cached(
        ("retail_prices", config), lambda: _retail_prices_pipeline(config)
    )
    return client


def clear_client_cache() -> None:
    """Forget cached clients, credentials, transports and emulator handles (after settings
    change)."""
    with _lock:
        _clients.clear()
        _credentials.clear()
        _emulators.clear()
