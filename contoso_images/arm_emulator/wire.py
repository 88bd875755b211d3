"""The emulator's view of one HTTP exchange: parsed request, response, request context.

Kept free of SQL and of Azure rules so every handler sees the same small types.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ArmError, invalid_body
from .state import Store

ARM_HOST = "https://management.azure.com"


@dataclass
class ArmRequest:
    """A request as the router sees it: path segments are still URL-encoded."""

    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes | None
    # ``scheme://host[:port]`` the request was sent to, lower-cased (empty if not known).
    origin: str = ""

    @classmethod
    def parse(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> ArmRequest:
        parts = urlsplit(url)
        # ARM treats query parameter names case-insensitively; the last value wins.
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        origin = f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""
        return cls(
            method.upper(), parts.path.rstrip("/") or "/", parts.query, query, headers, body, origin
        )

    @property
    def path_and_query(self) -> str:
        return self.path + (f"?{self.raw_query}" if self.raw_query else "")

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")

    def json(self) -> dict[str, Any]:
        """The JSON object body, or 400 InvalidParameter."""
        if not self.body:
            raise invalid_body("the request body is empty.")
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise invalid_body(str(exc)) from exc
        if not isinstance(data, dict):
            raise invalid_body("a JSON object was expected.")
        return data

    def flag(self, name: str) -> bool:
        return self.query.get(name.lower(), "").lower() == "true"


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(payload).encode(),
    )


def error_response(err: ArmError) -> Response:
    return Response(
        err.status,
        {
            "Content-Type": "application/json; charset=utf-8",
            "x-ms-error-code": err.code,
            **err.headers,
        },
        err.body(),
    )


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Ctx:
    """What a handler needs besides the request: the store and the settled 'now'."""

    store: Store
    now: float
    durations: dict[str, float]
    page_size: int
