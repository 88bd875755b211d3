"""Entra ID's OAuth error answers: ``error`` + ``error_description`` with the AADSTS code.

The token endpoint answers JSON (v2-oauth2-auth-code-flow, "Error response"): ``error``
(``invalid_grant``, ``invalid_client``, ...), ``error_description`` = ``AADSTS<n>: <text>``
followed by ``Trace ID``, ``Correlation ID`` and ``Timestamp``, ``error_codes`` = ``[<n>]``,
``timestamp``, ``trace_id``, ``correlation_id`` and ``error_uri``. Client authentication
failures are HTTP 401, the rest 400. The authorize endpoint redirects the error back to the
app (``error`` / ``error_description`` / ``state``) unless the app or its redirect URI is the
problem, in which case Entra shows the error itself and never redirects. Every message used
is listed with its source in docs/emulator-fidelity.md.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

# AADSTS code -> message template (fields filled with str.format).
MESSAGES: dict[int, str] = {
    900144: "The request body must contain the following parameter: '{param}'.",
    9002313: "Invalid request. Request is malformed or invalid.",
    70003: "The app requested an unsupported grant type '{grant_type}'.",
    700016: (
        "Application with identifier '{client_id}' was not found in the directory "
        "'{tenant}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may have "
        "sent your authentication request to the wrong tenant."
    ),
    7000215: (
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app "
        "'{client_id}'."
    ),
    7000218: (
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'."
    ),
    54005: (
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code "
        "or use an existing refresh token."
    ),
    70008: (
        "The provided authorization code or refresh token has expired due to inactivity. "
        "Send a new interactive authorization request for this user and resource."
    ),
    70000: "The provided value for the 'code' parameter is not valid.",
    501481: "The Code_Verifier does not match the code_challenge supplied in the authorization "
    "request.",
    500112: (
        "The reply address '{given}' does not match the reply address '{expected}' provided "
        "when requesting Authorization code."
    ),
    50011: (
        "The redirect URI '{redirect_uri}' specified in the request does not match the "
        "redirect URIs configured for the application '{client_id}'. Make sure the redirect "
        "URI sent in the request matches one added to your application in the Azure portal. "
        "Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix "
        "this."
    ),
    50020: (
        "User account '{upn}' from identity provider '{idp}' does not exist in tenant "
        "'{tenant}' and cannot access the application '{client_id}'({app_name}) in that "
        "tenant. The account needs to be added as an external user in the tenant first. "
        "Sign out and sign in again with a different Azure Active Directory user account."
    ),
    50034: (
        "The user account {{EUII Hidden}} does not exist in the {tenant} directory. To sign "
        "into this application, the account must be added to the directory."
    ),
    50058: "A silent sign-in request was sent but no user is signed in.",
    50173: (
        "The provided grant has expired due to it being revoked, a fresh auth token is "
        "needed. The user might have changed or reset their password. The grant was issued "
        "on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for "
        "this user is '{valid_from}'."
    ),
    50194: (
        "Application '{client_id}'({app_name}) is not configured as a multi-tenant "
        "application. Usage of the /common endpoint is not supported for such applications "
        "created after '10/15/2018'. Use a tenant-specific endpoint or configure the "
        "application to be multi-tenant."
    ),
    90002: (
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud. Check with your subscription administrator, this "
        "may happen if there are no active subscriptions for the tenant."
    ),
    500011: (
        "The resource principal named {resource} was not found in the tenant named "
        "{tenant}. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You might "
        "have sent your authentication request to the wrong tenant."
    ),
    1002012: (
        "The provided value for scope {scope} is not valid. Client credential flows must "
        "have a scope value with /.default suffixed to the resource identifier (application "
        "ID URI)."
    ),
    700054: "response_type '{response_type}' is not enabled for the application.",
    50149: "Invalid Code_Challenge_method parameter.",
    65004: "User declined to consent to access the app.",
    900561: "The endpoint only accepts POST, OPTIONS requests. Received a {method} request.",
    50059: (
        "No tenant-identifying information found in either the request or implied by any "
        "provided credentials."
    ),
}


def _timestamp(now: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now))


class OAuthError(Exception):
    """One refusal: the OAuth ``error`` value, the AADSTS code and the HTTP status."""

    def __init__(self, error: str, code: int, fields: dict[str, Any], status: int = 400) -> None:
        self.error = error
        self.code = code
        self.fields = fields
        self.status = status
        super().__init__(self.description_text())

    def description_text(self) -> str:
        return f"AADSTS{self.code}: " + MESSAGES[self.code].format(**self.fields)

    def payload(self, base: str, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = _timestamp(now)
        return {
            "error": self.error,
            "error_description": (
                f"{self.description_text()} Trace ID: {trace} Correlation ID: {correlation} "
                f"Timestamp: {stamp}"
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{base}/error?code={self.code}",
        }


def missing(param: str) -> OAuthError:
    return OAuthError("invalid_request", 900144, {"param": param})
