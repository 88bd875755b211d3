"""The sign-in page, the Entra ID sign-in's start and callback, and sign-out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from contoso_images.accounts import config, refusals, roles, services
from contoso_images.accounts.forms import LocalAuthenticationForm
from contoso_images.accounts.refusals import SignInRefused


class SignInView(LoginView):
    """ "Sign in with Microsoft" first when Entra ID is configured; the local form below it,
    or, with ``LOCAL_LOGIN=false``, only behind "Break-glass account" (``?local=1``)."""

    template_name = "registration/login.html"
    authentication_form = LocalAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entra_on = config.entra() is not None
        local_on = bool(getattr(settings, "LOCAL_LOGIN", True))
        asked = self.request.GET.get("local") == "1" or self.request.method == "POST"
        next_url = self.get_redirect_url()
        start = reverse("accounts:start")
        context.update(
            entra_configured=entra_on,
            local_login=local_on,
            show_local_form=local_on or asked or not entra_on,
            entra_start_url=f"{start}?{urlencode({'next': next_url})}" if next_url else start,
        )
        return context


def _safe_next(request: HttpRequest) -> str:
    wanted = request.GET.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""


def _refused(
    request: HttpRequest, refused: SignInRefused, *, status: int = 403, recorded: bool = True
) -> HttpResponse:
    cfg = config.entra()
    context = {
        "refused": refused,
        "recorded": recorded,
        "no_role": refused.reason in (refusals.NO_ROLE, refusals.GROUPS_OVERAGE),
        "roles": roles.what_to_ask_for(cfg) if cfg else [],
        "switch_url": f"{reverse('accounts:start')}?switch=1",
    }
    return render(request, "registration/entra_refused.html", context, status=status)


@login_not_required
@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the tenant's sign-in page (PKCE, state and nonce by MSAL)."""
    if config.entra() is None:
        raise Http404("Sign-in with Microsoft is not set up here.")
    prompt = "select_account" if request.GET.get("switch") else None
    try:
        authorize_url = services.begin(request, _safe_next(request), prompt=prompt)
    except SignInRefused as refused:
        return _refused(request, refused, status=503, recorded=False)
    return redirect(authorize_url)


@login_not_required
@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The redirect URI: the tenant's answer (a code, or an error) comes back here."""
    if config.entra() is None:
        raise Http404("Sign-in with Microsoft is not set up here.")
    try:
        signed_in = services.complete(request)
    except SignInRefused as refused:
        services.record_refusal(request, refused)
        return _refused(request, refused)
    return redirect(signed_in.next_url or settings.LOGIN_REDIRECT_URL)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the dashboard's session; after an Entra ID sign-in, offer the tenant's too
    (the Microsoft account stays signed in on this browser otherwise, for every app)."""
    tenant_url = services.tenant_sign_out_url(request)
    logout(request)
    if tenant_url:
        return render(request, "registration/logged_out.html", {"tenant_sign_out_url": tenant_url})
    return redirect(settings.LOGOUT_REDIRECT_URL)
