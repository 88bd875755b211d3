"""Middleware that keeps htmx requests and sign-in working together."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a signed-in user unless its view is marked `login_not_required`.

    What a signed-in user is shown is theirs alone: it is marked ``private, no-store`` so no
    shared proxy keeps it and the browser's back button after signing out does not show it.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class HtmxRedirectMiddleware:
    """Turn redirects answering htmx requests into HX-Redirect.

    Otherwise the XHR follows a 302 (for example to the sign-in page after the session
    expired) and htmx swaps a whole login page into a table row.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx: HtmxDetails | None = getattr(request, "htmx", None)
        if htmx and not htmx.boosted and response.status_code in (301, 302, 303, 307, 308):
            return HttpResponseClientRedirect(self._location(htmx, response["Location"]))
        return response

    @staticmethod
    def _location(htmx: HtmxDetails, location: str) -> str:
        """After signing in, return to the page the user was on, not to the fragment URL."""
        page = htmx.current_url_abs_path
        login_path = resolve_url(settings.LOGIN_URL)
        if not page or not location.startswith(login_path):
            return location
        return f"{login_path}?{urlencode({'next': page})}"
