"""The audit pages. Thin: parse, check permission, call a selector, render."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from contoso_images.operations.selectors import operation_log

PAGE_SIZE = 50


@require_GET
@permission_required("audit.view_audit", raise_exception=True)
def audit_index(request: HttpRequest) -> HttpResponse:
    """The operations log: who asked for what, on which resource, when, and how it ended."""
    page = Paginator(operation_log(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/audit_index.html", {"page": page})
