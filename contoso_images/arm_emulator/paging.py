"""ARM paging: ``{"value": [...], "nextLink": <absolute URL>}``.

The SDK follows ``nextLink`` verbatim and does not re-add ``api-version``, so the link
is absolute and carries every original query parameter plus a
``$skiptoken``. The token is the last ``seq`` of the page (keyset paging: each page is
one indexed range query, whatever the number of VMs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote

from .errors import invalid_parameter
from .state import Resource
from .wire import ARM_HOST, ArmRequest, Ctx, Response, json_response

SKIP = "$skiptoken"


def after_seq(req: ArmRequest) -> int:
    token = req.query.get(SKIP.lower(), "")
    if not token:
        return 0
    if not token.isdigit():
        raise invalid_parameter(f"The skip token '{token}' is not valid.", target=SKIP)
    return int(token)


def next_link(req: ArmRequest, last_seq: int) -> str:
    pairs = [
        (k, v)
        for k, v in parse_qsl(req.raw_query, keep_blank_values=True)
        if k.lower() != SKIP.lower()
    ]
    pairs.append((SKIP, str(last_seq)))
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in pairs)
    return f"{ARM_HOST}{req.path}?{query}"


def paged(
    ctx: Ctx,
    req: ArmRequest,
    fetch: Callable[[int, int], list[Resource]],
    render: Callable[[Resource], dict[str, Any]],
) -> Response:
    """One page: ``fetch(after, limit)`` must return rows ordered by ``seq``."""
    size = ctx.page_size
    rows = fetch(after_seq(req), size + 1)
    page = rows[:size]
    payload: dict[str, Any] = {"value": [render(r) for r in page]}
    if len(rows) > size:
        payload["nextLink"] = next_link(req, page[-1].seq)
    return json_response(200, payload)
