"""One VM: its page, its row (polled), and the power actions asked for from either."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.core.htmx import HtmxHttpRequest, current_page, is_partial
from contoso_images.core.http import redirect_back, safe_next
from contoso_images.operations.models import Operation
from vmops import selectors, services
from vmops.capture import selectors as capture_selectors
from vmops.cli import vm_equivalent_commands
from vmops.columns import shown
from vmops.forms import RowPollForm
from vmops.models import VirtualMachine
from vmops.power import is_power_action, power_action
from vmops.rows import IDLE_POLL_SECONDS, VmRow, vm_row
from vmops.services import guard, prices
from vmops.services.lineage import image_warning
from vmops.views.common import OPERATE, VIEW, get_vm, tell


def _row(
    request: HttpRequest,
    vm: VirtualMachine,
    operation: Operation | None,
    *,
    refusal: str = "",
    confirm_open: str = "",
) -> VmRow:
    return vm_row(
        vm,
        operation,
        can_operate=request.user.has_perm(OPERATE),
        refusal=refusal,
        confirm_open=confirm_open,
        viewer_id=request.user.pk,
        next_url=_next_url(request),
        csrf_token=get_token(request),
    )


def _next_url(request: HttpRequest) -> str:
    """Where the row's buttons come back to without JavaScript: the page the row is on (a
    POST without htmx names it in ``next``)."""
    if request.method == "POST" and not getattr(request, "htmx", None):
        return safe_next(request, "")
    return current_page(request)


def _render_state(request: HttpRequest, row: VmRow, *, status: int = 200) -> HttpResponse:
    """The row of the list, or the VM page's status panel, whichever asked."""
    context = {"row": row, "next_url": current_page(request), "idle_poll_seconds": 0}
    if is_partial(request, "vm-status"):
        context["idle_poll_seconds"] = IDLE_POLL_SECONDS
        return render(request, "vmops/vm_detail.html#vm-status", context, status=status)
    context["columns"] = columns = selectors.list_columns(user=request.user)
    context["shown"] = shown(columns)
    return render(request, "vmops/vm_list.html#vm-row", context, status=status)


