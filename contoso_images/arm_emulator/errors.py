"""ARM error envelopes and the exact messages Azure uses.

Handlers raise :class:`ArmError`; the router turns it into a JSON response:
``{"error": {"code", "message", "target"?, "details"?}}``. Business errors never carry
``Retry-After``: azure-core retries any 4xx response that has one, so the caller would
never see the error. Where each message comes from (a recording, a public thread, the
documentation, or nowhere) is listed in docs/emulator-fidelity.md; callers should
branch on ``code``, never on the message text.
"""

from __future__ import annotations

import json
from typing import Any

# Operation names used in OperationNotAllowed messages. 'Start VM', 'generalize' and
# 'Create Image' are sourced; the others follow the same pattern (docs/emulator-fidelity.md).
OP_NAMES: dict[str, str] = {
    "start": "Start VM",
    "power_off": "Power off VM",
    "deallocate": "Deallocate VM",
    "restart": "Restart VM",
    "generalize": "generalize",
    "run_command": "Run command",
    "delete": "Delete VM",
    "image_create": "Create Image",
    "capture": "Capture VM",
}

ARM_NOT_FOUND_HINT = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"


class ArmError(Exception):
    """An ARM error response: HTTP status + ``{"error": {code, message, ...}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        """The error object (without the outer ``error`` wrapper)."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return err

    def body(self) -> bytes:
        return json.dumps({"error": self.payload()}).encode()


# --- 400 --------------------------------------------------------------------------------


def invalid_parameter(message: str, target: str | None = None) -> ArmError:
    return ArmError(400, "InvalidParameter", message, target=target)


def missing_api_version() -> ArmError:
    return ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def invalid_api_version(version: str, supported: list[str]) -> ArmError:
    return ArmError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{version}' is invalid. "
        f"The supported versions are '{','.join(supported)}'.",
    )


def invalid_body(reason: str) -> ArmError:
    return invalid_parameter(
        f"The request content was invalid and could not be deserialized: {reason}"
    )


# --- 404 --------------------------------------------------------------------------------


def resource_not_found(resource_path: str, rg: str) -> ArmError:
    """ARM's 404: ``resource_path`` is provider-relative with the names in place,
    ``Microsoft.Compute/galleries/{gallery}/images/{image}`` (Azure/azure-cli#25148)."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_path}' under resource group '{rg}' was not found. "
        + ARM_NOT_FOUND_HINT,
        headers={"x-ms-failure-cause": "gateway"},
    )


def resource_group_not_found(rg: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def parent_not_found(parent: str) -> ArmError:
    return ArmError(
        404,
        "ParentResourceNotFound",
        "Can not perform requested operation on nested resource. "
        f"Parent resource '{parent}' not found.",
    )


def subscription_not_found(sub: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def artifact_not_found() -> ArmError:
    return ArmError(404, "NotFound", "Artifact: VMImage was not found.")


def operation_not_found(op_id: str) -> ArmError:
    return ArmError(404, "NotFound", f"The operation '{op_id}' was not found.")


def no_route(method: str, path: str) -> ArmError:
    return ArmError(
        404,
        "InvalidResourceType",
        f"The emulator does not implement {method} {path}.",
    )


# --- 409 OperationNotAllowed -------------------------------------------------------------


def _not_allowed(message: str) -> ArmError:
    return ArmError(409, "OperationNotAllowed", message)


def vm_generalized(op: str, vm: str) -> ArmError:
    return _not_allowed(
        f"Operation '{op}' is not allowed on VM '{vm}' since the VM is generalized."
    )


def vm_running_generalize(vm: str) -> ArmError:
    return _not_allowed(
        f"Operation 'generalize' is not allowed on VM '{vm}' since the VM is running. "
        "Please power off explicitly in case you shut down the VM from inside the guest "
        "operating system."
    )


def vm_deallocated(op: str, vm: str) -> ArmError:
    return _not_allowed(
        f"Operation '{op}' is not allowed on VM '{vm}' since the VM is either deallocated "
        "or marked to be deallocated."
    )


def vm_busy(op: str, vm: str) -> ArmError:
    return _not_allowed(
        f"Operation '{op}' is not allowed on VM '{vm}' since another operation is in progress."
    )


def vm_power_changing(vm: str, target: str, action: str) -> ArmError:
    """The same power change asked for again while it is still running.

    The template is Azure's (Compute error-messages page); the values filled in are not
    observed (docs/emulator-fidelity.md):
    the target as one power-state word (``stopped``) and the REST action (``powerOff``),
    single tokens, which is what the gateway's message pattern reads."""
    return _not_allowed(
        f"An ongoing operation is changing power state of Virtual Machine {vm} to {target}. "
        f"Please perform operation {action} after some time."
    )


