"""Multi-select review: the preview (GET: what each ticked image would get, nothing
written), the confirmation (POST: one decision per image, each checked on its own) and the
per-image results. Thin: the rules are ``catalog.services.bulk_review``'s."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from catalog import selectors
from catalog.choices import REVIEW_PERMISSION
from catalog.decisions import decision_spec
from catalog.forms import BulkReviewForm
from catalog.rows import poll_seconds
from catalog.services.bulk_review import (
    DECIDE,
    QUEUED,
    RECORDED,
    REFUSED,
    bulk_limit,
    review_many,
    review_plan,
)
from contoso_images.core.errors import ActionRefused
from contoso_images.core.htmx import is_partial
from contoso_images.core.http import redirect_back
from contoso_images.operations.models import Operation

#: Where the results of the last multi-select wait for their page (one per session).
RESULTS_KEY = "catalog_bulk_review"


@require_http_methods(["GET", "POST"])
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def review_bulk(request: HttpRequest) -> HttpResponse:
    """GET: the preview of one decision on the ticked images. POST: make it, then the
    results page (redirected to, so a reload sends nothing again)."""
    params = request.POST if request.method == "POST" else request.GET
    form = BulkReviewForm(params)
    index = reverse("catalog:catalog_index")
    if not form.is_valid():
        reason = "Tick at least one image and choose a decision."
        if request.method == "POST":
            messages.error(request, f"Nothing was decided. {reason}")
            return redirect_back(request, index)
        return render(request, "catalog/review_bulk.html", {"error": reason}, status=400)
    spec = decision_spec(form.cleaned_data["decision"])
    ids = form.cleaned_data["image"]
    if len(ids) > bulk_limit():
        reason = f"One review covers at most {bulk_limit()} images; tick fewer."
        if request.method == "POST":
            messages.error(request, f"Nothing was decided. {reason}")
            return redirect_back(request, index)
        return render(request, "catalog/review_bulk.html", {"error": reason}, status=400)
    images = selectors.images_by_ids(user=request.user, ids=ids)
    if request.method == "POST":
        try:
            results = review_many(
                images=images,
                user=request.user,
                spec=spec,
                note=form.cleaned_data["note"],
                end_of_life_date=form.end_of_life(),
            )
        except ActionRefused as exc:
            messages.error(request, f"Nothing was decided. {exc}")
            return redirect_back(request, index)
        found = {image.pk for image in images}
        rows = [r.as_dict() for r in results] + [
            {
                "image_id": pk,
                "name": f"Image {pk}",
                "outcome": REFUSED,
                "reason": "Not in the catalog (any more); nothing was decided.",
                "operation_id": None,
            }
            for pk in ids
            if pk not in found
        ]
        request.session[RESULTS_KEY] = {"decision": spec.value, "items": rows}
        counts = Counter(row["outcome"] for row in rows)
        text = f"{spec.label}: {counts[RECORDED] + counts[QUEUED]} image(s) decided"
        if counts[QUEUED]:
            text += f", {counts[QUEUED]} being carried out in Azure"
        if counts[REFUSED]:
            text += f"; {counts[REFUSED]} refused (why, below)"
        messages.success(request, text + ".")
        return redirect("catalog:review_bulk_results")
    plan = review_plan(images=images, spec=spec)
    plan.sort(key=lambda item: item.outcome == DECIDE)  # the skipped ones first: read them
    deciding = [item for item in plan if item.outcome == DECIDE]
    context: dict[str, Any] = {
        "form": form,
        "spec": spec,
        "plan": plan,
        "deciding": len(deciding),
        "skipped": len(plan) - len(deciding),
        "in_azure": sum(1 for item in deciding if item.in_azure),
        "emptied_definitions": list(
            {
                item.image.definition_id: item.image.definition
                for item in deciding
                if item.leaves_no_latest and item.image.definition is not None
            }.values()
        ),
        "missing": len(ids) - len(images),
        "back_url": index,
    }
    return render(request, "catalog/review_bulk.html", context)


@require_GET
@permission_required(REVIEW_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def review_bulk_results(request: HttpRequest) -> HttpResponse:
    """What became of each image of the last multi-select review (this session's)."""
    results = request.session.get(RESULTS_KEY)
    if not results:
        return redirect("catalog:catalog_index")
    spec = decision_spec(results["decision"])
    ids = [item["operation_id"] for item in results["items"] if item["operation_id"]]
    operations = Operation.objects.in_bulk(ids)
    items = [
        {**item, "operation": operations.get(item["operation_id"])} for item in results["items"]
    ]
    unfinished = any(op.is_unfinished for op in operations.values())
    context = {
        "spec": spec,
        "items": items,
        "poll_seconds": poll_seconds() if unfinished else 0,
    }
    if is_partial(request, "bulk-results"):
        return render(request, "catalog/review_bulk_results.html#bulk-results", context)
    return render(request, "catalog/review_bulk_results.html", context)
