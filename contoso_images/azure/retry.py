"""Bounded retries: honour Retry-After, never let one gateway call sleep past a cap, and never
resend an action whose answer may have been lost.

azure-core's ``RetryPolicy`` sleeps whatever ``Retry-After`` says, and real Compute throttling
says 1200 seconds. A web request must not hang for 20 minutes, so the policy
below shares one sleep budget (``AZURE_MAX_RETRY_WAIT``) across every request made inside a
gateway call; when a Retry-After would overrun it, the 429 is handed back untouched and the
gateway raises ``AzureError(code="TooManyRequests", retry_after=N)`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import RetryPolicy

RETRY_TOTAL = 3
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 4
#: Requests that change something in Azure: never resent after an answer that may be lost.
WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})
#: No single request, retries included, may take longer than this (azure-core: one week).
REQUEST_TIMEOUT = 90


@dataclass
class _Budget:
    remaining: float


_budget: ContextVar[_Budget | None] = ContextVar("azure_retry_budget", default=None)


@contextmanager
def retry_budget(seconds: float | None = None) -> Iterator[None]:
    """Share one sleep budget across all requests in the block (outermost block wins)."""
    if _budget.get() is not None:
        yield
        return
    if seconds is None:
        from contoso_images.azure.config import current

        seconds = current().max_retry_wait
    token = _budget.set(_Budget(max(0.0, seconds)))
    try:
        yield
    finally:
        _budget.reset(token)


class CappedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]  # generic only in the stubs
    """A ``RetryPolicy`` whose total sleep per gateway call (or per request) is capped."""

    def __init__(self, *, max_wait: float, **kwargs: Any) -> None:
        kwargs.setdefault("retry_total", RETRY_TOTAL)
        kwargs.setdefault("retry_backoff_factor", BACKOFF_FACTOR)
        kwargs.setdefault("retry_backoff_max", BACKOFF_MAX)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        super().__init__(**kwargs)
        self.max_wait = max_wait

    def _budget_for(self, settings: dict[str, Any]) -> _Budget:
        budget = _budget.get()
        if budget is None:  # a call outside the gateway functions: cap per request
            budget = settings.setdefault("capped_budget", _Budget(self.max_wait))
        return budget

    def _is_method_retryable(
        self, settings: dict[str, Any], request: Any, response: Any | None = None
    ) -> bool:
        if request.method.upper() in WRITE_METHODS:
            # azure-core resends a POST/PATCH after a 500/503/504 and a PUT/DELETE after a
            # timeout or a dropped connection, but Azure may have carried the request out and
            # lost only the answer: a second restart is a second outage, a second image PUT a
            # second create. The engine looks at the resource before sending again; only a
            # 429 (refused, nothing applied) is retried here.
            return response is not None and response.status_code == 429
        return bool(super()._is_method_retryable(settings, request, response=response))

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if not super().is_retry(settings, response):
            return False
        method = response.http_request.method.upper()
        if method in WRITE_METHODS and response.http_response.status_code != 429:
            # A 5xx with Retry-After skips azure-core's method check: refuse it here too.
            return False
        wait = self.get_retry_after(response)
        # Too long to wait: give the 429 back so the caller learns its Retry-After.
        return not (wait and wait > self._budget_for(settings).remaining)

    def sleep(
        self,
        settings: dict[str, Any],
        transport: Any,
        response: PipelineResponse[Any, Any] | None = None,
    ) -> None:
        budget = self._budget_for(settings)
        wait = (self.get_retry_after(response) if response is not None else None) or (
            self.get_backoff_time(settings)
        )
        wait = min(wait, budget.remaining)
        if wait > 0:
            budget.remaining -= wait
            transport.sleep(wait)
