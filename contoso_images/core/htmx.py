"""The one helper every view uses to tell a partial (htmx) request from a page request."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """An ``HttpRequest`` as django-htmx's middleware leaves it (for type checkers)."""

    htmx: HtmxDetails


def is_partial(request: HttpRequest, target: str) -> bool:
    """True when htmx asks for the fragment whose id is ``target``.

    Boosted requests want whole pages, so they never count as partial.
    """
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted and htmx.target == target


def current_page(request: HttpRequest) -> str:
    """The page the user is on: the browser's URL for htmx requests, else this request's."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return (htmx.current_url_abs_path if htmx else None) or request.get_full_path()


def since_param(request: HttpRequest) -> datetime | None:
    """The ``since`` a status poll carries (when its sync was asked for); None when missing
    or not a time, so a tampered poll shows the last sync instead of failing."""
    try:
        since = datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return None
    return since.replace(tzinfo=UTC) if since.tzinfo is None else since
