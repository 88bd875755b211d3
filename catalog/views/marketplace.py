"""The Marketplace pages: the popular images, a level-by-level browse, an image's detail and
adding it to the catalog. Every level is one ARM request the first time and cached after."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from catalog import cli, services
from catalog.aliases import POPULAR
from catalog.choices import REVIEW_PERMISSION, VIEW_PERMISSION, ImageKind
from catalog.forms import MarketplaceAddForm, MarketplaceBrowseForm
from catalog.models import CatalogImage
from catalog.services.marketplace import (
    LATEST,
    UnknownRegion,
    default_region,
    marketplace_key,
    search,
)
from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.core.htmx import is_partial

#: Names shown per level; the rest are reached by searching (the real Marketplace has
#: thousands of publishers).
SHOWN = 200
#: Regions offered in the picker (any other can be typed in the address).
REGIONS = (
    "westeurope",
    "northeurope",
    "uksouth",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "eastus",
    "eastus2",
    "centralus",
    "westus2",
    "westus3",
    "canadacentral",
    "southeastasia",
    "japaneast",
    "australiaeast",
)


def _browse_params(request: HttpRequest) -> dict[str, str]:
    form = MarketplaceBrowseForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    params = {k: str(data.get(k) or "").strip() for k in ("location", "publisher", "offer", "sku")}
    params["location"] = (params["location"] or default_region()).lower()
    if not params["publisher"]:
        params["offer"] = params["sku"] = ""
    elif not params["offer"]:
        params["sku"] = ""
    params["q"] = str(data.get("q") or "").strip()
    return params


def _link(**params: str) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v})


def _crumbs(params: dict[str, str]) -> list[tuple[str, str]]:
    """(label, link) from the region's publishers down to the current level."""
    location = params["location"]
    crumbs = [("Publishers", _link(location=location))]
    if params["publisher"]:
        crumbs.append(
            (params["publisher"], _link(location=location, publisher=params["publisher"]))
        )
    if params["offer"]:
        crumbs.append(
            (
                params["offer"],
                _link(location=location, publisher=params["publisher"], offer=params["offer"]),
            )
        )
    if params["sku"]:
        crumbs.append((params["sku"], ""))
    return crumbs


def _level_context(params: dict[str, str]) -> dict[str, Any]:
    """One level of the browse, read from the cache or Azure (one request)."""
    context: dict[str, Any] = {
        "params": params,
        "crumbs": _crumbs(params),
        "azure_error": None,
        "status": 200,
    }
    try:
        level = services.marketplace_level(
            subscription_id=services.marketplace_subscription(),
            location=params["location"],
            publisher=params["publisher"],
            offer=params["offer"],
            sku=params["sku"],
        )
    except (azure.AzureError, ActionRefused) as exc:
        context.update(level=None, items=[], total=0, more=0)
        context["azure_error"] = getattr(exc, "sentence", str(exc))
        # The page says what went wrong either way; only a region that does not exist is the
        # asker's mistake worth a status (an htmx partial keeps 200 so its sentence swaps in).
        context["status"] = 400 if isinstance(exc, UnknownRegion) else 200
        return context
    matches = search(level.items, params["q"])
    items = []
    for name in matches[:SHOWN]:
        child = {**params, "q": ""}
        if level.name == "publishers":
            child["publisher"] = name
        elif level.name == "offers":
            child["offer"] = name
        elif level.name == "skus":
            child["sku"] = name
        items.append({"name": name, "link": _link(**child)})
    context.update(
        level=level,
        items=items,
        total=len(matches),
        more=max(0, len(matches) - SHOWN),
        image_link=_image_link(params) if level.name == "versions" else "",
    )
    return context


def _status(exc: Exception) -> int:
    """The asker's mistakes are 400 (an unknown region) and 404 (no such image); an image
    without versions there is a 404 too; only Azure's own failures are 502."""
    if isinstance(exc, UnknownRegion):
        return 400
    if isinstance(exc, ActionRefused):
        return 404
    if isinstance(exc, azure.AzureError) and exc.is_not_found:
        return 404
    return 502


