"""The one place that builds SDK clients, and the only place that picks the transport.

``emulator`` mode keeps the real ``https://management.azure.com`` base URL and plugs the ARM
emulator in as the azure-core transport, so the SDK runs unchanged, continuation tokens carry a
stable host across processes and no socket is opened (azure-facts §4.5 option A). ``azure`` mode
uses ``DefaultAzureCredential`` against the configured cloud. Clients are cached per
subscription, mode and configuration; tests inject transports with :func:`use_transport`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from azure.core.credentials import TokenCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from contoso_images.azure.config import AZURE, EMULATOR, GatewayConfig, current
from contoso_images.azure.retry import CappedRetryPolicy

if TYPE_CHECKING:
    from azure.core.pipeline.transport import HttpTransport

_EMULATOR_BASE_URL = "https://management.azure.com"
_POLLING_INTERVAL = 5  # only used by SDK pollers when ARM sends no Retry-After
CONNECT_TIMEOUT = 10  # seconds to open a connection to Resource Manager
READ_TIMEOUT = 60  # seconds to wait for bytes of a response (a page of 100 VMs is far quicker)

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}
_credentials: dict[str, TokenCredential] = {}
_emulators: dict[str, tuple[Any, HttpTransport[Any, Any]]] = {}
_default_transport: HttpTransport[Any, Any] | None = None


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


def emulator() -> Any:
    """The emulator behind ``AZURE_EMULATOR_STATE`` (for the demo seed and management commands)."""
    return _emulator_and_transport(current())[0]


def _credential(config: GatewayConfig) -> TokenCredential:
    if config.mode == EMULATOR:
        from contoso_images.azure.emulator_transport import StaticCredential

        return StaticCredential()  # a fixed token: the emulator checks none
    with _lock:
        if config.authority not in _credentials:
            from azure.identity import DefaultAzureCredential

            _credentials[config.authority] = DefaultAzureCredential(authority=config.authority)
        return _credentials[config.authority]


def _client_kwargs(config: GatewayConfig, transport: Any) -> dict[str, Any]:
    if transport is None:
        transport = _default_transport
    if transport is None and config.mode == EMULATOR:
        transport = _emulator_and_transport(config)[1]
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
        kwargs["connection_timeout"] = CONNECT_TIMEOUT
        kwargs["read_timeout"] = READ_TIMEOUT
    else:
        kwargs["base_url"] = _EMULATOR_BASE_URL
    return kwargs


def _cached(key: tuple[Any, ...], build: Any) -> Any:
    with _lock:
        client = _clients.get(key)
    if client is None:
        client = build()
        with _lock:
            client = _clients.setdefault(key, client)
    return client


def compute_client(subscription_id: str, *, transport: Any = None) -> ComputeManagementClient:
    """A cached ``ComputeManagementClient`` for one subscription in the configured mode."""
    config = current()
    key = ("compute", subscription_id, config, id(transport), id(_default_transport))
    return _cached(
        key,
        lambda: ComputeManagementClient(
            _credential(config), subscription_id, **_client_kwargs(config, transport)
        ),
    )


def subscription_client(*, transport: Any = None) -> SubscriptionClient:
    """A cached ``SubscriptionClient`` (subscriptions and their regions)."""
    config = current()
    key = ("subscriptions", config, id(transport), id(_default_transport))
    return _cached(
        key, lambda: SubscriptionClient(_credential(config), **_client_kwargs(config, transport))
    )


def set_default_transport(transport: HttpTransport[Any, Any] | None) -> None:
    """Make every client built from now on use ``transport`` (``None``: back to the mode's own)."""
    global _default_transport
    _default_transport = transport
    clear_client_cache()


@contextmanager
def use_transport(transport: HttpTransport[Any, Any]) -> Iterator[HttpTransport[Any, Any]]:
    """Within the block, clients are built on ``transport`` (tests, fault injection)."""
    previous = _default_transport
    set_default_transport(transport)
    try:
        yield transport
    finally:
        set_default_transport(previous)


def clear_client_cache() -> None:
    """Forget cached clients, transports and emulator handles (after settings change)."""
    with _lock:
        _clients.clear()
        _emulators.clear()
