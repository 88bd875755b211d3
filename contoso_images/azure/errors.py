"""One error type for everything Azure can throw at us, with a sentence people can read.

The SDK raises a zoo: every 409 is a ``ResourceExistsError`` (even OperationNotAllowed), failed
long-running operations are plain ``HttpResponseError`` with ``status_code == 200``, throttling is
a bare 429, and network drops are ``ServiceRequestError``/``ServiceResponseError``
The gateway turns all of them into :class:`AzureError` keyed on ARM's
own ``error.code`` so callers never branch on SDK classes.
"""

from __future__ import annotations

import email.utils
import functools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from azure.core import exceptions as sdk_errors

from contoso_images.azure.retry import retry_budget

THROTTLED = "TooManyRequests"
CONNECTION_FAILED = "ConnectionFailed"
AUTHENTICATION_FAILED = "AuthenticationFailed"

_NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFound",
        "ResourceGroupNotFound",
        "ParentResourceNotFound",
        "NotFound",
        "SubscriptionNotFound",
    }
)
_CONFLICT_CODES = frozenset(
    {"OperationNotAllowed", "Conflict", "OperationPreempted", "AnotherOperationInProgress"}
)


class AzureError(Exception):
    """An Azure failure carrying ARM's code and message (``str()`` is ``"(code) message"``)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        correlation_id: str | None = None,
        target: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.correlation_id = correlation_id
        self.target = target
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"({self.code}) {self.message}"

    def __repr__(self) -> str:
        return f"AzureError(code={self.code!r}, status_code={self.status_code!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by Exception's default pickling (django-q pickles
        # task results and failures).
        return (_rebuild, (self.code, self.message, self._extras()))

    def _extras(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "target": self.target,
            "retry_after": self.retry_after,
        }

    @property
    def is_throttled(self) -> bool:
        return self.status_code == 429 or self.code == THROTTLED

    @property
    def is_not_found(self) -> bool:
        return self.status_code == 404 or self.code in _NOT_FOUND_CODES

    @property
    def is_transient(self) -> bool:
        """Worth trying again later: throttling, a server error, or no answer at all.

        Such an error says nothing about the outcome of a request that was sent: Azure may
        have carried it out and only the answer was lost."""
        if self.is_throttled or self.code == CONNECTION_FAILED:
            return True
        return self.status_code is not None and self.status_code >= 500

    @property
    def is_conflict(self) -> bool:
        return not self.is_throttled and (self.status_code == 409 or self.code in _CONFLICT_CODES)

    @property
    def sentence(self) -> str:
        """A plain sentence for the people using the dashboard."""
        return _sentence(self)


def _rebuild(code: str, message: str, extras: dict[str, Any]) -> AzureError:
    return AzureError(code, message, **extras)


# --- sentences -----------------------------------------------------------------------------

# (pattern on ARM's message, sentence template using the named groups): the messages Azure's
# OperationNotAllowed errors carry, as documented in Azure's VM error-message reference.
_OPERATION_NOT_ALLOWED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), sentence)
    for pattern, sentence in (
        (
            r"Operation '(?P<op>[^']+)' is not allowed on VM '(?P<vm>[^']+)' since the VM is "
            r"running",
            "Azure refused '{op}' because VM '{vm}' is running.{hint}",
        ),
        (
            r"Operation '(?P<op>[^']+)' is not allowed on VM '(?P<vm>[^']+)' since the VM is "
            r"not running",
            "Azure refused '{op}' because VM '{vm}' is not running. Start it first.",
        ),
        (
            r"Operation '(?P<op>[^']+)' is not allowed on VM '(?P<vm>[^']+)' since the VM is "
            r"generalized",
            "Azure refused '{op}' because VM '{vm}' is generalized. A generalized VM can never "
            "be started again; capture it into an image or delete it.",
        ),
        (
            r"Operation '(?P<op>[^']+)' is not allowed on VM '(?P<vm>[^']+)' since the VM is "
            r"either deallocated",
            "Azure refused '{op}' because VM '{vm}' is deallocated (or being deallocated). "
            "Start the VM first.",
        ),
        (
            r"Operation '(?P<op>[^']+)' is not allowed on VM '(?P<vm>[^']+)' since another "
            r"operation is in progress",
            "Azure refused '{op}' because another operation is still running on VM '{vm}'. "
            "Wait for it to finish, then try again.",
        ),
        (
            r"An ongoing operation is changing power state of Virtual Machine (?P<vm>\S+) to "
            r"(?P<state>\S+?)\.? Please perform operation (?P<op>\S+?)\.? after",
            "VM '{vm}' is already changing its power state to {state}. Try '{op}' again when "
            "that has finished.",
        ),
        (
            r"The operation '(?P<op>[^']+)' requires the Virtual Machine '(?P<vm>[^']+)' to be "
            r"Generalized",
            "Azure can only run '{op}' on a generalized VM, and VM '{vm}' is not generalized. "
            "Deallocate and generalize it first.",
        ),
        (
            r"Operation '(?P<op>[^']+)' is not allowed on VM '(?P<vm>[^']+)' since the VM is "
            r"marked for deletion",
            "VM '{vm}' is being deleted, so Azure refused '{op}'. Only deleting it again is "
            "possible.",
        ),
    )
)

_QUOTA = re.compile(
    r"exceeding approved (?P<what>.+?) quota\. Additional details - .*?Location: (?P<loc>[^,]+), "
    r"Current Limit: (?P<limit>\d+), Current Usage: (?P<used>\d+), Additional Required: "
    r"(?P<need>\d+)",
    re.IGNORECASE | re.DOTALL,
)
#: Refusals of a VM creation whose ARM message is long or technical: a plain sentence.
_DEPLOY_SENTENCES = {
    "SkuNotAvailable": "That VM size cannot be created in this region for this subscription. "
    "Choose another size or region.",
    "ResourcePurchaseValidationFailed": "This subscription has not accepted the Marketplace "
    "terms of the image's plan. Accept them (az vm image terms accept) and try again.",
    "VMMarketplaceInvalidInput": "This Marketplace image needs its purchase plan in the request "
    "(name, product and publisher of the image).",
    "PreconditionFailed": "A resource of that name already exists, and the request was only to "
    "create it. Choose another name.",
}

_NOT_FOUND = re.compile(
    r"The Resource '(?P<path>[^']+)' under resource group '(?P<rg>[^']+)'", re.IGNORECASE
)
#: ARM's collection names, as people call what they hold.
_KINDS = {
    "virtualmachines": "VM",
    "images": "Image",
    "galleries": "Gallery",
    "galleries/images": "Image definition",
    "galleries/images/versions": "Image version",
    "disks": "Disk",
    "snapshots": "Snapshot",
}
_RG_NOT_FOUND = re.compile(r"Resource group '(?P<rg>[^']+)' could not be found", re.IGNORECASE)
_PARENT_NOT_FOUND = re.compile(r"Parent resource '(?P<parent>[^']+)' not found", re.IGNORECASE)


def _sentence(error: AzureError) -> str:
    code, message = error.code, error.message or ""
    if error.is_throttled:
        wait = f"{error.retry_after} seconds" if error.retry_after else "a little while"
        return f"Azure is throttling requests for this subscription; try again in {wait}."
    if code == CONNECTION_FAILED:
        return "Could not reach Azure Resource Manager (the connection failed); try again shortly."
    if code == AUTHENTICATION_FAILED or error.status_code == 401:
        return (
            "Could not sign in to Azure. Check the identity the dashboard runs as "
            "(environment credentials, managed identity or 'az login')."
        )
    if error.status_code == 403 or code in ("AuthorizationFailed", "LinkedAuthorizationFailed"):
        return (
            "The identity the dashboard runs as is not allowed to do this in Azure "
            "(AuthorizationFailed). Ask for a role assignment that grants it."
        )
    if code in _DEPLOY_SENTENCES:
        return _DEPLOY_SENTENCES[code]
    if code == "GalleryImageNotFound":
        return message.strip('"')  # Azure sends this message wrapped in literal quotes
    if code == "OperationNotAllowed" and (quota := _QUOTA.search(message)):
        return (
            f"Not enough vCPU quota ({quota['what']}) in {quota['loc']}: {quota['used']} of "
            f"{quota['limit']} in use and {quota['need']} more needed. Ask for a quota increase, "
            "or choose another size or region."
        )
    if code == "OperationNotAllowed":
        for pattern, template in _OPERATION_NOT_ALLOWED:
            match = pattern.search(message)
            if match:
                return template.format(hint=_running_hint(match["op"]), **match.groupdict())
    if code == "Conflict":
        return "Another request changed this resource at the same moment. Try again shortly."
    if code == "OperationPreempted":
        return "A more recent operation on this resource replaced this one."
    if error.is_not_found:
        return _not_found_sentence(code, message)
    return message or code


def _running_hint(op: str) -> str:
    """Only actions that need a stopped VM get the advice to stop it."""
    needs_stop = ("generaliz", "capture", "image")
    if any(word in op.lower() for word in needs_stop):
        return " Stop (power off) or deallocate the VM first."
    return ""


def _not_found_sentence(code: str, message: str) -> str:
    if match := _RG_NOT_FOUND.search(message):
        return f"Resource group '{match['rg']}' does not exist (or you cannot see it)."
    if match := _PARENT_NOT_FOUND.search(message):
        return f"'{match['parent']}' does not exist, so nothing can be created or read under it."
    if match := _NOT_FOUND.search(message):
        return _missing_resource(match["path"], match["rg"])
    if code == "NotFound" and "VMImage" in message:
        return "That Marketplace image does not exist in this region."
    return "The Azure resource was not found."


def _missing_resource(path: str, resource_group: str) -> str:
    """'Microsoft.Compute/galleries/g/images/i' → "Image definition 'i' in gallery 'g' ...".

    The path alternates collection and name after the namespace; the last pair is what is
    missing, the pairs before it are its parents."""
    parts = path.split("/")[1:]  # drop the namespace (Microsoft.Compute)
    pairs = list(zip(parts[0::2], parts[1::2], strict=False))
    if not pairs:
        return f"'{path}' was not found in resource group '{resource_group}'."
    kinds = []
    for i, (collection, _) in enumerate(pairs):
        key = "/".join(c.lower() for c, _ in pairs[: i + 1])
        kinds.append(_KINDS.get(key, collection))
    parents = "".join(
        f" in {_lower_first(kind)} '{name}'"
        for kind, (_, name) in reversed(list(zip(kinds[:-1], pairs[:-1], strict=True)))
    )
    return (
        f"{kinds[-1]} '{pairs[-1][1]}'{parents} was not found in resource group '{resource_group}'."
    )


def _lower_first(kind: str) -> str:
    return kind if kind.isupper() else kind[0].lower() + kind[1:]


# --- translation ---------------------------------------------------------------------------


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get(name)
    return str(value) if value else None


def _retry_after(response: Any) -> int | None:
    """Seconds from Retry-After (or the millisecond variants ARM also sends), rounded up."""
    for name, scale in (("retry-after-ms", 1000), ("x-ms-retry-after-ms", 1000)):
        value = _header(response, name)
        if value and value.replace(".", "", 1).isdigit():
            return max(1, -(-int(float(value)) // scale))
    value = _header(response, "Retry-After")
    if value is None:
        return None
    return parse_retry_after_seconds(value)


def parse_retry_after_seconds(value: str) -> int | None:
    """Retry-After as whole seconds: delta-seconds (also "1.5", " 30") or an HTTP date."""
    value = value.strip()
    try:
        return max(0, math.ceil(float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _body_error(response: Any) -> Mapping[str, Any]:
    """ARM's error object from a response body, with or without the outer ``error`` wrapper."""
    try:
        body = json.loads(response.text()) if response is not None else None
    except (ValueError, TypeError, AttributeError):
        return {}
    if not isinstance(body, dict):
        return {}
    inner = body.get("error")
    if isinstance(inner, dict):
        return inner
    return body if "code" in body else {}


