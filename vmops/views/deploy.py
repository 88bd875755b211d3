"""Create VMs from a catalog image; follow a deployment; delete a VM. Thin: the rules are in
``vmops.deploy.preflight``, the requests in ``vmops.deploy.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from catalog.models import CatalogImage
from contoso_images import azure
from contoso_images.core.errors import ActionRefused
from contoso_images.core.htmx import is_partial
from vmops.deploy import cli, preflight, selectors, services
from vmops.deploy.forms import DeleteForm, DeployForm, parse_tags
from vmops.deploy.specs import DELETE, DEPLOY
from vmops.models import Deployment
from vmops.rows import poll_seconds
from vmops.views.common import VIEW, get_vm


def _image(request: HttpRequest) -> CatalogImage:
    try:
        pk = int(request.GET.get("image") or request.POST.get("image") or "")
    except ValueError:
        raise Http404("Choose an image from the catalog to create a VM from.") from None
    return get_object_or_404(
        CatalogImage.objects.select_related("definition", "subscription"), pk=pk
    )


def _facts(subscription_id: str, values: dict[str, Any], *, names: list[str] | None = None) -> Any:
    return preflight.AzureFacts.read(
        subscription_id,
        location=values.get("location", ""),
        resource_group=values.get("resource_group", ""),
        names=names,
    )


def _values(image: CatalogImage, data: Any, regions: list[str]) -> dict[str, Any]:
    """What the form shows now (never the password): asked for, else defaults."""
    values = {
        k: (data.get(k) or "").strip() for k in DeployForm.base_fields if k != "admin_password"
    }
    if values["location"] not in regions:
        # The image's own region first (a custom image's home, a Marketplace entry's).
        home = image.location if image.location in regions else ""
        values["location"] = home or (regions[0] if regions else "")
    values["count"] = values["count"] or "1"
    values["admin_username"] = values["admin_username"] or "azureuser"
    return values


def _form_context(
    request: HttpRequest, image: CatalogImage, values: dict[str, Any], facts: Any, form: Any = None
) -> dict[str, Any]:
    regions = preflight.image_regions(image, facts.network_regions())
    sizes = preflight.usable_sizes(facts.skus, image)
    subnets = facts.subnets(values["location"]) if values["location"] else []
    linux = (image.os_type or "Linux") != "Windows"
    if form is None:
        form = DeployForm(
            initial=values,
            regions=regions,
            sizes=sizes,
            subnets=subnets,
            linux=linux,
            gallery=image.is_gallery_version,
        )
    try:
        count = max(1, min(preflight.MAX_BATCH, int(values.get("count") or 1)))
    except ValueError:
        count = 1
    try:
        tags = parse_tags(values.get("tags", ""))
    except Exception:
        tags = {}
    names = preflight.names_of(values.get("name") or "<vm-name>", count)
    image_ref = preflight.image_reference(image, latest=bool(values.get("latest")))
    commands = cli.create_commands(
        {
            **values,
            "names": names,
            "subnet_id": values.get("subnet") or (subnets[0][1].id if subnets else ""),
            "size": values.get("size") or (sizes[0].name if sizes else ""),
            "os_type": image.os_type or "Linux",
            "image": image_ref,
            "plan": image.plan,
            "security_type": preflight.security_type(image),
            "tags": services.deploy_tags(image=image, user=request.user, extra=tags),
        }
    )
    return {
        "image": image,
        "form": form,
        "linux": linux,
        "regions": regions,
        "sizes": sizes,
        "unreviewed": image.review_status != "approved",
        "commands": commands,
        "generation": preflight.generation(image),
        "names": names if values.get("name") else [],
    }


@sensitive_post_parameters("admin_password")
@sensitive_variables("ask", "password")
@require_http_methods(["GET", "POST"])
@permission_required(DEPLOY, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def vm_deploy(request: HttpRequest) -> HttpResponse:
    """The "Create VM" form: GET shows it (htmx GETs redraw it as it is filled in, without
    the password); POST runs the pre-flight, then queues one operation per VM."""
    image = _image(request)
    refusal = selectors.deploy_refusal(image)
    if refusal:
        return render(
            request, "vmops/deploy_refused.html", {"image": image, "reason": refusal}, status=409
        )
    subscription = selectors.deploy_subscription(image)
    if subscription is None:
        return render(
            request,
            "vmops/deploy_refused.html",
            {
                "image": image,
                "reason": "No subscription is known yet; refresh the inventory first.",
            },
            status=409,
        )
    sub = subscription.subscription_id
    data = request.POST if request.method == "POST" else request.GET
    # A POST's pre-flight reads Azure afresh; the form's redraws may use reads a minute old.
    fresh = request.method == "POST"
    try:
        facts = preflight.AzureFacts.read(sub, fresh=fresh)
        regions = preflight.image_regions(image, facts.network_regions())
        values = _values(image, data, regions)
        if values["location"]:
            facts.skus = preflight.region_skus(sub, values["location"], fresh=fresh)
            if fresh:
                facts.usages = azure.compute_usages(sub, values["location"])
    except azure.AzureError as exc:
        return render(
            request,
            "vmops/deploy_refused.html",
            {"image": image, "reason": exc.sentence},
            status=503,
        )
    if request.method == "GET":
        context = _form_context(request, image, values, facts)
        if getattr(request, "htmx", False) or is_partial(request, "deploy-form"):
            return render(request, "vmops/vm_deploy.html#deploy-form", context)
        return render(request, "vmops/vm_deploy.html", context)
    return _deploy(request, image, sub, values, facts)


@sensitive_variables("ask", "password")
def _deploy(
    request: HttpRequest, image: CatalogImage, sub: str, values: dict[str, Any], facts: Any
) -> HttpResponse:
    context = _form_context(request, image, values, facts)
    form = DeployForm(
        request.POST,
        regions=context["regions"],
        sizes=context["sizes"],
        subnets=facts.subnets(values["location"]),
        linux=context["linux"],
        gallery=image.is_gallery_version,
    )
    context["form"] = form
    if not form.is_valid():
        return render(request, "vmops/vm_deploy.html", context, status=400)
    data = form.cleaned_data
    ask = preflight.DeployAsk(
        image=image,
        name=data["name"],
        count=data["count"],
        resource_group=data["resource_group"],
        location=data["location"],
        size=data["size"],
        subnet_id=data["subnet"],
        admin_username=data["admin_username"],
        ssh_public_key=data.get("ssh_public_key", ""),
        admin_password=data.get("admin_password", ""),
        latest=bool(data.get("latest")),
    )
    try:
        facts.taken = preflight.taken_names(sub, ask.resource_group, ask.names)
    except azure.AzureError as exc:
        form.add_error(None, exc.sentence)
        return render(request, "vmops/vm_deploy.html", context, status=503)
    found = preflight.problems(ask, facts)
    if found:
        for field, sentences in found.items():
            name = field if field in form.fields else None
            for sentence in sentences:
                form.add_error(name, sentence)
        return render(request, "vmops/vm_deploy.html", context, status=400)
    try:
        deployment = services.deploy_request(
            ask=ask, subscription_id=sub, user=request.user, tags=data["tags"]
        )
    except ActionRefused as exc:
        form.add_error(None, str(exc))
        return render(request, "vmops/vm_deploy.html", context, status=409)
    messages.success(
        request,
        f"Creating {len(ask.names)} VM{'s' if len(ask.names) != 1 else ''} from {image}: queued.",
    )
    return redirect("vmops:deployment_detail", pk=deployment.pk)


@require_GET
@permission_required(VIEW, raise_exception=True)
@vary_on_headers("HX-Request", "HX-Target")
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Each VM of a deployment with its live progress and a summary; polls until all ended."""
    deployment = get_object_or_404(
        Deployment.objects.select_related("catalog_image", "requested_by"), pk=pk
    )
    progress = selectors.deployment_progress(deployment)
    context = {
        "deployment": deployment,
        "progress": progress,
        "poll_seconds": poll_seconds(None) if progress.unfinished else 0,
    }
    if is_partial(request, "deployment-results"):
        return render(request, "vmops/deployment_detail.html#deployment-results", context)
    return render(request, "vmops/deployment_detail.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(DELETE, raise_exception=True)
def vm_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a VM: the page names what goes and what stays (read live from Azure), asks for
    the VM's name, and queues the delete; refused while another operation runs on it."""
    vm = get_vm(request, pk)
    if vm.deleted_at or vm.gone_at:
        return render(
            request,
            "vmops/vm_delete.html",
            {"vm": vm, "refusal": f"{vm.name} is no longer in Azure; there is nothing to delete."},
            status=409,
        )
    busy = services.unfinished_on(vm)
    plan, azure_error = None, None
    try:
        plan = selectors.delete_plan(services.vm_read_live(vm=vm))
    except azure.AzureError as exc:
        azure_error = exc
    form = DeleteForm(request.POST or None, vm_name=vm.name)
    force = request.method == "POST" and request.POST.get("force") == "on"
    context: dict[str, Any] = {
        "vm": vm,
        "form": form,
        "plan": plan,
        "azure_error": azure_error,
        "busy": busy,
        "commands": cli.delete_commands(
            resource_group=vm.resource_group, name=vm.name, force=force
        ),
    }
    if request.method == "GET":
        return render(request, "vmops/vm_delete.html", context)
    if not form.is_valid():
        return render(request, "vmops/vm_delete.html", context, status=400)
    try:
        operation = services.vm_delete_request(
            vm=vm, user=request.user, force=form.cleaned_data["force"]
        )
    except PermissionDenied:
        raise
    except ActionRefused as exc:
        context["refusal"] = str(exc)
        return render(request, "vmops/vm_delete.html", context, status=409)
    messages.success(request, f"{operation.label} of {vm.name} is queued.")
    return redirect("vmops:vm_detail", pk=vm.pk)


def vms_built_from_panel(request: HttpRequest, image: CatalogImage) -> str:
    """The "VMs built from this image" section of a catalog image's page (registered with
    core, so the catalog never names vmops)."""
    return render_to_string(
        "vmops/includes/vms_built_from.html",
        {"image": image, "vms": list(selectors.vms_built_from(image))},
        request=request,
    )


#: The most VMs one multi-select delete names (each is read live to say what goes with it).
DELETE_MANY_LIMIT = 20


@require_http_methods(["GET", "POST"])
@permission_required(DELETE, raise_exception=True)
def vm_delete_many(request: HttpRequest) -> HttpResponse:
    """Delete the ticked VMs: what goes and stays for each, then the number of VMs typed to
    confirm. Never "everything matching the filter": a delete names its VMs one by one."""
    params = request.POST if request.method == "POST" else request.GET
    if params.get("scope") == "filter":
        messages.error(
            request,
            "Nothing was deleted: a delete acts on ticked VMs only, never on everything a "
            "filter matches. Tick the VMs to delete.",
        )
        return redirect("vmops:vm_list")
    try:
        ids = sorted({int(v) for v in params.getlist("vm")})
    except ValueError:
        ids = []
    if not ids or len(ids) > DELETE_MANY_LIMIT:
        messages.error(
            request, f"Tick between 1 and {DELETE_MANY_LIMIT} VMs to delete; nothing was deleted."
        )
        return redirect("vmops:vm_list")
    vms = list(selectors.vms_to_delete(user=request.user, ids=ids))
    confirm = f"delete {len(vms)}"
    if request.method == "POST":
        if params.get("confirm", "").strip().lower() != confirm:
            messages.error(request, f"Type “{confirm}” to confirm; nothing was deleted.")
        else:
            result = services.vms_delete_request(vms=vms, user=request.user)
            n = len(result.created)
            text = f"Delete queued for {n} VM{'s' if n != 1 else ''}."
            if result.refused:
                text += " Not sent: " + " ".join(reason for _, reason in result.refused)
            messages.success(request, text)
            return redirect("vmops:vm_list")
    items = []
    for vm in vms:
        plan, error = None, ""
        try:
            plan = selectors.delete_plan(services.vm_read_live(vm=vm))
        except azure.AzureError as exc:
            error = exc.sentence
        items.append({"vm": vm, "plan": plan, "error": error, "busy": services.unfinished_on(vm)})
    return render(
        request, "vmops/vm_delete_many.html", {"items": items, "confirm": confirm, "ids": ids}
    )
