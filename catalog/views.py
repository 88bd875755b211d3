from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@permission_required("catalog.view_catalog", raise_exception=True)
def catalog_index(request: HttpRequest) -> HttpResponse:
    """The image catalog; its Marketplace and custom-image review pages come in a later issue."""
    return render(request, "catalog/catalog_index.html")