def vm_deleting(op: str, vm: str) -> ArmError:
    return _not_allowed(
        f"Operation '{op}' is not allowed on VM '{vm}' since the VM is marked for deletion. "
        "You can only retry the Delete operation (or wait for an ongoing one to complete)."
    )


def vm_not_generalized_for_image(vm: str) -> ArmError:
    return _not_allowed(
        f"The operation 'Create Image' requires the Virtual Machine '{vm}' to be Generalized."
    )


def vm_already_running(op: str, vm: str) -> ArmError:
    """Invented (docs/emulator-fidelity.md): Azure documents no message for starting a
    running VM."""
    return _not_allowed(f"Operation '{op}' is not allowed on VM '{vm}' since the VM is running.")


def vm_not_running(op: str, vm: str) -> ArmError:
    """Invented wording (docs/emulator-fidelity.md), modelled on the other
    OperationNotAllowed messages."""
    return _not_allowed(
        f"Operation '{op}' is not allowed on VM '{vm}' since the VM is not running."
    )


def capture_not_generalized() -> ArmError:
    return _not_allowed("Capture operation cannot be completed because the VM is not generalized.")


def capture_managed_disks() -> ArmError:
    return _not_allowed(
        "The Capture action is only supported on a Virtual Machine with blob based disks. "
        "Please use the 'Image' resource APIs to create an Image from a managed Virtual Machine."
    )


# --- asynchronous operation errors (in the operation-status body, not an HTTP status) ----


def operation_preempted() -> dict[str, str]:
    """What a ``Canceled`` operation carries when a more recent one replaced it."""
    return {
        "code": "OperationPreempted",
        "message": "Operation execution has been preempted by a more recent operation.",
    }


# --- faults -----------------------------------------------------------------------------


def throttled(retry_after: int, *, start: str, end: str) -> ArmError:
    """The Compute RP throttling response (the troubleshooting-throttling-errors example:
    429, code OperationNotAllowed, a TooManyRequests detail, ``Retry-After``)."""
    detail = json.dumps(
        {
            "operationGroup": "HighCostGet30Min",
            "startTime": start,
            "endTime": end,
            "allowedRequestCount": 800,
            "measuredRequestCount": 1238,
        }
    )
    return ArmError(
        429,
        "OperationNotAllowed",
        "The server rejected the request because too many requests have been received "
        "for this subscription.",
        details=[{"code": "TooManyRequests", "target": "HighCostGet30Min", "message": detail}],
        headers={
            "Retry-After": str(max(1, retry_after)),
            "x-ms-ratelimit-remaining-resource": "Microsoft.Compute/HighCostGet3Min;0,"
            "Microsoft.Compute/HighCostGet30Min;0",
        },
    )


def server_error(status: int) -> ArmError:
    if status == 503:
        return ArmError(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry the request later.",
            headers={"Retry-After": "1"},
        )
    return ArmError(
        status,
        "InternalServerError",
        "An unexpected error occurred while processing the request. Tracking Id: 'emulated-fault'.",
    )


