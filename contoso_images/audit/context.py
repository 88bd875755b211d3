"""Who is asking, from where: the request being served, and its client's address.

The middleware binds the request for the length of its handling, so events recorded deep in
a service (an operation's "requested" listener) still know the client address without every
caller passing the request down.

The address is REMOTE_ADDR unless that is one of ``AUDIT_TRUSTED_PROXIES``; only then is
X-Forwarded-For read, right to left, skipping the trusted proxies, and the first address
that is not one of them is the client. A client can put anything in the header, but only
the part the trusted proxies appended is believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Acting:
    """Who changes users, groups or permissions when the request's user does not say it: the
    Entra ID sign-in grants the roles of the person signing in (``via`` names the path, and
    ``parameters`` what the record keeps with each change)."""

    actor: Any
    via: str
    parameters: dict[str, Any]


_acting: ContextVar[Acting | None] = ContextVar("audit_acting", default=None)


@contextmanager
def acting(actor: Any, via: str, **parameters: Any) -> Iterator[None]:
    """Changes of access made inside the block are recorded as ``actor``'s, made ``via``."""
    token = _acting.set(Acting(actor, via, parameters))
    try:
        yield
    finally:
        _acting.reset(token)


def current_acting() -> Acting | None:
    return _acting.get()


@dataclass
class RequestContext:
    request: HttpRequest
    #: Set once a refusal was recorded for this request, so its 403 is not recorded twice.
    refusal_recorded: bool = False


_current: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def bind(request: HttpRequest) -> Token[RequestContext | None]:
    return _current.set(RequestContext(request))


def unbind(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def current() -> RequestContext | None:
    return _current.get()


def current_request() -> HttpRequest | None:
    ctx = _current.get()
    return ctx.request if ctx else None


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"AUDIT_TRUSTED_PROXIES holds {entry!r}, not an address") from exc
    return tuple(networks)


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "AUDIT_TRUSTED_PROXIES", ()) or ()))


def _parse(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address as far as it can be believed ("" when unknown)."""
    remote = _parse(request.META.get("REMOTE_ADDR", "") or "")
    if remote is None:
        return ""
    networks = trusted_networks()
    if not networks or not _trusted(remote, networks):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") or ""
    client = remote
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _parse(hop)
        if address is None:
            # Garbage where an address should be: believe only the proxy that passed it on.
            return str(client)
        client = address
        if not _trusted(address, networks):
            return str(address)
    return str(client)


def user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:300]


def request_user(request: HttpRequest | None) -> Any:
    """The signed-in user of a request, or None."""
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None
