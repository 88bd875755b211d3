"""The session's role check: a removed role stops working within ``ENTRA_ROLES_MAX_AGE``.

For a session opened through Entra ID, once its roles are older than ``ENTRA_ROLES_MAX_AGE``
minutes, the request first asks the tenant again (services.recheck: the sealed refresh
token for a new ID token, checked like the first). New roles apply at once; a role taken
away in the tenant is taken away here. When the tenant refuses (the person was deleted,
their sessions revoked, they hold no role any more) the session ends here too: the role
groups are removed, the refusal recorded, and the person is sent to the sign-in page with
the reason (an htmx request gets HX-Redirect from the middleware around this one).

If the tenant cannot be reached the session goes on, on the roles it has, for up to one
more ``ENTRA_ROLES_MAX_AGE`` (an outage of the login service should not sign everyone out
mid-task); after that it ends as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse

from contoso_images.accounts import refusals, services
from contoso_images.accounts.refusals import SignInRefused
from contoso_images.core.users import signed_in

logger = logging.getLogger(__name__)


class EntraSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if services.check_due(request) and request.path not in _exempt_paths():
            ended = self._check(request)
            if ended is not None:
                return ended
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        try:
            services.recheck(request)
        except SignInRefused as refused:
            if refused.reason == refusals.UNREACHABLE and services.within_grace(request):
                logger.warning("Entra ID role check postponed: %s", refused.detail)
                return None
            return self._end(request, refused)
        return None

    def _end(self, request: HttpRequest, refused: SignInRefused) -> HttpResponse:
        services.strip_roles(signed_in(request.user), refused)
        services.record_refusal(request, refused, action="auth.entra.session_ended")
        path = request.get_full_path()
        logout(request)
        messages.error(request, f"You were signed out. {refused.sentence}")
        login_url = resolve_url(settings.LOGIN_URL)
        return HttpResponseRedirect(f"{login_url}?{urlencode({'next': path})}")


def _exempt_paths() -> set[str]:
    """Signing out and signing in again need no role check."""
    return {reverse("logout"), reverse("accounts:callback"), reverse("accounts:start")}
