"""The embedded tenant served over HTTPS on a free port, and the gateway's production path
(``AZURE_MODE=azure``, a custom cloud, ``ClientSecretCredential``) pointed at it.

Each test gets its own state file and server thread; the CA is made once per session.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from contoso_images.arm_emulator import Emulator
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.arm_emulator.server import EmulatorServer
from contoso_images.azure import clear_client_cache

TENANT = people.CONTOSO_TENANT_ID
REDIRECT = people.DASHBOARD_REDIRECT_URIS[0]


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-tls")


@pytest.fixture
def server(tmp_path: Path, tls_dir: Path) -> Iterator[EmulatorServer]:
    srv = EmulatorServer(tmp_path / "state.sqlite3", port=0, tls_dir=tls_dir, workers=8)
    srv.emulator.seed_contoso_pilot()
    srv.emulator.set_durations(all=0)
    srv.start()
    try:
        yield srv
    finally:
        srv.shutdown()


@pytest.fixture
def emu(server: EmulatorServer) -> Emulator:
    """The served state file, opened in the test's own thread."""
    return Emulator(server.emulator.path)


@pytest.fixture
def https(server: EmulatorServer) -> Iterator[requests.Session]:
    """A plain requests session that trusts the emulator's CA (and only what it is told:
    no REQUESTS_CA_BUNDLE from the environment)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.tls.ca_cert)
    yield session
    session.close()


@pytest.fixture
def local_cloud(settings: Any, server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The gateway in production mode against the local cloud."""
    settings.AZURE_MODE = "azure"
    settings.AZURE_CLOUD = "custom"
    settings.AZURE_RESOURCE_MANAGER_ENDPOINT = server.base_url
    settings.AZURE_AUTHORITY_HOST = server.base_url
    settings.AZURE_CREDENTIAL_SCOPE = ""  # the default: {endpoint}/.default
    settings.AZURE_TENANT_ID = TENANT
    settings.AZURE_CLIENT_ID = people.GATEWAY_CLIENT_ID
    settings.AZURE_CLIENT_SECRET = people.GATEWAY_CLIENT_SECRET
    settings.AZURE_CA_BUNDLE = str(server.tls.ca_cert)
    settings.AZURE_SUBSCRIPTION_IDS = []
    settings.AZURE_MAX_RETRY_WAIT = 0  # retries never sleep in tests
    settings.AZURE_CONNECT_TIMEOUT = 5
    settings.AZURE_READ_TIMEOUT = 5
    clear_client_cache()
    yield server
    clear_client_cache()


def app_token(https: requests.Session, base: str, scope: str) -> str:
    resp = https.post(
        f"{base}/{TENANT}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": people.GATEWAY_CLIENT_ID,
            "client_secret": people.GATEWAY_CLIENT_SECRET,
            "scope": scope,
        },
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def pkce() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) as RFC 7636 §4 builds them."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(challenge: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": people.DASHBOARD_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "response_mode": "query",
        "scope": "openid profile email offline_access",
        "state": "state-" + secrets.token_hex(4),
        "nonce": "nonce-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def sign_in(
    https: requests.Session, base: str, oid: str, params: dict[str, str]
) -> requests.Response:
    """Pick an account on the emulated sign-in page (what its button posts)."""
    return https.post(
        f"{base}/{TENANT}/oauth2/v2.0/authorize",
        data={**params, "login": oid},
        allow_redirects=False,
    )


def redirect_query(resp: requests.Response) -> dict[str, str]:
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def redeem(
    https: requests.Session, base: str, code: str, verifier: str | None, **extra: str
) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": people.DASHBOARD_CLIENT_ID,
        "client_secret": people.DASHBOARD_CLIENT_SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
        "scope": "openid profile email offline_access",
        **extra,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return https.post(f"{base}/{TENANT}/oauth2/v2.0/token", data=data)
