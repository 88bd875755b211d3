"""vmops pages and htmx partials. Thin: parse, check permission, call a selector or service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.core.health import health_report
from contoso_images.core.htmx import HtmxHttpRequest, current_page, is_partial
from contoso_images.operations.models import Operation
from vmops import selectors, services
from vmops.chart import power_state_chart
from vmops.choices import PowerAction
from vmops.cli import vm_equivalent_commands
from vmops.forms import VmFilterForm
from vmops.models import VirtualMachine
from vmops.rules import grouped_reasons, vm_action_choices

PAGE_SIZE = 50
BULK_LIMIT = 200


def row_context(vm: VirtualMachine, operation: Operation | None, request: HttpRequest) -> dict:
    """Everything the vm-row and vm-status partials show for one VM."""
    unfinished = operation if operation is not None and operation.is_unfinished else None
    busy = unfinished.label if unfinished else ""
    actions = vm_action_choices(vm=vm, busy_with=busy)
    return {
        "vm": vm,
        "operation": operation,
        "next_url": current_page(request),
        "polling": unfinished is not None,
        "poll_seconds": _poll_seconds(unfinished),
        # The VM page also checks, slowly, whether a sync saw the VM change or disappear.
        "idle_poll_seconds": 30,
        "actions": actions,
        "reasons": grouped_reasons(actions),
        "can_operate": request.user.has_perm("vmops.operate_virtualmachine"),
    }


#: Operations older than this are polled less often: Azure takes minutes, not seconds.
SLOW_POLL_AFTER = timedelta(seconds=30)
SLOW_POLL_SECONDS = 5


def _poll_seconds(operation: Operation | None) -> int:
    """Quick polls while a person is likely watching the click land, then calmer ones."""
    fast = settings.VM_ROW_POLL_SECONDS
    if operation is None or timezone.now() - operation.requested_at < SLOW_POLL_AFTER:
        return fast
    return max(fast, SLOW_POLL_SECONDS)


def _get_vm(request: HttpRequest, pk: int) -> VirtualMachine:
    try:
        return selectors.vm_get(user=request.user, pk=pk)
    except VirtualMachine.DoesNotExist:
        raise Http404("There is no VM with this id in the inventory.") from None


# --- List -----------------------------------------------------------------------------------


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_list(request: HttpRequest) -> HttpResponse:
    choices = selectors.vm_filter_choices(user=request.user)
    form = VmFilterForm(request.GET, choices=choices)
    filters, sort = form.filters(), form.sort_order()
    vms = selectors.vm_list(user=request.user, filters=filters, sort=sort)
    page = Paginator(vms, PAGE_SIZE).get_page(request.GET.get("page"))
    unfinished = selectors.unfinished_operations(list(page))
    rows = [row_context(vm, unfinished.get(vm.pk), request) for vm in page]
    can_operate = request.user.has_perm("vmops.operate_virtualmachine")
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": rows,
        "sort": sort,
        "columns": _columns(sort, _querystring(request, drop=("page", "sort")), can_operate),
        "querystring": _querystring(request, drop=("page",)),
        **_overview_context(request, filters, choices["subscriptions"]),
    }
    if is_partial(request, "vm-inventory"):
        return render(request, "vmops/vm_list.html#vm-inventory", context)
    return render(request, "vmops/vm_list.html", context)


#: (label, sort key or "", hidden on small screens)
COLUMNS = [
    ("Name", "name", False),
    ("Power state", "power_state", False),
    ("Size", "size", True),
    ("OS", "", True),
    ("Location", "location", True),
    ("State changed", "changed", True),
]


def _columns(sort: str, querystring: str, can_operate: bool) -> list[dict[str, Any]]:
    prefix = f"{querystring}&" if querystring else ""
    columns = []
    for label, key, hide_small in COLUMNS:
        column: dict[str, Any] = {"label": label, "hide_small": hide_small, "aria_sort": ""}
        if key:
            column["aria_sort"] = {key: "ascending", f"-{key}": "descending"}.get(sort, "")
            column["sort_link"] = f"{prefix}sort={'-' if sort == key else ''}{key}"
        columns.append(column)
    if can_operate:
        columns.append({"label": "Actions", "hide_small": False, "aria_sort": ""})
    return columns


def _overview_context(request: HttpRequest, filters: dict, subscriptions: list) -> dict[str, Any]:
    """Tiles, chart and the billed-VMs banner of the current view."""
    billed_in_view = 0
    if filters.get("power_state") in (None, selectors.BILLED_STOPPED, "stopped"):
        billed_in_view = selectors.vm_list(
            user=request.user, filters={**filters, "power_state": selectors.BILLED_STOPPED}
        ).count()
    return {
        "overview": selectors.vm_overview(user=request.user),
        "chart": power_state_chart(selectors.vm_counts_by_group_and_state(user=request.user)),
        "sync": selectors.inventory_sync_status(subscriptions),
        "billed_in_view": billed_in_view,
        "bulk_querystring": _querystring(request, drop=("page", "sort")),
    }


def _querystring(request: HttpRequest, *, drop: tuple[str, ...]) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
def vm_overview(request: HtmxHttpRequest) -> HttpResponse:
    """The tiles and chart alone, reloaded when an operation or a sync changed the inventory."""
    if not request.htmx:
        return redirect(reverse("vmops:vm_list") + _query_suffix(request))
    choices = selectors.vm_filter_choices(user=request.user)
    filters = VmFilterForm(request.GET, choices=choices).filters()
    context = _overview_context(request, filters, choices["subscriptions"])
    return render(request, "vmops/vm_list.html#vm-overview", context)


def _query_suffix(request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return f"?{query}" if query else ""


# --- Sync -----------------------------------------------------------------------------------


@require_POST
@permission_required("vmops.view_virtualmachine", raise_exception=True)
def vm_refresh(request: HtmxHttpRequest) -> HttpResponse:
    """Queue a sync now (once, however often it is clicked); the page watches until it ran."""
    requested_at = timezone.now()
    services.inventory_sync_request()
    if request.htmx:
        return _sync_status_response(request, since=requested_at)
    messages.info(request, "Refreshing the inventory from Azure; the list updates in a moment.")
    return redirect("vmops:vm_list")


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
def vm_sync_status(request: HtmxHttpRequest) -> HttpResponse:
    if not request.htmx:
        return redirect("vmops:vm_list")
    try:
        since = datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = None
    if since is not None and timezone.is_naive(since):
        since = since.replace(tzinfo=UTC)
    return _sync_status_response(request, since=since)


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


# --- Rows and actions -----------------------------------------------------------------------


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
def vm_row(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One row (or the VM page's status panel); polled while an operation is unfinished."""
    vm = _get_vm(request, pk)
    if not request.htmx:
        return redirect("vmops:vm_detail", pk=vm.pk)
    operation = services.vm_unfinished_operation(vm=vm)
    watched = None
    if operation is None and (watched_id := request.GET.get("op", "")).isdigit():
        watched = selectors.vm_operation(vm=vm, pk=int(watched_id))
    response = _render_vm_state(request, vm, operation or watched)
    if watched is not None:
        # The operation the page was watching has ended: counters and chart refresh.
        trigger_client_event(response, "vm-changed")
    return response


