"""The catalog page, an image's page, its row, and review decisions. Thin: parse, check
permission, call a selector or service, render."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from catalog import cli, columns, rows, selectors, services
from catalog.choices import REPLICATE_PERMISSION, REVIEW_PERMISSION, VIEW_PERMISSION
from catalog.decisions import DECISIONS, decision_spec
from catalog.forms import CatalogFilterForm, ReplicationForm, ReviewForm
from catalog.models import CatalogImage, ReviewDecision
from catalog.services.marketplace import subscription_regions
from catalog.services.replication import replication_change
from catalog.services.sync import CATALOG
from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.core.htmx import HtmxHttpRequest, current_page, is_partial
from contoso_images.core.http import querystring, redirect_back
from contoso_images.core.sync import kind_get, sync_status
from contoso_images.core.users import Person
from contoso_images.operations.models import Operation

PAGE_SIZE = 50


def _row(
    request: HttpRequest,
    image: CatalogImage,
    operation: Operation | None,
    effect: ReviewDecision | None,
) -> rows.ImageRow:
    return rows.image_row(
        image,
        operation,
        effect,
        can_review=request.user.has_perm(REVIEW_PERMISSION),
        image_base=rows.image_base(),
        candidates=selectors.latest_candidates([image]),
    )


def _get_image(request: HttpRequest, pk: int) -> CatalogImage:
    try:
        return selectors.image_get(user=request.user, pk=pk)
    except CatalogImage.DoesNotExist:
        raise Http404("There is no image with this id in the catalog.") from None


# --- The catalog page ------------------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def catalog_index(request: HttpRequest) -> HttpResponse:
    """Every catalog entry, filterable, searchable, sortable and paginated."""
    choices = selectors.catalog_filter_choices(user=request.user)
    overview = selectors.catalog_overview(user=request.user)
    form = CatalogFilterForm(request.GET, choices=choices, awaiting=overview.awaiting)
    filters, sort = form.filters(), form.sort_order()
    listed_by = selectors.effective_sort(filters, sort)
    images = selectors.catalog_list(user=request.user, filters=filters, sort=listed_by)
    page = Paginator(images, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page)
    unfinished = selectors.unfinished_operations(shown)
    effects = selectors.last_effects(shown)
    candidates = selectors.latest_candidates(shown)
    can_review = request.user.has_perm(REVIEW_PERMISSION)
    next_url = current_page(request)
    image_base = rows.image_base()
    image_rows = [
        rows.image_row(
            image,
            unfinished.get(image.pk),
            effects.get(image.pk),
            can_review=can_review,
            image_base=image_base,
            candidates=candidates,
        )
        for image in shown
    ]
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows": image_rows,
        "definitions_without_latest": {d for d, n in candidates.items() if n == 0},
        "sort": sort,
        "grouped": listed_by == "grouped",
        "columns": columns.header_cells(
            sort=listed_by, querystring=querystring(request, drop=("page", "sort"))
        ),
        "querystring": querystring(request, drop=("page",)),
        "can_review": can_review,
        "bulk_decisions": DECISIONS,
        "next_url": next_url,
        "overview": overview,
        "sync": sync_status(CATALOG, user=request.user),
        "may_refresh": may_refresh(request.user),
    }
    if is_partial(request, "catalog-listing"):
        return render(request, "catalog/catalog_index.html#catalog-listing", context)
    return render(request, "catalog/catalog_index.html", context)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def catalog_overview(request: HtmxHttpRequest) -> HttpResponse:
    """The tiles alone, reloaded when a decision or a sync changed the catalog."""
    if not request.htmx:
        return redirect("catalog:catalog_index")
    context = {"overview": selectors.catalog_overview(user=request.user)}
    return render(request, "catalog/catalog_index.html#catalog-overview", context)


# --- Sync ------------------------------------------------------------------------------------
# "Refresh now" and the sync status are core's views (catalog/urls.py points at them).


def may_refresh(user: Person) -> bool:
    return kind_get(CATALOG).may_refresh(user)


# --- One image -------------------------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def image_row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One row (or the image page's status panel); polled while a review effect runs."""
    image = _get_image(request, pk)
    if not request.htmx:
        return redirect("catalog:image_detail", pk=image.pk)
    operation = selectors.unfinished_operations([image]).get(image.pk)
    response = _render_state(request, image, operation)
    watched = request.GET.get("op", "")
    if operation is None and watched.isdigit():
        # The effect the page watched has ended: tiles, history and the other versions of
        # the definition (whose "latest" marker may have moved) refresh themselves.
        events = ["catalog-changed"]
        if image.definition_id:
            events.append(f"catalog-definition-{image.definition_id}")
        for event in events:
            trigger_client_event(response, event, after="settle")
    return response


