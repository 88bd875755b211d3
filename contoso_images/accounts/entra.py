"""The OpenID Connect protocol, through MSAL: the authorization request, the code redeemed,
the refresh token redeemed.

Why MSAL (``msal`` 1.x, Microsoft's own library, already installed by azure-identity): it
builds the authorization-code request with PKCE (S256), ``state`` and ``nonce`` on its own
(``initiate_auth_code_flow``) and checks ``state`` and ``nonce`` when the code comes back
(``acquire_token_by_auth_code_flow``); it speaks Entra ID's token endpoint, error shapes and
sovereign clouds, with nothing else to configure than an authority. It does not verify the
ID token (tokens.py does) and keeps no session (the dashboard's session does).

Each call builds its own ``ConfidentialClientApplication`` with a fresh, discarded token
cache: MSAL would otherwise keep every user's tokens in this process's memory. Discovery
documents are kept in MSAL's ``http_cache`` (no tokens in it, per its docstring), one per
thread, so the per-call application costs no request. For an authority host that is not one of
Microsoft's (the local cloud), instance discovery is turned off, or MSAL asks
login.microsoftonline.com about it (azure-facts §16.2); TLS is verified with the configured
CA bundle, never turned off.

The response mode is MSAL's default, ``query``: the callback is a top-level GET, which
carries the ``SameSite=Lax`` session cookie; a cross-site ``form_post`` would not (STACK.md §5),
and the flow's verifier, state and nonce live in that session (see :func:`start`).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import msal
import requests
import requests.adapters

from contoso_images.accounts import refusals
from contoso_images.accounts.config import EntraConfig
from contoso_images.accounts.refusals import SignInRefused

#: Seconds MSAL waits for the login host.
TIMEOUT = 15
#: MSAL's discovery cache, shared by the per-call applications of one thread (no tokens:
#: see above). One per thread: MSAL guards it with a lock of each application's own, so two
#: applications in two threads must not share one.
_local = threading.local()


def _http_cache() -> dict[Any, Any]:
    cache = getattr(_local, "http_cache", None)
    if cache is None:
        cache = _local.http_cache = {}
    return cache


class _HttpClient(requests.Session):
    """MSAL's HTTP client: its CA bundle and timeout on every request.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` from the environment override a
    session's own ``verify`` (psf/requests#3829; docs/local-cloud.md), and MSAL sets only the
    session's: passed with each request, the configured bundle is the one used. Proxies
    from the environment still apply.
    """

    def __init__(self, verify: str | bool) -> None:
        super().__init__()
        self.verify = verify
        self.mount("https://", requests.adapters.HTTPAdapter(max_retries=1))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, *args, **kwargs)


@contextmanager
def _application(config: EntraConfig) -> Iterator[msal.ConfidentialClientApplication]:
    host = (urlsplit(config.authority_host).hostname or "").lower()
    known = host in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS
    with _HttpClient(config.verify()) as http:
        try:
            app = msal.ConfidentialClientApplication(
                config.client_id,
                client_credential=config.client_secret,
                authority=config.authority,
                token_cache=msal.TokenCache(),
                http_client=http,
                http_cache=_http_cache(),
                instance_discovery=None if known else False,
            )
        except (ValueError, requests.RequestException) as exc:
            raise SignInRefused(refusals.UNREACHABLE, detail=f"MSAL: {exc}") from exc
        yield app


def start(config: EntraConfig, redirect_uri: str, *, prompt: str | None = None) -> dict[str, Any]:
    """A new flow: ``auth_uri`` to send the browser to, and what the callback needs
    (``state``, ``nonce``, ``code_verifier``…), to keep in the session."""
    # No scopes of our own: MSAL adds openid, profile and offline_access (a refresh token,
    # for the role check during the session).
    with _application(config) as app, warnings.catch_warnings():
        # MSAL warns unless response_mode is form_post (RFC 9700 §4.3.1: a code in a URL can
        # leak through history and Referer). Here the code is single-use, bound to this
        # flow's PKCE verifier and redeemed at once, and pages send no cross-origin Referer
        # (SECURE_REFERRER_POLICY same-origin); a form_post callback would arrive without the
        # SameSite=Lax session cookie that holds the flow.
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        return dict(app.initiate_auth_code_flow([], redirect_uri=redirect_uri, prompt=prompt))


def redeem(
    config: EntraConfig, flow: dict[str, Any], response: Mapping[str, str]
) -> dict[str, Any]:
    """The token response for the code in ``response`` (the callback's query), or
    :class:`SignInRefused`. MSAL checks ``state`` and ``nonce`` and sends the PKCE verifier."""
    try:
        with _application(config) as app:
            result = app.acquire_token_by_auth_code_flow(flow, dict(response))
    except ValueError as exc:  # state missing or different (MSAL: "Usually caused by CSRF")
        raise SignInRefused(refusals.UNKNOWN_STATE, detail=f"MSAL: {exc}") from exc
    except RuntimeError as exc:  # the ID token's nonce is not this flow's
        raise SignInRefused(refusals.REPLAYED_NONCE, detail=f"MSAL: {exc}") from exc
    except requests.RequestException as exc:
        raise SignInRefused(refusals.UNREACHABLE, detail=f"Token endpoint: {exc}") from exc
    return _checked(result)


def refresh(config: EntraConfig, refresh_token: str) -> dict[str, Any]:
    """A new ID token (and refresh token) for the session's user, or :class:`SignInRefused`
    with Entra ID's code (AADSTS50034 the user is gone, AADSTS50173 sessions revoked…)."""
    try:
        with _application(config) as app:
            result = app.acquire_token_by_refresh_token(refresh_token, scopes=[])
    except requests.RequestException as exc:
        raise SignInRefused(refusals.UNREACHABLE, detail=f"Token endpoint: {exc}") from exc
    return _checked(result)


def _checked(result: Mapping[str, Any]) -> dict[str, Any]:
    if "error" in result:
        description = str(result.get("error_description") or result["error"])
        first_line = description.splitlines()[0].strip()
        codes = result.get("error_codes") or []
        code = f"AADSTS{codes[0]}" if codes else str(result["error"])
        raise SignInRefused(
            refusals.TENANT_ERROR, detail=description, error_code=code, error=first_line
        )
    if not result.get("id_token"):
        raise SignInRefused(refusals.MALFORMED, detail="The token response holds no ID token.")
    return dict(result)


def sign_out_url(end_session_endpoint: str, client_id: str, post_logout_redirect_uri: str) -> str:
    """The tenant's sign-out (``end_session_endpoint``), coming back here afterwards."""
    query = urlencode(
        {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": client_id}
    )
    separator = "&" if "?" in end_session_endpoint else "?"
    return f"{end_session_endpoint}{separator}{query}"
