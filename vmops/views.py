from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
def vm_list(request: HttpRequest) -> HttpResponse:
    return render(request, "vmops/vm_list.html")


@require_GET
@permission_required("vmops.view_audit", raise_exception=True)
def audit_index(request: HttpRequest) -> HttpResponse:
    return render(request, "vmops/audit_index.html")
