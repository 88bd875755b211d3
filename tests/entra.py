"""The emulated Entra ID over HTTPS, and the dashboard configured to sign in with it.

Fixtures (imported by tests/accounts/conftest.py and tests/browser/conftest.py):
``idp_server`` an HTTPS emulator on a free port (its own state file; the CA made once per
session), ``idp`` its :class:`Identity`, ``entra`` the dashboard's ENTRA_* settings pointed at
it (TLS verified with the emulator's CA, never turned off). Helpers drive the sign-in as a
browser would, with Django's test client on the dashboard's side and ``requests`` on the
tenant's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from contoso_images.accounts import provider
from contoso_images.arm_emulator.identity import Identity
from contoso_images.arm_emulator.identity import seed as people
from contoso_images.arm_emulator.server import EmulatorServer

TENANT = people.CONTOSO_TENANT_ID
#: The seeded app's redirect URI: the test client's requests are served whatever the host.
REDIRECT_URI = people.DASHBOARD_REDIRECT_URIS[0]


@pytest.fixture(scope="session")
def idp_tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("idp-tls")


@pytest.fixture
def idp_server(tmp_path: Path, idp_tls_dir: Path) -> Iterator[EmulatorServer]:
    server = EmulatorServer(tmp_path / "idp.sqlite3", port=0, tls_dir=idp_tls_dir, workers=8)
    server.start()
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def idp(idp_server: EmulatorServer) -> Identity:
    return idp_server.emulator.identity


@pytest.fixture
def idp_https(idp_server: EmulatorServer) -> Iterator[requests.Session]:
    """The person's browser towards the tenant: trusts the emulator's CA, nothing else."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(idp_server.tls.ca_cert)
    yield session
    session.close()


@pytest.fixture
def entra(settings: Any, idp_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The dashboard signs in with the emulated Contoso tenant."""
    settings.ENTRA_TENANT_ID = TENANT
    settings.ENTRA_CLIENT_ID = people.DASHBOARD_CLIENT_ID
    settings.ENTRA_CLIENT_SECRET = people.DASHBOARD_CLIENT_SECRET
    settings.ENTRA_AUTHORITY_HOST = idp_server.base_url
    settings.ENTRA_CA_BUNDLE = str(idp_server.tls.ca_cert)
    settings.ENTRA_REDIRECT_URI = REDIRECT_URI
    settings.ENTRA_ALLOWED_TENANTS = []
    settings.ENTRA_ROLE_MAP = {
        "operators": "operators",
        "reviewers": "reviewers",
        "auditors": "auditors",
    }
    settings.ENTRA_ROLES_MAX_AGE = 15
    settings.LOCAL_LOGIN = True
    provider.clear_cache()
    yield idp_server
    provider.clear_cache()


def authorize_url(client: Any, next_url: str = "") -> str:
    """Press "Sign in with Microsoft": the dashboard answers with the tenant's authorize URL."""
    response = client.get("/auth/microsoft/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def pick_account(https: requests.Session, url: str, oid: str) -> str:
    """Press the person's "Sign in" button on the tenant's page; returns where the tenant
    sends the browser back (the redirect URI with code and state, or an error)."""
    page = https.get(url)
    assert page.status_code == 200, page.text[:500]
    assert f"value='{oid}'" in page.text  # the person is offered on the page
    parts = urlsplit(url)
    answer = https.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**dict(parse_qsl(parts.query)), "login": oid},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return str(answer.headers["Location"])


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def sign_in(client: Any, https: requests.Session, oid: str, next_url: str = "") -> Any:
    """The whole journey; returns the dashboard's answer at the callback."""
    back = pick_account(https, authorize_url(client, next_url), oid)
    return client.get(callback_path(back))
