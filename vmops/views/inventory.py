"""The VM list: tiles, chart, filters, rows, columns, export, and the inventory sync."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from contoso_images.core.health import health_report
from contoso_images.core.htmx import HtmxHttpRequest, is_partial, since_param
from contoso_images.core.http import querystring, redirect_back
from vmops import selectors, services
from vmops.chart import power_state_chart
from vmops.columns import header_cells
from vmops.export import EXPORT_BATCH, vm_csv_rows
from vmops.forms import ColumnsForm, VmFilterForm
from vmops.power import POWER_ACTIONS
from vmops.rows import vm_row
from vmops.services.preferences import list_columns_save
from vmops.views.common import OPERATE, VIEW

PAGE_SIZE = 50


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_list(request: HttpRequest) -> HttpResponse:
    choices = selectors.vm_filter_choices(user=request.user)
    form = VmFilterForm(request.GET, choices=choices)
    filters, sort = form.filters(), form.sort_order()
    vms = selectors.vm_list(user=request.user, filters=filters, sort=sort)
    page = Paginator(vms, PAGE_SIZE).get_page(request.GET.get("page"))
    unfinished = selectors.unfinished_operations(list(page))
    can_operate = request.user.has_perm(OPERATE)
    rows = [vm_row(vm, unfinished.get(vm.pk), can_operate=can_operate) for vm in page]
    columns = selectors.list_columns(user=request.user)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": rows,
        "sort": sort,
        "columns": columns,
        "headers": header_cells(
            columns, sort=sort, querystring=querystring(request, drop=("page", "sort"))
        ),
        "column_form": ColumnsForm(initial={"columns": [c.key for c in columns]}),
        "power_actions": POWER_ACTIONS,
        "querystring": querystring(request, drop=("page",)),
        # The list's URL is the page's URL, the partial's too (its filters are pushed).
        "next_url": request.get_full_path(),
        "filter_fields": [
            (k, v) for k, v in request.GET.lists() if k in VmFilterForm.SELECTION and k != "sort"
        ],
        **_overview_context(request, form, filters, choices["subscriptions"]),
    }
    if is_partial(request, "vm-inventory"):
        return render(request, "vmops/vm_list.html#vm-inventory", context)
    return render(request, "vmops/vm_list.html", context)


def _overview_context(
    request: HttpRequest, form: VmFilterForm, filters: dict, subscriptions: list
) -> dict[str, Any]:
    """Tiles, chart and the billed-VMs banner of the VMs the filters select."""
    counts = selectors.vm_state_counts(user=request.user, filters=filters)
    overview = selectors.overview_of(counts)
    in_scope = filters.get("power_state") in (None, selectors.BILLED_STOPPED)
    return {
        "overview": overview,
        "chart": power_state_chart(selectors.chart_rows_of(counts, filters.get("power_state"))),
        "sync": selectors.inventory_sync_status(subscriptions),
        "billed_in_view": overview.billed_stopped if in_scope else 0,
        "filters_described": form.described(),
        "bulk_querystring": querystring(request, drop=("page", "sort")),
        "tile_querystring": querystring(request, drop=("page", "power_state")),
    }


@require_GET
@permission_required(VIEW, raise_exception=True)
def vm_overview(request: HtmxHttpRequest) -> HttpResponse:
    """The tiles and chart alone, reloaded when an operation or a sync changed the inventory."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(reverse("vmops:vm_list") + (f"?{query}" if query else ""))
    choices = selectors.vm_filter_choices(user=request.user)
    form = VmFilterForm(request.GET, choices=choices)
    context = _overview_context(request, form, form.filters(), choices["subscriptions"])
    return render(request, "vmops/vm_list.html#vm-overview", context)


@require_GET
@permission_required(VIEW, raise_exception=True)
def vm_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, every VM of it (not one page), streamed in batches."""
    choices = selectors.vm_filter_choices(user=request.user)
    form = VmFilterForm(request.GET, choices=choices)
    vms = selectors.vm_list(user=request.user, filters=form.filters(), sort=form.sort_order())
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        vm_csv_rows(vms.iterator(chunk_size=EXPORT_BATCH)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="vms-{stamp}.csv"'
    return response


@require_POST
@permission_required(VIEW, raise_exception=True)
def vm_columns(request: HttpRequest) -> HttpResponse:
    """Remember the columns this user shows on the list (from any device)."""
    form = ColumnsForm(request.POST)
    if form.is_valid():
        list_columns_save(user=request.user, columns=form.cleaned_data["columns"])
    else:
        messages.error(request, "Those columns do not exist; the list keeps its columns.")
    return redirect_back(request, reverse("vmops:vm_list"))


# --- Sync -----------------------------------------------------------------------------------


@require_POST
@permission_required(OPERATE, raise_exception=True)
def vm_refresh(request: HtmxHttpRequest) -> HttpResponse:
    """Queue a sync now (once, however often it is clicked); the page watches until it ran.

    Operators only: it makes Azure calls on behalf of everyone.
    """
    requested_at = timezone.now()
    services.inventory_sync_request()
    if request.htmx:
        return _sync_status_response(request, since=requested_at)
    messages.info(request, "Refreshing the inventory from Azure; the list updates in a moment.")
    return redirect("vmops:vm_list")


@require_GET
@permission_required(VIEW, raise_exception=True)
def vm_sync_status(request: HtmxHttpRequest) -> HttpResponse:
    if not request.htmx:
        return redirect("vmops:vm_list")
    return _sync_status_response(request, since=since_param(request))


#: After this long without the requested sync, the page stops waiting and says why.
SYNC_WAIT_LIMIT = timedelta(minutes=2)


def _sync_status_response(request: HttpRequest, *, since: datetime | None) -> HttpResponse:
    sync = selectors.inventory_sync_status()
    waiting = since is not None and (sync.last_synced_at is None or sync.last_synced_at < since)
    waiting = waiting and not sync.errors
    stalled = since is not None and waiting and timezone.now() - since > SYNC_WAIT_LIMIT
    context = {
        "sync": sync,
        "sync_waiting": waiting and not stalled,
        "sync_stalled": stalled,
        "sync_since": since.isoformat() if since else "",
    }
    if stalled:
        context["cluster_detail"] = health_report()["cluster"]["detail"]
    response = render(request, "vmops/vm_list.html#sync-status", context)
    if since is not None and not waiting:
        trigger_client_event(response, "inventory-synced")
    return response
