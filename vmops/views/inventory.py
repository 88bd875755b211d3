"""The VM list: tiles, chart, filters, rows, columns and export. "Refresh now" and the sync
status are core's (``contoso_images.core.sync_views``), pointed at by vmops' URLs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import InvalidPage, Page, Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from contoso_images.core.htmx import HtmxHttpRequest, is_partial
from contoso_images.core.http import querystring, redirect_back
from contoso_images.core.sync import sync_status
from vmops import selectors
from vmops.chart import power_state_chart
from vmops.columns import OPTIONAL_COLUMNS, header_cells, shown
from vmops.export import EXPORT_BATCH, vm_csv_rows
from vmops.forms import ColumnsForm, VmFilterForm, quick_select
from vmops.power import POWER_ACTIONS
from vmops.rows import vm_row
from vmops.services import prices
from vmops.services.inventory import INVENTORY
from vmops.services.preferences import list_columns_save
from vmops.views.common import OPERATE, VIEW

PAGE_SIZE = 50
#: The filter form's choice fields, written out by ``quick_select``.
SELECTS = ("subscription", "resource_group", "power_state", "os_type", "location")
#: The parameters that say which page: dropped from every link that changes the view.
PAGING = ("page", "after", "before")


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_list(request: HttpRequest) -> HttpResponse:
    choices = selectors.vm_filter_choices(user=request.user)
    form = VmFilterForm(request.GET, choices=choices)
    filters, sort = form.filters(), form.sort_order()
    counts = selectors.vm_state_counts(user=request.user, filters=filters)
    vms = selectors.vm_list(user=request.user, filters=filters, sort=sort)
    page = _page(
        request, vms, sort=sort, total=selectors.count_shown(counts, filters.get("power_state"))
    )
    unfinished = selectors.unfinished_operations(list(page))
    can_operate = request.user.has_perm(OPERATE)
    # The list's URL is the page's URL, the partial's too (its filters are pushed).
    next_url = request.get_full_path()
    token = get_token(request)  # one token for the page's forms
    rows = [
        vm_row(
            vm,
            unfinished.get(vm.pk),
            can_operate=can_operate,
            viewer_id=request.user.pk,
            next_url=next_url,
            csrf_token=token,
        )
        for vm in page
    ]
    columns = selectors.list_columns(user=request.user)
    shown_keys = shown(columns)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": rows,
        "sort": sort,
        "columns": columns,
        "shown": shown_keys,
        "selects": {name: quick_select(form[name]) for name in SELECTS},
        "headers": header_cells(
            columns, sort=sort, querystring=querystring(request, drop=(*PAGING, "sort"))
        ),
        "column_choices": [(c.key, c.label, c.key in shown_keys) for c in OPTIONAL_COLUMNS],
        "power_actions": POWER_ACTIONS,
        "querystring": querystring(request, drop=PAGING),
        "next_cursor": selectors.cursor_of(page[-1], sort) if page.has_next() else "",
        "previous_cursor": selectors.cursor_of(page[0], sort) if page.has_previous() else "",
        "next_url": next_url,
        "filter_notes": form.ignored(),
        "filter_fields": [
            (k, v) for k, v in request.GET.lists() if k in VmFilterForm.SELECTION and k != "sort"
        ],
        **_overview_context(request, form, filters, counts),
    }
    if is_partial(request, "vm-inventory"):
        return render(request, "vmops/vm_list.html#vm-inventory", context)
    return render(request, "vmops/vm_list.html", context)


def _page(request: HttpRequest, vms: Any, *, sort: str, total: int) -> Page[Any]:
    """The page asked for. Its count is the tiles' (no COUNT over the VMs); Next and
    Previous carry the edge row's sort key, so page 500 is a seek from page 499's last row,
    not an OFFSET of 24,950. A bare ``?page=N`` (a typed or old link) still works."""
    paginator = Paginator(vms, PAGE_SIZE)
    paginator.__dict__["count"] = total  # the cached_property, answered from the counts
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    if after or before:
        try:
            number = paginator.validate_number(request.GET.get("page") or 1)
        except InvalidPage:
            number = 0
        rows = (
            selectors.seek_page(vms, sort=sort, after=after, before=before, size=PAGE_SIZE)
            if number
            else None
        )
        if rows:
            return Page(rows, number, paginator)
    return paginator.get_page(request.GET.get("page"))


def _overview_context(
    request: HttpRequest,
    form: VmFilterForm,
    filters: dict[str, Any],
    counts: list[selectors.StateCount] | None = None,
) -> dict[str, Any]:
    """Tiles, chart and the billed-VMs banner of the VMs the filters select."""
    if counts is None:
        counts = selectors.vm_state_counts(user=request.user, filters=filters)
    overview = selectors.overview_of(counts)
    in_scope = filters.get("power_state") in (None, selectors.BILLED_STOPPED)
    cost = prices.totals(
        selectors.cost_rows(user=request.user, filters=filters), prices.price_book(disks=False)
    )
    return {
        "cost": cost,
        "estimate_note": prices.estimate_note(),
        "overview": overview,
        "on_risky_images": selectors.risky_image_count(user=request.user, filters=filters),
        "chart": power_state_chart(selectors.chart_rows_of(counts, filters.get("power_state"))),
        "sync": sync_status(INVENTORY, user=request.user),
        "billed_in_view": overview.billed_stopped if in_scope else 0,
        "filters_described": form.described(),
        "bulk_querystring": querystring(request, drop=(*PAGING, "sort")),
        "tile_querystring": querystring(request, drop=(*PAGING, "power_state")),
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
    context = _overview_context(request, form, form.filters())
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
