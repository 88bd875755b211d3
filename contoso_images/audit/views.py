"""The audit pages. Thin: parse, check permission, call a selector or service, render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from contoso_images.audit import selectors
from contoso_images.audit.chain import canonical_json
from contoso_images.audit.forms import AuditFilterForm, CaptureFilterForm
from contoso_images.audit.models import AuditCheckpoint, AuditEvent
from contoso_images.audit.services.checkpoints import checkpoint_document
from contoso_images.audit.services.exporting import FORMATS, export_start
from contoso_images.audit.services.verification import chain_verify_enqueue
from contoso_images.core.converters import MAX_ID
from contoso_images.core.htmx import is_partial
from contoso_images.core.http import querystring

PAGE_SIZE = 50
CAPTURE_PAGE_SIZE = 20
VIEW = "audit.view_audit"
EXPORT = "audit.export_audit"


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def audit_index(request: HttpRequest) -> HttpResponse:
    """The log: every recorded action and refusal, newest first, under the filters."""
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    results = selectors.event_results(filters)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "capped": getattr(results, "capped", False),
        "count_cap": selectors.SEARCH_COUNT_CAP,
        "form": form,
        "page": page,
        "filtered": bool(filters),
        "querystring": querystring(request),
        "export_fields": [(k, v) for k, v in request.GET.items() if k in form.fields and v],
        "action_suggestions": form.action_suggestions(),
        "status": selectors.chain_status(),
        "formats": list(FORMATS),
        "row_urls": row_urls(),
    }
    if is_partial(request, "audit-log"):
        return render(request, "audit/audit_index.html#audit-log", context)
    return render(request, "audit/audit_index.html", context)


def row_urls() -> dict[str, str]:
    """The prefixes of the event and operation links, reversed once per page, not per row
    (``/audit/events/`` + sequence + ``/``)."""
    marker = "1234567890"
    return {
        "event": reverse("audit:event_detail", args=[marker]).split(marker)[0],
        "operation": reverse("audit:operation_detail", args=[marker]).split(marker)[0],
    }


@require_GET
@permission_required(VIEW, raise_exception=True)
def event_detail(request: HttpRequest, sequence: int) -> HttpResponse:
    """One event: every recorded value, its hash and its neighbours in the chain."""
    try:
        event, previous, following = selectors.event_with_neighbours(sequence)
    except AuditEvent.DoesNotExist:
        raise Http404("There is no audit event with this number.") from None
    hash_matches, links_back = selectors.event_checks(event, previous)
    context = {
        "event": event,
        "previous": previous,
        "following": following,
        "hash_matches": hash_matches,
        "links_back": links_back,
        "parameters": _pretty(event.parameters),
        "result": _pretty(event.result),
    }
    return render(request, "audit/event_detail.html", context)


def _pretty(text: str) -> str:
    data = json.loads(text or "{}")
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) if data else ""


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def capture_history(request: HttpRequest) -> HttpResponse:
    """Every capture: source VM, image, options, steps, duration, who, the source VM's fate,
    and the review decisions on the image."""
    form = CaptureFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(selectors.capture_list(filters), CAPTURE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "records": selectors.capture_records(page),
        "filtered": bool(filters),
        "querystring": querystring(request),
    }
    if is_partial(request, "capture-history"):
        return render(request, "audit/capture_history.html#capture-history", context)
    return render(request, "audit/capture_history.html", context)


@require_GET
@permission_required(VIEW, raise_exception=True)
def operation_detail(request: HttpRequest, operation_id: int) -> HttpResponse:
    """The record of one operation (a capture or any other): every event, in order."""
    record = selectors.operation_record(operation_id)
    if record is None:
        raise Http404("The audit record holds no event of this operation.")
    context = {
        "record": record,
        "is_capture": selectors.is_capture(record),
    }
    return render(request, "audit/operation_detail.html", context)


@require_POST
@permission_required(EXPORT, raise_exception=True)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The log under the current filters as CSV or JSON Lines, streamed (and recorded)."""
    fmt = request.POST.get("format", "")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            "Choose CSV or JSON Lines for the export.", content_type="text/plain"
        )
    form = AuditFilterForm(request.POST)
    filters = form.filters()
    export = export_start(filters=filters, fmt=fmt, actor=request.user, request=request)
    response = StreamingHttpResponse(export.lines(), content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Audit-Events"] = str(export.count)
    return response


@require_GET
@permission_required(VIEW, raise_exception=True)
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    """Signed checkpoints, to download and keep somewhere else."""
    page = Paginator(selectors.checkpoint_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/checkpoint_list.html",
        {"page": page, "status": selectors.chain_status()},
    )


@require_GET
@permission_required(VIEW, raise_exception=True)
def checkpoint_download(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        checkpoint = AuditCheckpoint.objects.get(pk=pk)
    except AuditCheckpoint.DoesNotExist:
        raise Http404("There is no checkpoint with this number.") from None
    body = json.dumps(checkpoint_document(checkpoint), indent=2) + "\n"
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-checkpoint-{checkpoint.sequence}.json"'
    )
    return response


@require_GET
@permission_required(VIEW, raise_exception=True)
def checkpoint_download_all(request: HttpRequest) -> HttpResponseBase:
    checkpoints = selectors.checkpoint_list().order_by("created_at", "id")
    lines = (canonical_json(checkpoint_document(cp)) + "\n" for cp in checkpoints.iterator())
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="audit-checkpoints.jsonl"'
    return response


@require_POST
@permission_required(VIEW, raise_exception=True)
def chain_verify(request: HttpRequest) -> HttpResponse:
    """Verify the whole chain and, if it is intact, sign a checkpoint of its head (in a
    worker: 100,000 events take seconds).

    From htmx the answer is the chain status panel, which asks again every few seconds
    until the run has finished and then shows its result (and tells the checkpoint list to
    load itself again); without JavaScript, the checkpoints page with a sentence."""
    before = selectors.latest_verification_id()
    chain_verify_enqueue(actor=request.user)
    if is_partial(request, "chain-status"):
        return _chain_status_panel(request, after=before)
    messages.info(
        request,
        "Verification started. The chain status shows its result, and the list below the "
        "new checkpoint, as soon as it has finished; reload the page to see them.",
    )
    return redirect("audit:checkpoint_list")


@require_GET
@permission_required(VIEW, raise_exception=True)
def chain_status(request: HttpRequest) -> HttpResponse:
    """The chain status panel, polled while a verification runs (``?after=`` the newest run
    before it started)."""
    try:
        after = int(request.GET.get("after", ""))
    except ValueError:
        after = None
    if after is not None and not 0 <= after <= MAX_ID:
        after = None
    return _chain_status_panel(request, after=after)


def _chain_status_panel(request: HttpRequest, *, after: int | None) -> HttpResponse:
    status = selectors.chain_status()
    newest = status.last_verification.pk if status.last_verification else 0
    verifying = after is not None and (newest or 0) <= after
    response = render(
        request,
        "audit/includes/chain_status.html",
        {"status": status, "verifying": verifying, "verifying_after": after},
    )
    if after is not None and not verifying:
        response["HX-Trigger"] = "audit-chain-verified"
    return response
