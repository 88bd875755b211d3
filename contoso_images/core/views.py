from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from contoso_images.core.health import health_report


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the section of their work: operators to the VMs, managers to the
    catalog they review, admins to the audit log (then whatever else they may see)."""
    user = request.user
    for permission, section in (
        ("vmops.operate_virtualmachine", "vmops:vm_list"),
        ("catalog.review_image", "catalog:catalog_index"),
        ("audit.view_audit", "audit:audit_index"),
        ("vmops.view_virtualmachine", "vmops:vm_list"),
        ("catalog.view_catalog", "catalog:catalog_index"),
    ):
        if user.has_perm(permission):
            return redirect(section)
    return render(request, "no_role.html", status=403)


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and operators: no login, no secrets, 503 when unhealthy."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
