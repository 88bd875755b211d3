from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from contoso_images.core.health import health_report
from contoso_images.core.logging import health_answered
from contoso_images.core.navigation import home_url_name


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the section of their work (operators to the VMs, managers to the
    catalog they review, admins to the audit log, then whatever else they may see), as the
    apps registered it in `navigation`."""
    url_name = home_url_name(request.user)
    if url_name is None:
        return render(request, "no_role.html", status=403)
    return redirect(url_name)


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and operators: no login, no secrets, 503 when unhealthy."""
    report = health_report()
    # A 503 only because no heartbeat came yet is expected: not logged as an error.
    health_answered(
        starting=not report["ok"]
        and report["database"]["ok"]
        and bool(report["cluster"].get("starting"))
    )
    return JsonResponse(report, status=200 if report["ok"] else 503)


#: What a person is told when the CSRF check of their click fails (usually: they signed in
#: again in another tab, and Django rotated the token this page still carries).
CSRF_FAILED = (
    "Your session changed (signed in again in another tab?); reload the page and try again."
)
#: The attribute the audit middleware reads for the reason of a 403 (core cannot import audit).
_AUDIT_REASON_ATTRIBUTE = "_audit_denied_reason"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: still a 403, but one the page can tell from a role refusal.

    An htmx click gets the sentence as text/plain (app.js shows it on the row) and the
    ``X-Refusal: csrf`` header; a plain form post gets Django's own page. Either way the
    audit record says why, not just "Forbidden".
    """
    setattr(request, _AUDIT_REASON_ATTRIBUTE, f"CSRF check failed: {reason} Nothing was sent.")
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(CSRF_FAILED, status=403, content_type="text/plain; charset=utf-8")
    else:
        response = django_csrf_failure(request, reason=reason)
    response["X-Refusal"] = "csrf"
    return response
