"""Middleware that keeps htmx requests and sign-in working together."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a signed-in user unless its view is marked `login_not_required`."""


class HtmxRedirectMiddleware:
    """Turn redirects answering htmx requests into HX-Redirect.

    Otherwise the XHR follows a 302 (for example to the sign-in page after the session
    expired) and htmx swaps a whole login page into a table row (STACK.md, pitfall 15).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and not request.htmx.boosted
            and response.status_code in (301, 302, 303, 307, 308)
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response
