from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from contoso_images.core.health import health_report


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the first section their role can see."""
    user = request.user
    if user.has_perm("vmops.view_virtualmachine"):
        return redirect("vmops:vm_list")
    if user.has_perm("catalog.view_catalog"):
        return redirect("catalog:catalog_index")
    if user.has_perm("audit.view_audit"):
        return redirect("audit:audit_index")
    return render(request, "no_role.html", status=403)


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and operators: no login, no secrets, 503 when unhealthy."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
