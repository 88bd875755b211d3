"""The audit middleware: binds the request for the record, and records every 403.

Placed before the CSRF and authentication middleware, it sees every refusal: a view's
PermissionDenied, a decorator's, a CSRF failure, a page that answers 403 itself. A request
whose refusal was already recorded by the service that refused it (``vm.start.refused``) is
not recorded twice.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from contoso_images.audit import context
from contoso_images.audit.models import Outcome
from contoso_images.audit.services.recording import Subject, record

REASON_ATTRIBUTE = "_audit_denied_reason"


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.bind(request)
        try:
            response = self.get_response(request)
            bound = context.current()
            if response.status_code == 403 and not (bound and bound.refusal_recorded):
                _record_denied(request)
            return response
        finally:
            context.unbind(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            setattr(request, REASON_ATTRIBUTE, str(exception))


def _record_denied(request: HttpRequest) -> None:
    match = request.resolver_match
    name = match.view_name if match else ""
    record(
        action="access.denied",
        target=Subject(kind="url", id=request.path[:400], name=name or request.path[:300]),
        outcome=Outcome.REFUSED,
        parameters={"method": request.method, "path": request.path},
        detail=getattr(request, REASON_ATTRIBUTE, "") or "Forbidden (HTTP 403).",
        request=request,
    )
