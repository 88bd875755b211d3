"""The capture wizard, the capture's record page, its actions, and the history.

Thin: parse, check permission, call a selector or service, render a page or a partial.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.core.htmx import is_partial
from contoso_images.operations import registry
from contoso_images.operations.models import Operation
from vmops import selectors as vm_selectors
from vmops.capture import preflight, selectors, services
from vmops.capture.choices import CaptureKind, GuestPreparation
from vmops.capture.cli import capture_commands
from vmops.capture.forms import ASCII_INTEGER, EXTRA_REGIONS, AsciiDateField, CaptureForm
from vmops.capture.models import Capture
from vmops.capture.specs import capture_spec
from vmops.models import VirtualMachine
from vmops.services import vm_read_live

CAPTURE = "vmops.capture_virtualmachine"
PAGE_SIZE = 50


def _vm(request: HttpRequest, pk: int) -> VirtualMachine:
    try:
        return vm_selectors.vm_get(user=request.user, pk=pk)
    except VirtualMachine.DoesNotExist:
        raise Http404("There is no VM with this id in the inventory.") from None


def _capture(request: HttpRequest, pk: int) -> Capture:
    if not selectors.may_view(request.user):
        raise PermissionDenied
    try:
        return selectors.capture_get(user=request.user, pk=pk)
    except Capture.DoesNotExist:
        raise Http404("There is no capture with this id.") from None


@require_GET
def capture_by_operation(request: HttpRequest, operation_pk: int) -> HttpResponse:
    """The capture record behind an operation id (the catalog knows its image's operation)."""
    if not selectors.may_view(request.user):
        raise PermissionDenied
    capture = (
        selectors.capture_history(user=request.user, filters={})
        .filter(operation_id=operation_pk)
        .first()
    )
    if capture is None:
        raise Http404("No capture belongs to this operation.")
    return redirect("capture:capture_detail", pk=capture.pk)


# --- The wizard -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(CAPTURE, raise_exception=True)
def capture_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the kind and the target; the pre-flight panel reads the VM from Azure."""
    vm = _vm(request, pk)
    if vm.gone_at:
        raise Http404("This VM no longer exists in Azure.")
    detail, choices, azure_error = None, None, None
    try:
        detail = vm_read_live(vm=vm)
        choices = selectors.wizard_choices(vm)
    except azure.AzureError as exc:
        azure_error = exc
    form = CaptureForm(
        request.POST if request.method == "POST" else None,
        initial=_initial(request, vm, choices),
        vm=vm,
        detail=detail,
        galleries=choices.galleries if choices else [],
        definitions=choices.definitions if choices else {},
        regions=choices.regions if choices else [],
    )
    valid = request.method == "POST" and detail is not None and form.is_valid()
    # Valid, but worth a second look (a version that will never be the latest): nothing is
    # queued until the operator submits again having read it.
    confirm_warnings = form.warnings if valid and not request.POST.get("accept_warnings") else []
    if valid and not confirm_warnings:
        try:
            capture, _ = services.capture_request(vm=vm, options=form.options(), user=request.user)
        except ActionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The capture of {vm.name} is queued.")
            return redirect("capture:capture_detail", pk=capture.pk)
    context = _wizard_context(request, vm, form, detail, azure_error)
    context["confirm_warnings"] = confirm_warnings
    context["error_count"] = sum(len(errors) for errors in form.errors.values())
    if is_partial(request, "capture-preflight"):
        return render(request, "capture/capture_start.html#capture-preflight", context)
    return render(
        request, "capture/capture_start.html", context, status=400 if form.errors else 200
    )


def _initial(
    request: HttpRequest, vm: VirtualMachine, choices: selectors.WizardChoices | None
) -> dict[str, Any]:
    kind = request.GET.get("kind")
    initial: dict[str, Any] = {
        "kind": kind if kind in CaptureKind.values else CaptureKind.GALLERY_GENERALIZED
    }
    if choices and choices.galleries:
        gallery = choices.galleries[0]
        key = f"{gallery.resource_group}/{gallery.name}"
        initial["gallery"] = key
        matching = [
            d
            for d in choices.definitions.get(key, [])
            if d.os_type == vm.os_type and d.hyper_v_generation == vm.hyper_v_generation
        ]
        if matching:
            initial["definition"] = matching[0].name
            initial["version"] = selectors.proposed_version(vm, gallery, matching[0].name)
        else:
            initial["version"] = "1.0.0"
    return initial


def _wizard_context(
    request: HttpRequest,
    vm: VirtualMachine,
    form: CaptureForm,
    detail: azure.VirtualMachineDetail | None,
    azure_error: azure.AzureError | None,
) -> dict[str, Any]:
    asked = form.data or request.GET  # the pre-flight panel is reloaded with GET parameters
    kind_value = asked.get("kind") or form.initial.get("kind")
    kind = CaptureKind(kind_value) if kind_value in CaptureKind.values else None
    check = None
    if detail is not None and kind is not None:
        guest = asked.get("guest_preparation") or GuestPreparation.CONFIRMED
        check = preflight.Preflight(
            preflight.vm_facts(detail),
            preflight.vm_problems(
                detail,
                preflight.Target(
                    kind=kind,
                    guest_preparation=guest,
                    image_resource_group="",
                    image_name="",
                ),
            ),
            form.warnings,
        )
    regions = [
        (form[f"region_{i}"], form[f"replicas_{i}"], form[f"storage_{i}"])
        for i in range(1, EXTRA_REGIONS + 1)
    ]
    return {
        "vm": vm,
        "form": form,
        "detail": detail,
        "azure_error": azure_error,
        "check": check,
        "kind": kind,
        "kinds": CaptureKind,
        "extra_regions": regions,
        "windows": vm.os_type == "Windows",
        "plans": {
            kind.value: [step.label for step in capture_spec(kind).steps] for kind in CaptureKind
        },
    }


# --- A capture's record ---------------------------------------------------------------------


@require_GET
def capture_detail(request: HttpRequest, pk: int) -> HttpResponse:
    capture = _capture(request, pk)
    context = _record_context(request, capture)
    if is_partial(request, "capture-steps"):
        return render(request, "capture/capture_detail.html#capture-steps", context)
    return render(request, "capture/capture_detail.html", context)


def _record_context(request: HttpRequest, capture: Capture) -> dict[str, Any]:
    operation: Operation = capture.operation
    spec = registry.find(operation.kind)
    steps = list(operation.steps.all())
    commands = capture_commands(capture)
    stopped = operation.status in ("failed", "canceled")
    situation, image_exists = ("", False)
    if stopped and not capture.abandoned_at:
        situation, image_exists = selectors.situation(capture)
    can_act = request.user.has_perm(CAPTURE)
    step_context = registry.StepContext(operation=operation, cache={"capture": capture})
    irreversible = (
        {s.name for s in spec.steps if s.is_irreversible(step_context)} if spec else set()
    )
    return {
        "capture": capture,
        "operation": operation,
        "steps": [(step, commands.get(step.name)) for step in steps],
        "irreversible": irreversible,
        "polling": operation.is_unfinished,
        "situation": situation,
        "offer_retry": can_act and stopped and not capture.abandoned_at,
        "retry_needs_typed_name": services.retry_needs_typed_name(capture),
        "offer_delete_partial": can_act and stopped and image_exists and not capture.abandoned_at,
        "offer_cancel": can_act
        and operation.is_unfinished
        and not operation.irreversible_step
        and not operation.cancel_requested_at,
        "retries": list(capture.retries.select_related("operation")),
        "review": selectors.catalog_review(capture) if capture.gallery else None,
    }


def _capture_action(
    request: HttpRequest, pk: int, act: Callable[..., object], done: Callable[[Capture], str]
) -> HttpResponse:
    """Carry out one of a capture's buttons; a refusal is its sentence, and nothing changes."""
    capture = _capture(request, pk)
    try:
        act(capture=capture, user=request.user)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, done(capture))
    return redirect("capture:capture_detail", pk=capture.pk)


