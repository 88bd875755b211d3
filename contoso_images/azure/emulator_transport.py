"""Plugging the ARM emulator into the real SDK as an azure-core transport.

A ``requests`` session with an adapter mounted on ``https://management.azure.com/`` (and on
``https://prices.azure.com/``, the public Retail Prices API the emulator also answers)
hands each request to :meth:`Emulator.handle` — no sockets, the base URL and bearer
policy stay untouched, and continuation tokens (absolute URLs) can be resumed by any
process that opens the same state file. Every other host is refused, so nothing can
leak to real Azure. ``EmulatorTransport.sleep`` caps LRO/retry waits: 0 when all
durations are 0 (tests never sleep), else one second (the demo polls every second).
"""

from __future__ import annotations

import io
import time
from typing import Any

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

from contoso_images.arm_emulator import ARM_HOST, PRICES_HOST, Emulator

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class EmulatorAdapter(BaseAdapter):
    """A requests adapter that answers from an :class:`Emulator` instead of the network."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__()
        self.emulator = emulator

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        elif body is not None and not isinstance(body, bytes):
            body = b"".join(body)  # an iterable of chunks
        status, headers, data = self.emulator.handle(
            request.method or "GET", request.url or "", dict(request.headers), body
        )
        raw = HTTPResponse(
            body=io.BytesIO(data),
            headers=headers,
            status=status,
            reason=_REASONS.get(status, ""),
            preload_content=False,
        )
        resp = requests.Response()
        resp.status_code = status
        resp.headers = CaseInsensitiveDict(headers)
        resp.raw = raw
        resp.reason = _REASONS.get(status, "")
        resp.url = request.url or ""
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        """Nothing to release: there is no connection pool."""


class _RefuseAdapter(BaseAdapter):
    """Any host but ARM and Retail Prices: refuse, so an emulated client can never reach the
    network."""

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        raise requests.exceptions.ConnectionError(
            f"The ARM emulator transport only serves {ARM_HOST} and {PRICES_HOST}; "
            f"refused {request.url}"
        )

    def close(self) -> None:
        """Nothing to release."""


class EmulatorTransport(RequestsTransport):  # type: ignore[misc]  # azure-core is untyped here
    """An azure-core ``HttpTransport`` backed by an :class:`Emulator`."""

    def __init__(
        self, emulator: Emulator | None = None, *, path: Any = None, **kwargs: Any
    ) -> None:
        self.emulator = emulator if emulator is not None else Emulator(path)
        session = requests.Session()
        session.trust_env = False
        session.mount("http://", _RefuseAdapter())
        session.mount("https://", _RefuseAdapter())
        session.mount(f"{ARM_HOST}/", EmulatorAdapter(self.emulator))
        # The Retail Prices API's NextPageLink names the default port (prices.azure.com:443).
        session.mount(f"{PRICES_HOST}/", EmulatorAdapter(self.emulator))
        session.mount(f"{PRICES_HOST}:443/", EmulatorAdapter(self.emulator))
        super().__init__(session=session, session_owner=False, use_env_settings=False, **kwargs)

    def sleep(self, duration: float) -> None:
        cap = self.emulator.poll_sleep_cap()
        if cap > 0 and duration > 0:
            time.sleep(min(duration, cap))


class StaticCredential:
    """A fake token credential: the emulator accepts any bearer token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("emulator-token", int(time.time()) + 3600 * 24)


def emulated_compute_client(subscription_id: str | None = None, **client_kwargs: Any) -> Any:
    """A ``ComputeManagementClient`` wired to the configured state file.

    Seeds the Contoso pilot if the file is empty; uses the first seeded subscription
    when ``subscription_id`` is None. Extra keyword arguments go to the client."""
    from azure.mgmt.compute import ComputeManagementClient

    emulator = Emulator()
    if emulator.is_empty():
        emulator.seed_contoso_pilot()
    sub = subscription_id or emulator.subscription_ids()[0]
    return ComputeManagementClient(
        StaticCredential(), sub, transport=EmulatorTransport(emulator), **client_kwargs
    )
