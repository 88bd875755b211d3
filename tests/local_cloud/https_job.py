"""The local-cloud job: browser journeys on the gateway's production path, over HTTPS.

With ``CONTOSO_LOCAL_CLOUD=1`` in the environment, ``tests/conftest.py`` registers the
fixtures below, and every test marked ``browser`` runs against the embedded tenant served by
``EmulatorServer`` on a free port instead of the in-process transport: ``AZURE_MODE=azure``,
``AZURE_CLOUD=custom``, ``ClientSecretCredential`` getting real RS256 tokens from the emulated
Entra ID, Resource Manager checking each one, TLS verified against the emulator's CA (nothing
turns verification off). ``.ci/run`` runs the VM, capture and review journeys this way.

Each test keeps its own state file (the one ``_isolated_emulator_state`` chose, which the
``emulator`` fixture seeds), so the server is started per test on that file; the CA is made
once per session. At teardown every Resource Manager request of the test must have been
answered to the gateway's service principal (the request log's ``caller``), none refused with
401; at the end of the session at least one such request must have been made, so a job that
silently fell back to the in-process transport fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENV = "CONTOSO_LOCAL_CLOUD"
PRICES_PATH = "/api/retail/prices"


def enabled() -> bool:
    return os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on")


@pytest.fixture(scope="session")
def local_cloud_job_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-cloud-tls")


@pytest.fixture(scope="session")
def local_cloud_job_totals() -> Iterator[dict[str, int]]:
    totals = {"tests": 0, "requests": 0}
    yield totals
    if totals["tests"]:
        print(
            f"\nlocal cloud: {totals['tests']} tests over HTTPS, {totals['requests']} Resource "
            "Manager requests, each with a token of the gateway's service principal"
        )
        assert totals["requests"] > 0, (
            "No Resource Manager request reached the HTTPS emulator: the gateway did not run "
            "its production path."
        )


@pytest.fixture(autouse=True)
def local_cloud_job(
    request: pytest.FixtureRequest,
    _isolated_emulator_state: None,
    settings: Any,
    local_cloud_job_tls: Path,
    local_cloud_job_totals: dict[str, int],
) -> Iterator[Any]:
    """Serve this test's state file over HTTPS and point the gateway at it (browser tests)."""
    if request.node.get_closest_marker("browser") is None:
        yield None
        return

    from contoso_images.arm_emulator.identity import seed as people
    from contoso_images.arm_emulator.server import EmulatorServer
    from contoso_images.azure import clear_client_cache

    server = EmulatorServer(
        settings.AZURE_EMULATOR_STATE, port=0, tls_dir=local_cloud_job_tls, workers=16
    )
    server.start()
    base = server.base_url
    settings.AZURE_MODE = "azure"
    settings.AZURE_CLOUD = "custom"
    settings.AZURE_RESOURCE_MANAGER_ENDPOINT = base
    settings.AZURE_AUTHORITY_HOST = base
    # Resource Manager's own audience: it survives the emulator fixture's reset, which
    # forgets the server's origin as an extra audience.
    settings.AZURE_CREDENTIAL_SCOPE = "https://management.azure.com/.default"
    settings.AZURE_TENANT_ID = people.CONTOSO_TENANT_ID
    settings.AZURE_CLIENT_ID = people.GATEWAY_CLIENT_ID
    settings.AZURE_CLIENT_SECRET = people.GATEWAY_CLIENT_SECRET
    settings.AZURE_CA_BUNDLE = str(server.tls.ca_cert)
    settings.RETAIL_PRICES_ENDPOINT = base
    clear_client_cache()
    try:
        yield server
    finally:
        clear_client_cache()
        server.shutdown()
    arm = [e for e in server.emulator.request_log() if not e.path.startswith(PRICES_PATH)]
    refused = [f"{e.method} {e.path} → {e.status}" for e in arm if e.status == 401]
    strangers = [
        f"{e.method} {e.path} by {e.caller or 'nobody'}"
        for e in arm
        if e.caller != people.GATEWAY_CLIENT_ID
    ]
    assert not refused, f"Resource Manager refused the gateway's token: {refused[:5]}"
    assert not strangers, f"Requests without the gateway's token: {strangers[:5]}"
    local_cloud_job_totals["tests"] += 1
    local_cloud_job_totals["requests"] += len(arm)
