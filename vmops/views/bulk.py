"""Multi-select: the dry-run preview (GET), the request (POST) and its results page."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from contoso_images.core.htmx import is_partial
from vmops import selectors
from vmops.forms import SCOPE_FILTER, SCOPE_SELECTED, BulkActionForm, VmFilterForm
from vmops.models import BulkAction, VirtualMachine
from vmops.power import DEALLOCATE, PowerActionSpec, power_action
from vmops.rows import poll_seconds
from vmops.services.actions import (
    ALREADY,
    QUEUED,
    SKIPPED,
    bulk_action_counts,
    vms_action_plan,
    vms_action_request,
)
from vmops.views.common import OPERATE, VIEW

RESULTS_PAGE_SIZE = 100


def bulk_limit() -> int:
    """The most VMs one multi-select acts on (a request, not a worker, per VM)."""
    return int(settings.VM_BULK_LIMIT)


class Selection:
    """The VMs a multi-select names, read from the same parameters by the GET and the POST."""

    def __init__(
        self, request: HttpRequest, params: QueryDict, *, confirming: bool = False
    ) -> None:
        choices = selectors.vm_filter_choices(user=request.user)
        self.params = params
        self.form = BulkActionForm(params)
        self.filter_form = VmFilterForm(params, choices=choices)
        self.valid = self.form.is_valid()
        self.error = "; ".join(str(e) for e in self.form.errors.get("__all__", [])) or (
            "" if self.valid else "Choose an action: Start, Stop, Deallocate or Restart."
        )
        self.vms: list[VirtualMachine] = []
        #: Previewed VMs that no longer match the filter at confirmation: not sent.
        self.left: list[VirtualMachine] = []
        self.matching = 0
        self.too_many = False
        if not self.valid:
            return
        data = self.form.cleaned_data
        self.kind: str = data["action"]
        self.scope: str = data["scope"]
        limit = bulk_limit()
        if self.scope == SCOPE_FILTER and confirming:
            # Act on exactly the VMs the preview listed, never on ones it did not show:
            # those still visible to this user and still matching the filter. The rest are
            # reported as skipped; the state itself is judged again by the request.
            previewed = data.get("previewed")
            if previewed is None:
                self.valid = False
                self.error = (
                    "The confirmation did not say which VMs the preview listed. "
                    "Open the preview again and confirm from there."
                )
                return
            if len(previewed) > limit:
                self.too_many = True
                self.matching = len(previewed)
                return
            found = selectors.vm_list(
                user=request.user,
                filters=self.filter_form.filters(),
                sort=self.filter_form.sort_order(),
            ).filter(pk__in=previewed)
            self.vms = list(found)
            kept = {vm.pk for vm in self.vms}
            self.left = [
                vm
                for vm in selectors.vms_by_ids(user=request.user, ids=previewed)
                if vm.pk not in kept
            ]
            self.matching = len(self.vms)
            return
        if self.scope == SCOPE_FILTER:
            filters = self.filter_form.filters()
            found = selectors.vm_list(
                user=request.user, filters=filters, sort=self.filter_form.sort_order()
            )
        else:
            found = selectors.vms_by_ids(user=request.user, ids=data["vm"])
        self.vms = list(found[: limit + 1])
        self.too_many = len(self.vms) > limit
        if self.too_many:
            self.matching = found.count()
            self.vms = []
        else:
            self.matching = len(self.vms)

    @property
    def action(self) -> PowerActionSpec:
        return power_action(self.kind)

    def described(self) -> str:
        if self.scope == SCOPE_FILTER:
            words = self.filter_form.described()
            return f"all VMs matching: {words}" if words else "all VMs in the inventory"
        return f"{len(self.vms)} ticked VM{'s' if len(self.vms) != 1 else ''}"

    def hidden_fields(self) -> list[tuple[str, str]]:
        """What the POST repeats: the action, the scope, the filter or the ticked ids."""
        fields = [("scope", self.scope)]
        if self.scope == SCOPE_FILTER:
            for name in VmFilterForm.SELECTION:
                fields += [(name, v) for v in self.params.getlist(name) if v]
            # The VMs this preview lists: the confirmation acts on these and no others.
            fields.append(("previewed", ",".join(str(vm.pk) for vm in self.vms)))
        return fields


@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def vm_bulk(request: HttpRequest) -> HttpResponse:
    """GET: what each selected VM will get, and why some are skipped (nothing is sent).
    POST: ask for it, in one request however many VMs, then show the results page."""
    if request.method == "POST":
        # The service checks the role, and records a refusal like any other.
        return _request(request, Selection(request, request.POST, confirming=True))
    if not request.user.has_perm(OPERATE):
        raise PermissionDenied("Your role does not allow power actions.")
    selection = Selection(request, request.GET)
    plan = vms_action_plan(vms=selection.vms, kind=selection.kind) if selection.valid else []
    plan.sort(key=lambda item: item.outcome == QUEUED)  # the skipped ones first: read them
    outcomes = Counter(item.outcome for item in plan)
    context: dict[str, Any] = {
        "selection": selection,
        "plan": plan,
        "acting": outcomes[QUEUED],
        "skipped": outcomes[SKIPPED],
        "already": outcomes[ALREADY],
        "limit": bulk_limit(),
        "back_url": _list_url(selection),
    }
    return render(request, "vmops/vm_bulk.html", context)


def _request(request: HttpRequest, selection: Selection) -> HttpResponse:
    if not selection.valid:
        messages.error(request, f"Nothing was sent. {selection.error}")
        return HttpResponseRedirect(reverse("vmops:vm_list"))
    if selection.too_many:
        messages.error(
            request,
            f"Nothing was sent: the filter matches {selection.matching:,} VMs and one request "
            f"acts on at most {bulk_limit():,}. Narrow the filter and try again.",
        )
        return HttpResponseRedirect(_list_url(selection))
    if not selection.vms:
        messages.warning(request, "No VM matches the selection any more; nothing was sent.")
        return HttpResponseRedirect(_list_url(selection))
    with transaction.atomic():
        bulk = vms_action_request(
            vms=selection.vms,
            kind=selection.kind,
            user=request.user,
            selection=selection.described(),
        )
        if selection.left:
            bulk.items = bulk.items + [_left_item(vm) for vm in selection.left]
            bulk.save(update_fields=["items"])
    counts = bulk_action_counts(bulk)
    text = f"{selection.action.label} queued for {counts.queued:,} VM{_s(counts.queued)}."
    if counts.already:
        text += f" {counts.already:,} already had it in progress."
    if counts.skipped:
        text += f" {counts.skipped:,} skipped (why, below)."
    messages.success(request, text)
    return redirect("vmops:vm_bulk_results", pk=bulk.pk)


def _left_item(vm: VirtualMachine) -> dict[str, Any]:
    """A VM the preview listed that no longer matches the filter: shown as skipped."""
    return {
        "vm": vm.pk,
        "name": vm.name,
        "resource_group": vm.resource_group,
        "subscription": str(vm.subscription),
        "outcome": SKIPPED,
        "reason": "No longer matches the filter; nothing was sent to it.",
        "operation": None,
    }


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _list_url(selection: Selection) -> str:
    kept = QueryDict(mutable=True)
    for name in VmFilterForm.SELECTION:
        values = [v for v in selection.params.getlist(name) if v]
        if values:
            kept.setlist(name, values)
    query = kept.urlencode()
    return reverse("vmops:vm_list") + (f"?{query}" if query else "")


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_bulk_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Per-VM results of a multi-select and a summary; the section polls until all ended."""
    bulk = get_object_or_404(BulkAction.objects.select_related("requested_by"), pk=pk)
    page = Paginator(bulk.items, RESULTS_PAGE_SIZE).get_page(request.GET.get("page"))
    progress = selectors.bulk_progress(bulk=bulk, items=list(page))
    context = {
        "bulk": bulk,
        "action": power_action(bulk.kind),
        "page": page,
        "progress": progress,
        "poll_seconds": poll_seconds(None) if progress.unfinished else 0,
    }
    if is_partial(request, "bulk-results"):
        return render(request, "vmops/vm_bulk_results.html#bulk-results", context)
    return render(request, "vmops/vm_bulk_results.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(VIEW, raise_exception=True)
def vm_bulk_deallocate(request: HttpRequest) -> HttpResponse:
    """The old "deallocate every stopped-but-billed VM" page, kept working: it is now the
    multi-select of Deallocate over the billed VMs of the view."""
    if request.method == "GET":
        params = request.GET.copy()
        params.pop("page", None)
        params["power_state"] = selectors.BILLED_STOPPED
        params["action"] = DEALLOCATE.value
        params["scope"] = SCOPE_FILTER
        return redirect(reverse("vmops:vm_bulk") + f"?{params.urlencode()}")
    params = request.POST.copy()
    params["action"] = DEALLOCATE.value
    params["scope"] = SCOPE_SELECTED
    selection = Selection(request, params)
    if selection.valid:
        # Only the billed VMs of the view, as this page always promised.
        selection.vms = [vm for vm in selection.vms if vm.is_billed_while_stopped]
    return _request(request, selection)