def _render_state(
    request: HttpRequest, image: CatalogImage, operation: Operation | None
) -> HttpResponse:
    effect = selectors.last_effects([image]).get(image.pk)
    context = _row(request, image, operation, effect).context()
    if is_partial(request, "image-status"):
        return render(request, "catalog/image_detail.html#image-status", context)
    return render(request, "catalog/catalog_index.html#image-row", context)


_SWAP = re.compile(r"image-row-\d+|image-status")


@require_GET
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def image_decide(request: HtmxHttpRequest, pk: int, decision: str) -> HttpResponse:
    """The form of one decision that needs a note, fetched when a row's dialog opens (rows
    carry no forms of their own); without htmx, the image's page, whose forms are inline."""
    image = _get_image(request, pk)
    try:
        spec = decision_spec(decision)
    except KeyError:
        raise Http404("There is no such decision.") from None
    if not request.htmx:
        return redirect(reverse("catalog:image_detail", args=[image.pk]) + "#image-status")
    swap = request.GET.get("swap", "")
    if not _SWAP.fullmatch(swap):
        swap = image.row_id
    row = _row(request, image, None, None)
    offered = next((d for d in row.decisions if d.spec == spec), None)
    if offered is None:
        return HttpResponse(
            f"{spec.label} is not a decision {image.display_name} can get now.",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    context = {
        **row.context(),
        "d": offered,
        "swap_id": swap,
        "today": timezone.now().date().isoformat(),
    }
    return render(request, "catalog/includes/review_dialog.html", context)


@require_POST
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def image_review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Record a decision; on a gallery version its Azure effect is queued and the row polls."""
    image = _get_image(request, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _refused(request, image, "Choose a decision (and a valid date, if any).", 400)
    try:
        decision = services.review_decide(
            image=image,
            user=request.user,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            end_of_life_date=form.end_of_life(),
        )
    except ActionRefused as exc:
        return _refused(request, image, str(exc), 409)
    image = _get_image(request, pk)
    if request.htmx:
        response = _render_state(request, image, decision.operation)
        if decision.operation is None:
            trigger_client_event(response, "catalog-changed", after="settle")
        return response
    if decision.operation is not None:
        messages.success(
            request,
            f"{decision.get_decision_display()} of {image.display_name} is recorded; "
            "it is being carried out in Azure.",
        )
    else:
        messages.success(
            request, f"{decision.get_decision_display()} of {image.display_name} is recorded."
        )
    return _back(request, image)


def _refused(request: HttpRequest, image: CatalogImage, reason: str, status: int) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")
    messages.error(request, f"{image.display_name}: {reason}")
    return _back(request, image)


def _back(request: HttpRequest, image: CatalogImage) -> HttpResponse:
    """Back to the posted ``next`` path if it is a path on this site, else the image's page."""
    return redirect_back(request, reverse("catalog:image_detail", args=[image.pk]))


def replication_form(image: CatalogImage, data: Any = None) -> ReplicationForm:
    """The version's replication form: its current regions, and the subscription's other
    regions to add (known from Azure, cached; only the current ones when it cannot say)."""
    regions: list[str] = []
    if image.subscription is not None:
        regions = subscription_regions(image.subscription.subscription_id) or []
    return ReplicationForm(
        data, current=list(image.replication or []), regions=regions, home=image.location
    )


@require_POST
@permission_required(REPLICATE_PERMISSION, raise_exception=True)
def image_replication(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Change a gallery version's target regions and replicas; the status panel then shows
    the operation's progress (it polls until Azure has done it)."""
    image = _get_image(request, pk)
    form = replication_form(image, request.POST)
    if not form.is_valid():
        return _refused(
            request, image, "Give each region 1 to 100 replicas and a storage type.", 400
        )
    try:
        operation = replication_change(
            image=image,
            user=request.user,
            regions=form.wanted(),
            allow_removal=form.cleaned_data["allow_removal"],
        )
    except ActionRefused as exc:
        return _refused(request, image, str(exc), 409)
    if request.htmx:
        return _render_state(request, _get_image(request, pk), operation)
    messages.success(
        request, f"The replication change of {image.display_name} is being carried out in Azure."
    )
    return _back(request, image)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    image = _get_image(request, pk)
    operation = selectors.unfinished_operations([image]).get(image.pk)
    if is_partial(request, "image-status"):
        return _render_state(request, image, operation)
    if is_partial(request, "image-history"):
        context = {"image": image, "history": selectors.review_history(image=image)}
        return render(request, "catalog/image_detail.html#image-history", context)
    if is_partial(request, "image-replication"):
        context = {
            "image": image,
            "operation": operation,
            "can_review": request.user.has_perm(REPLICATE_PERMISSION),
            "replication_form": replication_form(image),
        }
        return render(request, "catalog/image_detail.html#image-replication", context)
    if is_partial(request, "definition-versions"):
        versions = selectors.definition_versions(image=image)
        context = {"image": image, "versions": versions, "no_latest": _no_latest(versions)}
        return render(request, "catalog/image_detail.html#definition-versions", context)
    azure_error = None
    marketplace = None
    try:
        if image.is_marketplace:
            marketplace = services.marketplace_entry_refresh(image=image)
        elif not image.gone_at:
            # A short live read: replication progress and provisioning state as Azure has
            # them now (an image deleted in Azure is marked gone by it).
            image = services.image_read_live(image=image)
    except (azure.AzureError, ActionRefused) as exc:
        azure_error = exc
        image = _get_image(request, pk)
    effect = selectors.last_effects([image]).get(image.pk)
    versions = selectors.definition_versions(image=image)
    replication_command = cli.replication_command(image)
    context = {
        **_row(request, image, operation, effect).context(),
        "azure_error": azure_error,
        "marketplace": marketplace,
        "history": selectors.review_history(image=image),
        "versions": versions,
        "no_latest": _no_latest(versions),
        "source": selectors.source_image(image=image),
        "made_from": selectors.made_from(image=image),
        "vm_commands": cli.create_vm_commands(image),
        "effect_commands": cli.review_effect_commands(image),
        "replication_form": replication_form(image) if image.is_gallery_version else None,
        "replication_command_list": [replication_command] if replication_command else [],
        "review_form": ReviewForm(),
        "today": timezone.now().date().isoformat(),
        "next_url": current_page(request),
    }
    return render(request, "catalog/image_detail.html", context)


def _no_latest(versions: list[CatalogImage]) -> bool:
    """A definition none of whose versions is latest (and still in Azure)."""
    return (
        bool(versions)
        and not any(v.is_latest for v in versions)
        and not all(v.gone_at for v in versions)
    )


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def image_by_resource(request: HttpRequest) -> HttpResponse:
    """The page of the catalog entry with this ARM resource id (other pages link here)."""
    image = selectors.image_by_resource_id(user=request.user, resource_id=request.GET.get("id", ""))
    if image is None:
        raise Http404("No image with this resource id is in the catalog.")
    return redirect(reverse("catalog:image_detail", kwargs={"pk": image.pk}))