@require_POST
@permission_required(CAPTURE, raise_exception=True)
def capture_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _capture_action(
        request, pk, services.capture_cancel, lambda c: "The capture stops before its next step."
    )


@require_POST
@permission_required(CAPTURE, raise_exception=True)
def capture_retry(request: HttpRequest, pk: int) -> HttpResponse:
    capture = _capture(request, pk)
    try:
        retried = services.capture_retry(
            capture=capture, user=request.user, typed_name=request.POST.get("typed_name", "")
        )
    except ActionRefused as exc:
        messages.error(request, str(exc))
        return redirect("capture:capture_detail", pk=capture.pk)
    messages.success(request, "Retrying: the steps Azure already shows done are skipped.")
    return redirect("capture:capture_detail", pk=retried.pk)


@require_POST
@permission_required(CAPTURE, raise_exception=True)
def capture_abandon(request: HttpRequest, pk: int) -> HttpResponse:
    return _capture_action(
        request,
        pk,
        services.capture_abandon,
        lambda c: "The capture was abandoned; it stays in the history.",
    )


@require_POST
@permission_required(CAPTURE, raise_exception=True)
def capture_delete_partial(request: HttpRequest, pk: int) -> HttpResponse:
    return _capture_action(
        request,
        pk,
        services.partial_image_delete,
        lambda c: f"Deleting {c.target_label} in Azure.",
    )


# --- History --------------------------------------------------------------------------------


class HistoryFilterForm(forms.Form):
    vm = forms.CharField(required=False, max_length=64, label="VM")
    person = forms.CharField(required=False, max_length=150, label="Person")
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any kind"), *CaptureKind.choices], label="Target"
    )
    target = forms.CharField(required=False, max_length=100, label="Image or gallery")
    outcome = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any outcome"),
            ("succeeded", "Succeeded"),
            ("failed", "Failed"),
            ("canceled", "Canceled"),
            ("running", "In progress"),
            ("abandoned", "Abandoned"),
        ],
        label="Outcome",
    )
    since = AsciiDateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    until = AsciiDateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To"
    )

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}


@require_GET
def capture_list(request: HttpRequest) -> HttpResponse:
    if not selectors.may_view(request.user):
        raise PermissionDenied
    form = HistoryFilterForm(request.GET)
    captures = selectors.capture_history(user=request.user, filters=form.filters())
    asked = request.GET.get("page", "")
    page = Paginator(captures, PAGE_SIZE).get_page(asked if ASCII_INTEGER.match(asked) else 1)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "capture/capture_list.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
    )
