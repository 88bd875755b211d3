"""AzureError: translation of SDK exceptions and the sentences people read (no emulator)."""

from __future__ import annotations

import json
import pickle

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    IncompleteReadError,
    ResourceExistsError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import CredentialUnavailableError
from azure.mgmt.core.exceptions import ARMErrorFormat

from contoso_images.azure import AzureError
from contoso_images.azure.errors import translate


class FakeResponse:
    """Just enough of an azure-core HTTP response for HttpResponseError."""

    def __init__(self, status: int, body: dict | None = None, headers: dict | None = None):
        self.status_code = status
        self.reason = "Reason"
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self._body = json.dumps(body).encode() if body is not None else b""
        self.content_type = "application/json"
        self.request = None

    def body(self) -> bytes:
        return self._body

    def text(self, encoding: str | None = None) -> str:
        return self._body.decode()


def http_error(cls, status, code, message, headers=None):
    body = {"error": {"code": code, "message": message}}
    return cls(response=FakeResponse(status, body, headers), error_format=ARMErrorFormat)


RUNNING = (
    "Operation 'generalize' is not allowed on VM 'web01' since the VM is running. Please power "
    "off explicitly in case you shut down the VM from inside the guest operating system."
)

SENTENCES = [
    (RUNNING, "is running. Stop (power off) or deallocate the VM first."),
    (
        "Operation 'Start VM' is not allowed on VM 'gold' since the VM is generalized.",
        "VM 'gold' is generalized. A generalized VM can never be started again",
    ),
    (
        "Operation 'Restart VM' is not allowed on VM 'app' since the VM is either deallocated "
        "or marked to be deallocated.",
        "VM 'app' is deallocated (or being deallocated). Start the VM first.",
    ),
    (
        "Operation 'Start VM' is not allowed on VM 'app' since another operation is in progress.",
        "another operation is still running on VM 'app'",
    ),
    (
        "An ongoing operation is changing power state of Virtual Machine app to deallocated. "
        "Please perform operation start after some time.",
        "VM 'app' is already changing its power state to deallocated",
    ),
    (
        "The operation 'Create Image' requires the Virtual Machine 'app' to be Generalized.",
        "Azure can only run 'Create Image' on a generalized VM, and VM 'app' is not generalized.",
    ),
    (
        "Operation 'Start VM' is not allowed on VM 'app' since the VM is marked for deletion. "
        "You can only retry the Delete operation (or wait for an ongoing one to complete).",
        "VM 'app' is being deleted",
    ),
]


@pytest.mark.parametrize(("message", "expected"), SENTENCES)
def test_operation_not_allowed_sentences(message, expected):
    err = translate(http_error(ResourceExistsError, 409, "OperationNotAllowed", message))
    assert err.code == "OperationNotAllowed"
    assert err.message == message
    assert err.status_code == 409
    assert err.is_conflict and not err.is_not_found and not err.is_throttled
    assert expected in err.sentence
    assert str(err) == f"(OperationNotAllowed) {message}"


def test_failed_lro_arrives_with_status_200_and_keeps_arm_code():
    body = {"status": "Failed", "error": {"code": "OperationPreempted", "message": "Preempted."}}
    exc = HttpResponseError(response=FakeResponse(200, body))
    err = translate(exc)
    assert (err.code, err.message, err.status_code) == ("OperationPreempted", "Preempted.", 200)
    assert err.is_conflict


def test_an_answer_broken_off_mid_body_is_a_lost_answer_not_a_refusal():
    """Over real sockets a reset in the body is IncompleteReadError, an HttpResponseError with
    no response: Azure may have done the request, so it must read as a connection failure
    (transient), never as an HTTP error the caller would take for Azure's answer."""
    err = translate(IncompleteReadError("Connection broken: IncompleteRead(64 bytes read)"))
    assert err.code == "ConnectionFailed" and err.is_transient and err.status_code is None


def test_throttling_carries_retry_after_and_ids():
    headers = {
        "Retry-After": "1200",
        "x-ms-request-id": "req-1",
        "x-ms-correlation-request-id": "corr-1",
    }
    exc = http_error(HttpResponseError, 429, "OperationNotAllowed", "too many", headers)
    err = translate(exc)
    assert err.is_throttled and not err.is_conflict
    assert (err.code, err.retry_after) == ("TooManyRequests", 1200)
    assert (err.request_id, err.correlation_id) == ("req-1", "corr-1")
    assert err.sentence == (
        "Azure is throttling requests for this subscription; try again in 1200 seconds."
    )


def test_authorisation_failure():
    exc = http_error(HttpResponseError, 403, "AuthorizationFailed", "The client 'x' does not...")
    err = translate(exc)
    assert err.code == "AuthorizationFailed"
    assert "not allowed to do this in Azure" in err.sentence


@pytest.mark.parametrize(
    "exc",
    [
        CredentialUnavailableError("EnvironmentCredential: no variables"),
        ClientAuthenticationError("token request failed"),
    ],
)
def test_authentication_failures(exc):
    err = translate(exc)
    assert err.code == "AuthenticationFailed"
    assert err.sentence.startswith("Could not sign in to Azure.")


def test_http_401_is_authentication():
    exc = http_error(ClientAuthenticationError, 401, "InvalidAuthenticationToken", "expired")
    err = translate(exc)
    assert err.code == "InvalidAuthenticationToken"
    assert err.sentence.startswith("Could not sign in to Azure.")


@pytest.mark.parametrize("cls", [ServiceRequestError, ServiceResponseError])
def test_transport_failures(cls):
    err = translate(cls("Connection aborted."))
    assert err.code == "ConnectionFailed"
    assert "Could not reach Azure Resource Manager" in err.sentence


def test_not_found_sentences():
    rg = translate(
        http_error(
            HttpResponseError,
            404,
            "ResourceGroupNotFound",
            "Resource group 'nope' could not be found.",
        )
    )
    assert (
        rg.is_not_found
        and rg.sentence == "Resource group 'nope' does not exist (or you cannot see it)."
    )


def test_translate_refuses_other_exceptions():
    with pytest.raises(TypeError):
        translate(ValueError("bug"))


def test_pickles_with_all_fields():
    err = AzureError("TooManyRequests", "slow down", status_code=429, retry_after=7, request_id="r")
    again = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert (again.code, again.message, again.status_code, again.retry_after, again.request_id) == (
        "TooManyRequests",
        "slow down",
        429,
        7,
        "r",
    )


def test_a_missing_nested_resource_is_named_with_its_parents():
    """Azure/azure-cli#25148: the path holds the gallery and the definition, in order."""
    error = AzureError(
        "ResourceNotFound",
        "The Resource 'Microsoft.Compute/galleries/gal_contoso/images/web/versions/1.0.3' under "
        "resource group 'rg-images' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
        status_code=404,
    )
    assert error.sentence == (
        "Image version '1.0.3' in image definition 'web' in gallery 'gal_contoso' was not "
        "found in resource group 'rg-images'."
    )
