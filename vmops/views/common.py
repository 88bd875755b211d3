"""What every vmops view shares: finding a VM, going back safely, telling the page."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import trigger_client_event

from vmops import selectors
from vmops.models import VirtualMachine

OPERATE = "vmops.operate_virtualmachine"
VIEW = "vmops.view_virtualmachine"


def get_vm(request: HttpRequest, pk: int) -> VirtualMachine:
    try:
        return selectors.vm_get(user=request.user, pk=pk)
    except VirtualMachine.DoesNotExist:
        raise Http404("There is no VM with this id in the inventory.") from None


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` path posted with a form, if it is a path on this site; else ``fallback``.

    Only paths count: ``redirect("vms")`` would look "vms" up as a URL name (a 500 after the
    action was queued) and "logout" would resolve to the sign-out page.
    """
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, fallback))


def querystring(request: HttpRequest, *, drop: tuple[str, ...]) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


def tell(response: HttpResponse, level: str, text: str, **events: Any) -> HttpResponse:
    """Ask the page to show a message (the fixed message area) and fire other events."""
    trigger_client_event(response, "show-message", {"level": level, "text": text})
    for name, detail in events.items():
        trigger_client_event(response, name.replace("_", "-"), detail or {})
    return response