def invalid_authentication_token() -> ArmError:
    """An injected 401 reads as ARM's own (the same code the token check in
    ``identity/arm_auth.py`` answers with), not as a made-up code."""
    return ArmError(
        401,
        "InvalidAuthenticationToken",
        "The access token is invalid.",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


#: The seeded service principal's object id, named in an injected 403 as ARM names the caller.
_FAULT_CALLER = "00000000-0000-0000-0000-00000000c11e"


def authorization_failed(method: str, path: str) -> ArmError:
    """An injected 403 as ARM words a missing role assignment (the AuthorizationFailed text
    seen in Azure CLI recordings: the caller, the action and the scope)."""
    scope = path.split("?", 1)[0]
    provider_path = scope.split("/providers/", 1)[-1] if "/providers/" in scope else ""
    parts = provider_path.split("/")
    action = "/".join(parts[:1] + parts[1::2]) if parts and parts[0] else "Microsoft.Resources"
    verb = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(
        method.upper(), "action"
    )
    if verb == "action" and len(parts) % 2 == 0:  # type/name pairs, then the action's name
        scope = scope.rsplit("/", 1)[0]
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{_FAULT_CALLER}' with object id '{_FAULT_CALLER}' does not have "
        f"authorization to perform action '{action}/{verb}' over scope '{scope}' or the scope "
        "is invalid. If access was recently granted, please refresh your credentials.",
    )


def concurrent_conflict() -> ArmError:
    return ArmError(
        409,
        "Conflict",
        "The request failed due to conflict with a concurrent request. To resolve it, please "
        "refer to https://aka.ms/activitylog to get more details on the conflicting requests.",
    )


def nested_resources_exist(child_paths: list[str]) -> ArmError:
    """409 on DELETE of a gallery or image definition that still has children.

    Today's wording, with provider-relative ids comma-separated inside one pair of quotes
    (jenkins-infra/azure#1544, gardenlinux/gardenlinux#2036). How many ids Azure lists at
    most is not known; five were seen, so five are listed."""
    shown = ", ".join(child_paths[:5])
    return ArmError(
        409,
        "CannotDeleteResource",
        "Cannot delete resource while nested resources exist. Some existing nested resource "
        f"IDs include: '{shown}'. Please delete all nested resources before deleting this "
        "resource.",
    )


# --- Compute Gallery: sources and updates -------------------------------------------------

_VERSION_SOURCE = "galleryImageVersion.properties.storageProfile.source"


def vm_id_in_source_id(source_id: str) -> ArmError:
    """A VM id in ``source.id`` once ``source.virtualMachineId`` exists (api-version
    2023-07-03 on): the exact answer quoted in Azure/azure-cli#28700."""
    return invalid_parameter(
        f"The gallery image version source id: '{source_id}' must be specified in "
        f"'{_VERSION_SOURCE}.virtualMachineId'.",
        target=_VERSION_SOURCE,
    )


def source_state_mismatch(source_id: str, what: str, source_value: str, parent: str) -> ArmError:
    """The source differs from its image definition: ``what`` is "OS state" (exact text
    and code from Azure/azure-cli#24972), "OS type" or "Hypervisor generation" (texts from
    the Compute Gallery troubleshooting page, code by analogy)."""
    return ArmError(
        400,
        "BadRequest",
        f"The resource with id '{source_id}' has a different {what} ['{source_value}'] than "
        f"the parent gallery image {what} ['{parent}'].",
    )


def specialized_parent_for_generalized_source(source_id: str) -> ArmError:
    """A generalized source under a Specialized definition (troubleshooting page text;
    the code is not documented)."""
    return ArmError(
        400,
        "BadRequest",
        f"Cannot create Gallery Image Version from: {source_id} since the OS State in the "
        "parent gallery image ('Specialized') is not 'Generalized'.",
    )


def property_change_not_allowed(prop: str) -> ArmError:
    """An update that changes a property fixed at creation (troubleshooting page text:
    "Changing property 'galleryImage.properties.<property>' is not allowed.")."""
    return ArmError(
        400,
        "PropertyChangeNotAllowed",
        f"Changing property '{prop}' is not allowed.",
        target=prop,
    )