def from_http_error(exc: sdk_errors.HttpResponseError) -> AzureError:
    response = exc.response
    odata = exc.error
    body = _body_error(response)
    code = (getattr(odata, "code", None) or body.get("code") or "").strip()
    message = getattr(odata, "message", None) or body.get("message") or ""
    target = getattr(odata, "target", None) or body.get("target")
    status = exc.status_code
    if status == 429:
        code = THROTTLED
    if not code:
        code = {401: AUTHENTICATION_FAILED, 403: "AuthorizationFailed", 404: "NotFound"}.get(
            status or 0, "HttpError"
        )
    if not message:
        message = exc.reason or str(exc.message or "") or code
    return AzureError(
        code,
        str(message),
        status_code=status,
        request_id=_header(response, "x-ms-request-id"),
        correlation_id=_header(response, "x-ms-correlation-request-id"),
        target=str(target) if target else None,
        retry_after=_retry_after(response),
    )


def translate(exc: BaseException) -> AzureError:
    """Map any azure-core/azure-identity exception (or ours) onto :class:`AzureError`."""
    if isinstance(exc, AzureError):
        return exc
    if isinstance(exc, sdk_errors.ClientAuthenticationError) and exc.response is None:
        # CredentialUnavailableError and token failures carry no HTTP response.
        return AzureError(AUTHENTICATION_FAILED, str(exc.message or exc), status_code=401)
    if isinstance(exc, sdk_errors.HttpResponseError):
        if exc.response is None:
            # No answer was read: the body broke off (IncompleteReadError, a reset mid-body).
            # Over real sockets that is a lost answer, not Azure's refusal: the request may
            # have been carried out, exactly as after ServiceResponseError.
            return AzureError(CONNECTION_FAILED, str(exc.message or exc))
        return from_http_error(exc)
    if isinstance(exc, sdk_errors.ServiceRequestError | sdk_errors.ServiceResponseError):
        return AzureError(CONNECTION_FAILED, str(getattr(exc, "message", None) or exc))
    if isinstance(exc, sdk_errors.AzureError):
        return AzureError(type(exc).__name__, str(exc.message or exc))
    raise TypeError(f"not an Azure exception: {exc!r}") from exc


_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise azure-core exceptions raised in the block as :class:`AzureError`."""
    try:
        yield
    except AzureError:
        raise
    except sdk_errors.AzureError as exc:
        raise translate(exc) from exc


def gateway_call(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a public gateway function: SDK errors out become AzureError, retry budget set."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with translated(), retry_budget():
            return func(*args, **kwargs)

    return wrapper
