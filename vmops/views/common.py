"""What every vmops view shares: finding a VM, telling the page."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
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


def tell(response: HttpResponse, level: str, text: str, **events: Any) -> HttpResponse:
    """Ask the page to show a message (the fixed message area) and fire other events."""
    trigger_client_event(response, "show-message", {"level": level, "text": text})
    for name, detail in events.items():
        trigger_client_event(response, name.replace("_", "-"), detail or {})
    return response
