"""Status of a long-running operation, resumed from its continuation token in any process.

The token (azure-core's JSON, version 1) carries ARM's initial 202/201 response with its absolute
Azure-AsyncOperation / Location URLs; together with the ``kind`` (which says how to read the
final body) it is all a worker needs to pick an operation up after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError

from contoso_images.azure import lro
from contoso_images.azure.clients import compute_client
from contoso_images.azure.deploy import vm_create_result_from_raw
from contoso_images.azure.errors import gateway_call, translate
from contoso_images.azure.galleries import definition_from_raw, gallery_from_raw, version_from_raw
from contoso_images.azure.images import image_from_raw
from contoso_images.azure.types import OperationStatus
from contoso_images.azure.vms import run_command_result_from_raw


def _nothing(_body: Any) -> None:
    return None


# kind -> how to turn the final resource JSON into our dataclass
RESULT_READERS: dict[str, Callable[[Any], object | None]] = {
    "vm_start": _nothing,
    "vm_power_off": _nothing,
    "vm_deallocate": _nothing,
    "vm_restart": _nothing,
    "vm_delete": _nothing,
    "vm_create": vm_create_result_from_raw,
    "disk_delete": _nothing,
    "image_delete": _nothing,
    "gallery_image_version_delete": _nothing,
    "vm_run_command": run_command_result_from_raw,
    "image_create": image_from_raw,
    "gallery_create": gallery_from_raw,
    "gallery_image_definition_create": definition_from_raw,
    "gallery_image_version_create": version_from_raw,
    "gallery_image_version_update": version_from_raw,
}


@gateway_call
def operation_status(
    kind: str, continuation_token: str, *, subscription_id: str, wait_seconds: float = 0.0
) -> OperationStatus:
    """Poll the operation for at most ``wait_seconds`` (at least once) and say where it is.

    A failed operation is not raised: it comes back as ``state="failed"`` with ARM's code and
    message in ``error``. Errors reaching ARM at all (throttling, network) are raised.
    """
    try:
        reader = RESULT_READERS[kind]
    except KeyError:
        raise ValueError(f"unknown operation kind {kind!r}") from None
    try:
        progress = lro.poll(
            compute_client(subscription_id), continuation_token, wait_seconds=wait_seconds
        )
    except HttpResponseError as exc:
        if exc.response is None or exc.status_code not in (200, 201, 202, 204):
            # The poll itself failed (a 429, a 404, an answer broken off mid-body): that is
            # an observation failure, never the operation's.
            raise
        return OperationStatus(state="failed", error=translate(exc))
    if not progress.finished:
        return OperationStatus(state="in_progress")
    return OperationStatus(
        state="succeeded", result=reader(progress.body) if progress.body else None
    )