@require_GET
@permission_required(VIEW, raise_exception=True)
def vm_row_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One row (or the VM page's status panel); polled while an operation is unfinished."""
    vm = get_vm(request, pk)
    if not request.htmx:
        return redirect("vmops:vm_detail", pk=vm.pk)
    operation = services.vm_unfinished_operation(vm=vm)
    watched = None
    form = RowPollForm(request.GET)
    if operation is None and form.is_valid() and form.cleaned_data["op"] is not None:
        watched = selectors.vm_operation(vm=vm, pk=form.cleaned_data["op"])
    response = _render_state(request, _row(request, vm, operation or watched))
    if watched is not None:
        # The operation the page was watching has ended: counters, chart and bell refresh.
        trigger_client_event(response, "vm-changed")
        trigger_client_event(response, "operations-changed")
    return response


@require_POST
@permission_required(VIEW, raise_exception=True)
def vm_action(request: HtmxHttpRequest, pk: int, kind: str) -> HttpResponse:
    """Ask for a power action. The operator's role is checked by the service, which records
    a refusal (who, what, why) like every other; the answer shows where the click was."""
    if not is_power_action(kind):
        raise Http404("Unknown action.")
    vm = get_vm(request, pk)
    if request.POST.get("confirm") != "yes" and request.user.has_perm(OPERATE):
        row = _row(request, vm, services.vm_unfinished_operation(vm=vm))
        action = next(a for a in row.actions if a.kind == kind)
        if action.allowed and action.confirm:
            return _ask_first(request, vm, row, kind)
    try:
        operation, created = services.vm_action_request(vm=vm, kind=kind, user=request.user)
    except PermissionDenied as exc:
        if request.htmx:
            text = str(exc) or "Your role does not allow this action."
            return HttpResponse(text, status=403, content_type="text/plain; charset=utf-8")
        raise
    except ActionRefused as exc:
        return _refused(request, vm, kind, str(exc))
    label = operation.label
    if not request.htmx:
        if created:
            messages.success(request, f"{label} of {vm.name} is queued.")
        else:
            messages.info(request, f"{label} of {vm.name} is already in progress.")
        return redirect_back(request, reverse("vmops:vm_detail", args=[vm.pk]))
    vm.refresh_from_db()
    response = _render_state(request, _row(request, vm, operation))
    if created:
        trigger_client_event(response, "vm-changed")
        trigger_client_event(response, "operations-changed")
        return response
    return tell(response, "info", f"{label} of {vm.name} is already in progress.")


def _refused(request: HtmxHttpRequest, vm: VirtualMachine, kind: str, reason: str) -> HttpResponse:
    """Say why, where the click happened, and show the row as it is now: the state (or the
    operation under way) that caused the refusal, not the one the page last showed."""
    vm.refresh_from_db()
    unfinished = services.vm_unfinished_operation(vm=vm)
    action = power_action(kind)
    if unfinished is not None and unfinished.kind != action.kind:
        text = reason  # the engine's sentence names both actions and the VM
    else:
        text = f"{action.label} of {vm.name} was not sent: {reason}"
    if not request.htmx:
        messages.error(request, text)
        return redirect_back(request, reverse("vmops:vm_detail", args=[vm.pk]))
    row = _row(request, vm, unfinished, refusal=text)
    return tell(_render_state(request, row, status=409), "error", text, vm_changed=None)


def _ask_first(request: HtmxHttpRequest, vm: VirtualMachine, row: VmRow, kind: str) -> HttpResponse:
    """An action that needs a confirmation arrived without one (a stale page, no JS, a
    script): nothing is sent; the question is asked, on the row or on a page of its own."""
    if request.htmx:
        row = _row(request, vm, row.operation, confirm_open=kind)
        return _render_state(request, row)
    action = next(a for a in row.actions if a.kind == kind)
    context = {
        "row": row,
        "action": action,
        "next_url": request.POST.get("next", ""),
        "cancel_url": redirect_back(request, reverse("vmops:vm_detail", args=[vm.pk])).url,
    }
    return render(request, "vmops/vm_action_confirm.html", context)


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    vm = get_vm(request, pk)
    operation = services.vm_unfinished_operation(vm=vm)
    if is_partial(request, "vm-status"):
        return _render_state(request, _row(request, vm, operation))
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
        "row": _row(request, vm, operation),
        "vm": vm,
        "next_url": request.get_full_path(),
        "idle_poll_seconds": IDLE_POLL_SECONDS,
        "detail": detail,
        "azure_error": azure_error,
        "history": selectors.vm_operations(vm=vm),
        "captures": capture_selectors.captures_of_vm(vm)
        if capture_selectors.may_view(request.user)
        else [],
        "lineage": image_warning(vm.catalog_image),
        **_cost_context(vm, detail),
        "commands": vm_equivalent_commands(
            subscription_id=vm.subscription.subscription_id,
            resource_group=vm.resource_group,
            name=vm.name,
        ),
    }
    return render(request, "vmops/vm_detail.html", context)


def _cost_context(vm: VirtualMachine, detail: azure.VirtualMachineDetail | None) -> dict[str, Any]:
    """What the VM costs in its state, its disks, a billing guard's notice, what was saved."""
    book = prices.price_book()
    disks = prices.disk_figures(vm, detail.disks, book) if detail is not None else []
    priced = [d.monthly for d in disks if d.monthly is not None]
    saved = prices.savings(vm=vm)
    return {
        "cost": prices.vm_cost(vm, book),
        "disk_figures": disks,
        "disks_monthly": prices.money(sum(priced, Decimal(0))) if priced else "",
        "disks_unpriced": len(disks) - len(priced),
        "notices": guard.vm_notices(vm),
        "vm_savings": prices.savings_summary(saved) if saved else None,
        "estimate_note": prices.estimate_note(),
    }


@require_GET
@permission_required(VIEW, raise_exception=True)
def vm_by_resource(request: HttpRequest) -> HttpResponse:
    """The page of the VM with this ARM resource id (records elsewhere link here)."""
    resource_id = request.GET.get("id", "")
    vm = selectors.vm_by_resource_id(user=request.user, resource_id=resource_id)
    if vm is None:
        raise Http404("No VM with this resource id is in the inventory.")
    return redirect("vmops:vm_detail", pk=vm.pk)
