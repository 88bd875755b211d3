"""Request helpers every app's views share: going back safely, and rebuilding query strings.

Written once because each is easy to get subtly wrong: a ``next`` that is a URL name or an
absolute URL to another host must never be followed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` path posted with a form (or in the query), if it is a path on this site;
    else ``fallback``.

    Only paths count: ``redirect("vms")`` would look "vms" up as a URL name (a 500 after the
    action was queued) and "logout" would resolve to the sign-out page.
    """
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to :func:`safe_next` (after a POST from a page that asked to come back)."""
    return HttpResponseRedirect(safe_next(request, fallback))


def querystring(request: HttpRequest, *, drop: tuple[str, ...] = ("page",)) -> str:
    """The request's query string without ``drop`` (links that change one of them)."""
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()