def _image_link(params: dict[str, str], version: str = "") -> str:
    base = reverse("catalog:marketplace_image")
    return base + _link(
        location=params["location"],
        publisher=params["publisher"],
        offer=params["offer"],
        sku=params["sku"],
        version=version,
    )


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def marketplace_index(request: HttpRequest) -> HttpResponse:
    """The popular images, and the browse of the current level (drilled down with htmx)."""
    params = _browse_params(request)
    context = _level_context(params)
    status = context["status"]
    if is_partial(request, "mp-items"):
        return render(request, "catalog/marketplace.html#mp-items", context)
    if is_partial(request, "mp-browse"):
        return render(request, "catalog/marketplace.html#mp-browse", context)
    in_catalog = set(
        CatalogImage.objects.filter(
            kind=ImageKind.MARKETPLACE,
            resource_key__in=[
                marketplace_key(a.publisher, a.offer, a.sku, a.version) for a in POPULAR
            ],
        ).values_list("resource_key", flat=True)
    )
    popular = [
        {
            "alias": alias,
            "in_catalog": marketplace_key(alias.publisher, alias.offer, alias.sku, alias.version)
            in in_catalog,
            "link": reverse("catalog:marketplace_image")
            + _link(
                location=params["location"],
                publisher=alias.publisher,
                offer=alias.offer,
                sku=alias.sku,
                version=alias.version,
            ),
        }
        for alias in POPULAR
    ]
    context.update(popular=popular, regions=REGIONS)
    return render(request, "catalog/marketplace.html", context, status=status)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def marketplace_image(request: HttpRequest) -> HttpResponse:
    """One Marketplace image: OS, generation, architecture, plan, deprecation; add it."""
    params = _browse_params(request)
    version = (request.GET.get("version") or LATEST).strip()[:64]
    context: dict[str, Any] = {"params": params, "version": version, "crumbs": _crumbs(params)}
    if not (params["publisher"] and params["offer"] and params["sku"]):
        return redirect(reverse("catalog:marketplace_index") + _link(location=params["location"]))
    try:
        image = services.marketplace_image_detail(
            subscription_id=services.marketplace_subscription(),
            location=params["location"],
            publisher=params["publisher"],
            offer=params["offer"],
            sku=params["sku"],
            version=version,
        )
    except (azure.AzureError, ActionRefused) as exc:
        context["azure_error"] = getattr(exc, "sentence", str(exc))
        return render(request, "catalog/marketplace_image.html", context, status=_status(exc))
    key = marketplace_key(params["publisher"], params["offer"], params["sku"], version)
    entry = CatalogImage.objects.filter(resource_key=key).first()
    preview = CatalogImage(
        kind=ImageKind.MARKETPLACE,
        publisher=params["publisher"],
        offer=params["offer"],
        sku=params["sku"],
        version=version,
        location=params["location"],
        plan=image.plan,
    )
    context.update(
        image=image,
        entry=entry,
        commands=cli.create_vm_commands(preview),
        can_review=request.user.has_perm(REVIEW_PERMISSION),
    )
    return render(request, "catalog/marketplace_image.html", context)


@require_POST
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def marketplace_add(request: HttpRequest) -> HttpResponse:
    """Add a Marketplace image (a pinned version or "latest") to the catalog."""
    form = MarketplaceAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the region, publisher, offer and SKU of the image.")
        return redirect("catalog:marketplace_index")
    data = form.cleaned_data
    try:
        entry, created = services.marketplace_entry_add(
            user=request.user,
            location=data["location"],
            publisher=data["publisher"],
            offer=data["offer"],
            sku=data["sku"],
            version=data["version"] or LATEST,
            approve=data["approve"],
            note=data["note"],
        )
    except ActionRefused as exc:
        messages.error(request, str(exc))
        return redirect(
            reverse("catalog:marketplace_image")
            + _link(**{k: data[k] for k in ("location", "publisher", "offer", "sku", "version")})
        )
    if created:
        messages.success(request, f"{entry.name} is now in the catalog.")
    else:
        messages.info(request, f"{entry.name} was already in the catalog.")
    return redirect("catalog:image_detail", pk=entry.pk)
