"""The billing guard's pages (policies, their dry runs, switching them on), "skip tonight",
and the savings page. Thin: permissions here, rules in ``vmops.services.guard`` and
``vmops.services.prices``.

Who may do what: admins (``vmops.manage_policies``) define and switch policies; operators
see policies and their dry runs and may skip tonight; reviewers and auditors read policies
(``vmops.view_billingpolicy``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contoso_images.core.sync import sync_status
from vmops.chart import savings_chart
from vmops.forms import WEEKDAYS, PolicyForm, parse_id
from vmops.models import BillingPolicy
from vmops.services import guard, prices
from vmops.views.common import OPERATE, VIEW, get_vm

VIEW_POLICIES = "vmops.view_billingpolicy"
MANAGE = "vmops.manage_policies"


def may_see_dry_runs(user: Any) -> bool:
    return bool(user.has_perm(MANAGE) or user.has_perm(OPERATE))


def _may_read(user: Any) -> bool:
    return bool(user.has_perm(VIEW_POLICIES) or user.has_perm(MANAGE))


@require_GET
def billing(request: HttpRequest) -> HttpResponse:
    """The policies, the prices' freshness, and links to each dry run."""
    if not _may_read(request.user):
        raise PermissionDenied("Your role may not see billing-guard policies.")
    context = {
        "policies": BillingPolicy.objects.select_related("changed_by"),
        "may_manage": request.user.has_perm(MANAGE),
        "may_dry_run": may_see_dry_runs(request.user),
        "sync": sync_status(prices.PRICES, user=request.user)
        if request.user.has_perm(VIEW)
        else None,
        "estimate_note": prices.estimate_note(),
    }
    return render(request, "vmops/billing.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, raise_exception=True)
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a policy (a dry run until switched on), or change one; audited before and after."""
    policy = get_object_or_404(BillingPolicy, pk=pk) if pk is not None else BillingPolicy()
    before = guard.policy_state(policy) if policy.pk else None
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        saved = guard.policy_save(policy=form.save(), user=request.user, before=before)
        if before is None:
            messages.info(
                request, f"Policy “{saved.name}” created. It is a dry run until you switch it on."
            )
        else:
            messages.info(request, f"Policy “{saved.name}” saved.")
        return redirect("vmops:policy_detail", pk=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "vmops/policy_edit.html", {"form": form, "policy": policy}, status=status
    )


@require_GET
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The policy and, for operators and admins, its dry run: what it would do now and why."""
    if not _may_read(request.user):
        raise PermissionDenied("Your role may not see billing-guard policies.")
    policy = get_object_or_404(BillingPolicy.objects.select_related("changed_by"), pk=pk)
    plan = guard.policy_plan(policy) if may_see_dry_runs(request.user) else None
    context = {
        "policy": policy,
        "plan": plan,
        "may_manage": request.user.has_perm(MANAGE),
        "estimate_note": prices.estimate_note(),
        "weekdays": ", ".join(
            name for number, name in _weekday_names() if number in (policy.weekdays or [])
        ),
    }
    return render(request, "vmops/policy_detail.html", context)


def _weekday_names() -> list[tuple[int, str]]:
    return WEEKDAYS


@require_POST
@permission_required(MANAGE, raise_exception=True)
def policy_switch(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a policy on (it acts on its schedule) or back to a dry run."""
    policy = get_object_or_404(BillingPolicy, pk=pk)
    wanted = request.POST.get("enabled")
    if wanted not in ("on", "off"):
        return HttpResponseBadRequest("Say whether to switch the policy on or off.")
    before = guard.policy_state(policy)
    policy.enabled = wanted == "on"
    guard.policy_save(
        policy=policy,
        user=request.user,
        before=before,
        action="billing_guard.policy.switched_on"
        if policy.enabled
        else "billing_guard.policy.switched_off",
    )
    if policy.enabled:
        messages.info(request, f"Policy “{policy.name}” is on: it deallocates on its schedule.")
    else:
        messages.info(request, f"Policy “{policy.name}” is back to a dry run: it sends nothing.")
    return redirect("vmops:policy_detail", pk=policy.pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(BillingPolicy, pk=pk)
    guard.policy_delete(policy=policy, user=request.user)
    messages.info(request, f"Policy “{policy.name}” deleted.")
    return redirect("vmops:billing")


@require_POST
@permission_required(OPERATE, raise_exception=True)
def vm_skip_tonight(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep this VM allocated tonight despite a time-of-day policy's notice."""
    vm = get_vm(request, pk)
    try:
        policy_id = parse_id(request.POST.get("policy", ""))
    except ValidationError:
        return HttpResponseBadRequest("Name the policy to skip.")
    policy = get_object_or_404(BillingPolicy, pk=policy_id)
    try:
        notice = guard.skip_tonight(policy=policy, vm=vm, user=request.user)
    except ValueError as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    messages.info(
        request,
        f"{vm.name} stays allocated tonight: {policy.actor_name} skips it at {notice.local_time}.",
    )
    return redirect("vmops:vm_detail", pk=vm.pk)


@require_GET
@permission_required(VIEW, raise_exception=True)
def savings_page(request: HttpRequest) -> HttpResponse:
    """What deallocations done from here saved: in total, per person or policy, per week."""
    found = prices.savings()
    summary = prices.savings_summary(found)
    context = {
        "summary": summary,
        "chart": savings_chart(summary.by_week),
        "recent": found[:50],
        "estimate_note": prices.estimate_note(),
        "people": [(who, prices.money(amount)) for who, amount in summary.by_person],
    }
    return render(request, "vmops/savings.html", context)