def _render_vm_state(request: HttpRequest, vm: VirtualMachine, operation: Operation | None):
    context = row_context(vm, operation, request)
    if is_partial(request, "vm-status"):
        return render(request, "vmops/vm_detail.html#vm-status", context)
    return render(request, "vmops/vm_list.html#vm-row", context)


@require_POST
@permission_required("vmops.operate_virtualmachine", raise_exception=True)
def vm_action(request: HtmxHttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in PowerAction.values:
        raise Http404("Unknown action.")
    vm = _get_vm(request, pk)
    try:
        operation, created = services.vm_action_request(vm=vm, kind=kind, user=request.user)
    except ActionRefused as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
        messages.error(request, f"{vm.name}: {exc}")
        return _back(request, vm)
    if not created:
        note = f"{operation.label} of {vm.name} is already in progress."
        if not request.htmx:
            messages.info(request, note)
    elif not request.htmx:
        messages.success(request, f"{operation.label} of {vm.name} is queued.")
    if request.htmx:
        vm.refresh_from_db()
        return _render_vm_state(request, vm, operation)
    return _back(request, vm)


def _back(request: HttpRequest, vm: VirtualMachine) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("vmops:vm_detail", pk=vm.pk)


@require_http_methods(["GET", "POST"])
@permission_required("vmops.operate_virtualmachine", raise_exception=True)
def vm_bulk_deallocate(request: HttpRequest) -> HttpResponse:
    """Deallocate every stopped-but-billed VM of the current view, after a confirmation."""
    choices = selectors.vm_filter_choices(user=request.user)
    params = request.GET if request.method == "GET" else request.POST
    form = VmFilterForm(params, choices=choices)
    filters = {**form.filters(), "power_state": selectors.BILLED_STOPPED}
    candidates = list(selectors.vm_list(user=request.user, filters=filters)[: BULK_LIMIT + 1])
    if request.method == "GET":
        return render(
            request,
            "vmops/vm_bulk_deallocate.html",
            {
                "vms": candidates[:BULK_LIMIT],
                "more": len(candidates) > BULK_LIMIT,
                "form": form,
                "querystring": _querystring(request, drop=("page", "sort")),
            },
        )
    chosen = {int(pk) for pk in request.POST.getlist("vm") if pk.isdigit()}
    if not chosen:
        messages.warning(request, "No VM was selected, so nothing was deallocated.")
    else:
        vms = [vm for vm in candidates[:BULK_LIMIT] if vm.pk in chosen]
        result = services.vms_deallocate_request(vms=vms, user=request.user)
        text = f"Deallocation queued for {result.queued} VM{'s' if result.queued != 1 else ''}."
        if result.already:
            text += f" {result.already} already had an operation in progress."
        if result.skipped:
            text += f" {result.skipped} changed state meanwhile and were skipped."
        messages.success(request, text)
    kept = request.POST.copy()
    for key in ("csrfmiddlewaretoken", "vm"):
        kept.pop(key, None)
    query = kept.urlencode()
    return redirect(reverse("vmops:vm_list") + (f"?{query}" if query else ""))


# --- Detail ---------------------------------------------------------------------------------


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    vm = _get_vm(request, pk)
    operation = services.vm_unfinished_operation(vm=vm)
    if is_partial(request, "vm-status"):
        return _render_vm_state(request, vm, operation)
    if is_partial(request, "vm-history"):
        context = {"vm": vm, "history": selectors.vm_operations(vm=vm)}
        return render(request, "vmops/vm_detail.html#vm-history", context)
    detail, azure_error = None, None
    if not vm.gone_at:
        # A short live read: the page shows disks and instance-view statuses only Azure has,
        # and the cached state is brought up to date with it so the page agrees with itself.
        try:
            detail = services.vm_read_live(vm=vm)
        except azure.AzureError as exc:
            azure_error = exc
    context = {
        **row_context(vm, operation, request),
        "detail": detail,
        "azure_error": azure_error,
        "history": selectors.vm_operations(vm=vm),
        "commands": vm_equivalent_commands(
            subscription_id=vm.subscription.subscription_id,
            resource_group=vm.resource_group,
            name=vm.name,
        ),
    }
    return render(request, "vmops/vm_detail.html", context)


@require_GET
@permission_required("vmops.view_virtualmachine", raise_exception=True)
def vm_by_resource(request: HttpRequest) -> HttpResponse:
    """The page of the VM with this ARM resource id (records elsewhere link here)."""
    resource_id = request.GET.get("id", "")
    vm = selectors.vm_by_resource_id(user=request.user, resource_id=resource_id)
    if vm is None:
        raise Http404("No VM with this resource id is in the inventory.")
    return redirect("vmops:vm_detail", pk=vm.pk)
