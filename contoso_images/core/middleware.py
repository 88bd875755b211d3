"""Middleware that keeps htmx requests and sign-in working together."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from contoso_images.core import failures


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
    """Turn redirects answering htmx requests into HX-Redirect, and say when a click went to
    sign-in instead of being carried out.

    Otherwise the XHR follows a 302 (for example to the sign-in page after the session
    expired) and htmx swaps a whole login page into a table row. After signing in, the
    person returns to the page they were on, not to the fragment URL.

    A click that changes something (a POST, not a GET) and is answered with
    sign-in was not carried out: the sign-in page says so, and its ``next`` carries a flag
    (``failures.NOT_SENT``) so that the page says it again once the person is signed in.
    """

    SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
    REDIRECTS = (301, 302, 303, 307, 308)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        back = self._back_from_sign_in(request)
        if back is not None:
            return back
        # Only a click from someone not signed in (any more) was refused for want of a
        # session; a signed-in person's POST that ends at sign-in (sign-out) was carried out.
        user = getattr(request, "user", None)
        was_signed_in = bool(user is not None and user.is_authenticated)
        response = self.get_response(request)
        htmx: HtmxDetails | None = getattr(request, "htmx", None)
        partial = htmx is not None and bool(htmx) and not htmx.boosted
        if response.status_code not in self.REDIRECTS:
            return response
        location = response["Location"]
        if (
            request.method not in self.SAFE_METHODS
            and not was_signed_in
            and self._is_sign_in(location)
        ):
            messages.warning(request, failures.NOT_SENT_ON_SIGN_IN)
            page = failures.with_not_sent(self._page(request, htmx, partial))
            to_sign_in = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}"
            if partial:
                return HttpResponseClientRedirect(to_sign_in)
            return HttpResponseRedirect(to_sign_in)
        if partial and htmx is not None:
            return HttpResponseClientRedirect(self._location(htmx, location))
        return response

    @staticmethod
    def _is_sign_in(location: str) -> bool:
        return urlsplit(location).path == resolve_url(settings.LOGIN_URL)

    @staticmethod
    def _page(request: HttpRequest, htmx: HtmxDetails | None, partial: bool) -> str:
        """The page the click came from: the browser's URL for htmx, the Referer of a form
        from this site, else the URL posted to."""
        if partial and htmx is not None and htmx.current_url_abs_path:
            return htmx.current_url_abs_path
        referer = request.headers.get("Referer", "")
        if referer and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            parts = urlsplit(referer)
            return urlunsplit(("", "", parts.path or "/", parts.query, ""))
        return request.get_full_path()

    @staticmethod
    def _back_from_sign_in(request: HttpRequest) -> HttpResponse | None:
        """Signed in again after a click that was not sent: say so once, on the clean URL."""
        user = getattr(request, "user", None)
        if (
            request.method != "GET"
            or failures.NOT_SENT not in request.GET
            or user is None
            or not user.is_authenticated
        ):
            return None
        messages.warning(request, failures.NOT_SENT_AFTER_SIGN_IN)
        return HttpResponseRedirect(failures.without_not_sent(request.get_full_path()))

    @staticmethod
    def _location(htmx: HtmxDetails, location: str) -> str:
        """After signing in, return to the page the user was on, not to the fragment URL."""
        page = htmx.current_url_abs_path
        login_path = resolve_url(settings.LOGIN_URL)
        if not page or not location.startswith(login_path):
            return location
        return f"{login_path}?{urlencode({'next': page})}"
