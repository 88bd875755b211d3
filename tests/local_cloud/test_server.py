"""The HTTPS server itself: routing by path, links that come back to it, bounded requests,
a certificate chain strict X.509 checking accepts, the documents the Azure CLI reads, many
clients at once, and ``manage.py emulator_serve``."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from cryptography import x509

from contoso_images.arm_emulator.server import rewrite_links
from contoso_images.arm_emulator.versions import COMPUTE

from .conftest import TENANT, app_token


@pytest.fixture
def bearer(server, https) -> dict[str, str]:
    return {
        "Authorization": "Bearer "
        + app_token(https, server.base_url, "https://management.azure.com/.default")
    }


def test_next_links_and_operation_urls_come_back_here(server, https, emu, bearer):
    server.emulator.page_size = 3
    sub = emu.subscription_ids()[0]
    url = (
        f"{server.base_url}/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines"
        f"?api-version={COMPUTE[0]}"
    )
    names = []
    while url:
        page = https.get(url, headers=bearer).json()
        names += [vm["name"] for vm in page["value"]]
        url = page.get("nextLink")
        assert url is None or url.startswith(server.base_url + "/subscriptions/")
    assert len(names) == len(set(names)) > 3

    running = next(n for n in names if n.startswith("web"))
    resp = https.post(
        f"{server.base_url}/subscriptions/{sub}/resourceGroups/rg-web-prod/providers/"
        f"Microsoft.Compute/virtualMachines/{running}/restart?api-version={COMPUTE[0]}",
        headers=bearer,
    )
    assert resp.status_code == 202
    assert resp.headers["Azure-AsyncOperation"].startswith(server.base_url + "/subscriptions/")
    assert resp.headers["Location"].startswith(server.base_url + "/subscriptions/")


def test_rewrite_links_only_touches_azure_hosts():
    base = "https://127.0.0.1:9"
    headers, body = rewrite_links(
        {"Location": "https://management.azure.com/x?a=1", "ETag": "https://management.azure.com"},
        b'{"NextPageLink": "https://prices.azure.com/api/retail/prices?$skip=100",'
        b' "note": "https://management.azure.com/kept"}',
        base,
    )
    assert headers == {"Location": f"{base}/x?a=1", "ETag": "https://management.azure.com"}
    assert b'"NextPageLink": "https://127.0.0.1:9/api/retail/prices?$skip=100"' in body
    assert b'"note": "https://management.azure.com/kept"' in body


def test_retail_prices_path_goes_to_the_prices_host_without_a_token(server, https, emu):
    resp = https.get(
        f"{server.base_url}/api/retail/prices?$filter=serviceName eq 'Virtual Machines'"
    )
    assert resp.status_code != 401
    [entry] = emu.request_log()
    assert entry.path.startswith("/api/retail/prices")


def test_request_bodies_are_bounded(server, https, bearer):
    server.max_body_bytes = 1024
    url = f"{server.base_url}/subscriptions?api-version=2022-12-01"
    resp = https.put(url, data=b"x" * 2048, headers=bearer)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "RequestEntityTooLarge"

    def chunks():
        yield b"{}"

    resp = https.put(url, data=chunks(), headers=bearer)
    assert resp.status_code == 411


def test_the_chain_passes_strict_x509_checks(server):
    """What Python 3.13 (and so the Azure CLI) enforces: critical CA basicConstraints, AKI."""
    ctx = ssl.create_default_context(cafile=str(server.tls.ca_cert))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    ca = x509.load_pem_x509_certificate(server.tls.ca_cert.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    leaf = x509.load_pem_x509_certificate(server.tls.server_cert.read_bytes())
    leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    # The bundle is the public roots plus this CA: REQUESTS_CA_BUNDLE may point at it.
    bundle = server.ca_bundle.read_text()
    assert server.tls.ca_cert.read_text().strip() in bundle and bundle.count("BEGIN CERT") > 1


def test_a_client_that_does_not_trust_the_ca_fails_closed(server):
    with requests.Session() as session:
        session.trust_env = False  # certifi's public roots only
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"{server.base_url}/metadata/endpoints?api-version=2015-01-01", timeout=5)


def test_cloud_metadata_tenants_and_subscriptions_for_the_cli(server, https, bearer):
    doc = https.get(f"{server.base_url}/metadata/endpoints?api-version=2015-01-01").json()
    assert doc["authentication"]["loginEndpoint"] == f"{server.base_url}/"
    assert doc["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    assert doc["graphEndpoint"] and doc["galleryEndpoint"]
    assert https.get(f"{server.base_url}/metadata/endpoints").status_code == 400
    tenants = https.get(f"{server.base_url}/tenants?api-version=2022-12-01", headers=bearer).json()
    assert [t["tenantId"] for t in tenants["value"]] == [TENANT]
    assert tenants["value"][0]["id"] == f"/tenants/{TENANT}"
    subs = https.get(
        f"{server.base_url}/subscriptions?api-version=2022-12-01", headers=bearer
    ).json()
    assert {s["tenantId"] for s in subs["value"]} == {TENANT}
    # The CLI's resource (with its double slash) gets a token ARM accepts.
    cli = app_token(https, server.base_url, "https://management.core.windows.net//.default")
    assert (
        https.get(
            f"{server.base_url}/tenants?api-version=2022-12-01",
            headers={"Authorization": f"Bearer {cli}"},
        ).status_code
        == 200
    )


def test_many_clients_at_once(server, emu, bearer):
    url = f"{server.base_url}/subscriptions?api-version=2022-12-01"

    def fetch(_: int) -> int:
        with requests.Session() as session:
            session.trust_env = False
            return session.get(
                url, headers=bearer, verify=str(server.tls.ca_cert), timeout=10
            ).status_code

    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(fetch, range(48)))
    assert statuses == [200] * 48
    assert len(emu.request_log()) == 48


def test_idle_keep_alive_connections_do_not_slip_past_a_refusal(server, https, emu, bearer):
    url = f"{server.base_url}/subscriptions?api-version=2022-12-01"
    assert https.get(url, headers=bearer).status_code == 200  # a pooled connection now
    emu.network.refuse_connections()
    assert emu.network.wait_applied()
    with pytest.raises(requests.exceptions.ConnectionError, match="refused"):
        https.get(url, headers=bearer, timeout=5)
    emu.network.refuse_connections(False)
    assert emu.network.wait_applied()
    assert https.get(url, headers=bearer).status_code == 200
    assert [e.status for e in emu.request_log()] == [200, 200]


@pytest.mark.slow
def test_manage_py_emulator_serve(tmp_path, tls_dir):
    from django.conf import settings

    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "emulator_serve",
            "--port",
            "0",
            "--state",
            str(tmp_path / "state.sqlite3"),
            "--tls-dir",
            str(tls_dir),
        ],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "DJANGO_DEBUG": "true"},
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        base = text.split("Serving ", 1)[1].split(" on ", 1)[1].split()[0]
        assert f"CA certificate        {tls_dir / 'ca.pem'}" in text
        assert f"AZURE_AUTHORITY_HOST={base}" in text
        # The seeded secret is emulator-only, yet not printed unless asked (--show-secret).
        from contoso_images.arm_emulator.identity.seed import GATEWAY_CLIENT_SECRET

        assert GATEWAY_CLIENT_SECRET not in text
        with requests.Session() as session:
            session.trust_env = False
            doc = session.get(
                f"{base}/{TENANT}/v2.0/.well-known/openid-configuration",
                verify=str(tls_dir / "ca.pem"),
                timeout=10,
            ).json()
        assert doc["issuer"] == f"{base}/{TENANT}/v2.0"
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0, out
    assert "Stopped." in out


def test_a_full_pool_frees_idle_keep_alive_connections(tmp_path, tls_dir):
    """Each open connection holds a worker; when all are taken, one waiting for nothing is
    closed so a new client is served now, not after the idle timeout."""
    from contoso_images.arm_emulator.server import IDLE_TIMEOUT, EmulatorServer

    srv = EmulatorServer(tmp_path / "state.sqlite3", port=0, tls_dir=tls_dir, workers=2).start()
    sessions = [requests.Session() for _ in range(3)]
    try:
        url = f"{srv.base_url}/metadata/endpoints?api-version=2015-01-01"
        for session in sessions[:2]:
            session.trust_env = False
            assert session.get(url, verify=str(srv.tls.ca_cert)).status_code == 200
        sessions[2].trust_env = False
        started = time.monotonic()
        resp = sessions[2].get(url, verify=str(srv.tls.ca_cert), timeout=IDLE_TIMEOUT * 2)
        assert resp.status_code == 200
        assert time.monotonic() - started < IDLE_TIMEOUT / 2
        # The client whose idle connection was closed simply reconnects.
        assert sessions[0].get(url, verify=str(srv.tls.ca_cert)).status_code == 200
    finally:
        for session in sessions:
            session.close()
        srv.shutdown()
