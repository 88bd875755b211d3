"""Long-running operations without background threads.

``LROPoller`` starts a daemon thread that polls as soon as it is built (azure-core 1.41).
The dashboard never wants that: a request or a task records the continuation token the moment
ARM answers 202, and later (maybe in another process) asks how the operation is doing for a
bounded time. So:

* :func:`begin` hands the SDK a polling method that reports itself finished, which makes
  ``LROPoller`` skip its thread, and returns the token built from ARM's initial response;
* :func:`poll` rebuilds an ``ARMPolling`` from a token and drives the SDK's own polling loop,
  but its delay step stops at a deadline instead of sleeping on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.core.polling.arm_polling import ARMPolling


class _AcceptedOnly(ARMPolling):
    """Validates the initial 2xx like ARMPolling, then claims to be done so no thread starts."""

    def finished(self) -> bool:
        return True


def begin(start: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Call an SDK ``begin_*`` method and return its continuation token, without polling."""
    poller = start(*args, polling=_AcceptedOnly(), **kwargs)
    return str(poller.continuation_token())


class _DeadlineReached(Exception):  # internal control flow, never escapes
    pass


class _BoundedARMPolling(ARMPolling):
    """ARMPolling whose wait between polls never crosses ``deadline`` (monotonic seconds)."""

    def __init__(self, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deadline = deadline

    def _delay(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineReached
        self._sleep(min(self._extract_delay(), remaining))


@dataclass(frozen=True)
class Progress:
    finished: bool
    body: Any  # the final resource's JSON (dict) when finished with a body, else None


def _json_body(pipeline_response: Any) -> Any:
    return pipeline_response.http_response.json()


def poll(
    client: ComputeManagementClient, continuation_token: str, *, wait_seconds: float
) -> Progress:
    """Poll the operation behind ``continuation_token`` for at most ``wait_seconds``.

    Polls at least once. Raises azure-core's ``HttpResponseError`` when the operation failed
    (status code 200 and ARM's error in ``error``), exactly as ``result()``
    would.
    """
    polling = _BoundedARMPolling(time.monotonic() + max(0.0, wait_seconds), timeout=5)
    pipeline_client, initial, callback = ARMPolling.from_continuation_token(
        continuation_token,
        # The generated client's pipeline: what the SDK's own begin_*(continuation_token=)
        # hands to from_continuation_token, so the rebuilt poller uses our transport.
        client=client._client,
        deserialization_callback=_json_body,
    )
    polling.initialize(pipeline_client, initial, callback)
    try:
        polling.run()
    except _DeadlineReached:
        return Progress(finished=False, body=None)
    return Progress(finished=True, body=polling.resource())
