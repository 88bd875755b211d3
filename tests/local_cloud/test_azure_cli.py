"""A second real client: the Azure CLI, from PyPI, against the embedded tenant over HTTPS.

The CLI is never a project dependency: the test installs ``azure-cli`` into a virtual
environment of its own under ``var/azure-cli/`` (kept between runs, so only the first run
pays the install; ``AZURE_CLI_VENV`` moves it). It registers the local cloud the way
azure-facts §16.4 describes (``az cloud register`` with only the Resource Manager endpoint,
the rest read from ``/metadata/endpoints``; ``core.instance_discovery=false``, since
Microsoft's instance discovery cannot know a private authority), trusts the emulator's CA
through ``REQUESTS_CA_BUNDLE`` (TLS verification stays on), signs in as the gateway's service
principal, then runs ``az vm list -d``, ``az vm deallocate``, ``az vm generalize``,
``az image create`` and ``az sig image-version show`` and compares what the dashboard —
synced over the same HTTPS production path — then shows.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from contoso_images.arm_emulator.identity import seed as people

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

AZURE_CLI = "azure-cli==2.91.0"
INSTALL_TIMEOUT = 1200
COMMAND_TIMEOUT = 180
CLOUD = "ContosoLocal"
# The portal's words for each PowerState/* (the CLI prints "VM <code>"), as the dashboard
# writes them.
DASHBOARD_POWER_STATE = {
    "VM running": "Running",
    "VM starting": "Starting",
    "VM stopping": "Stopping",
    "VM stopped": "Stopped (still billed)",
    "VM deallocating": "Deallocating",
    "VM deallocated": "Stopped (deallocated)",
}


def cli_venv() -> Path:
    return Path(
        os.environ.get("AZURE_CLI_VENV") or Path(django_settings.BASE_DIR, "var", "azure-cli")
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time (two test runs may share the checkout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_azure_cli(venv: Path) -> tuple[Path, float]:
    """The ``az`` of a virtual environment holding ``AZURE_CLI``, and the seconds spent
    installing it now (0 when the cached one was reused). The marker file is written last, so
    an interrupted install is redone, never trusted."""
    az, marker = venv / "bin" / "az", venv / "installed.txt"
    with _locked(venv.with_name(venv.name + ".lock")):
        if az.exists() and marker.exists() and marker.read_text().strip() == AZURE_CLI:
            return az, 0.0
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        install = subprocess.run(
            [*pip, "install", "--no-input", "--quiet", AZURE_CLI],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if install.returncode != 0:
            pytest.fail(f"pip install {AZURE_CLI} failed:\n{install.stdout}\n{install.stderr}")
        marker.write_text(AZURE_CLI + "\n")
        return az, time.monotonic() - started


@pytest.fixture(scope="session")
def azure_cli() -> Path:
    az, seconds = ensure_azure_cli(cli_venv())
    if seconds:
        print(f"\nInstalled {AZURE_CLI} into {az.parent.parent} in {seconds:.0f} s")
    return az


class Az:
    """Runs the CLI with its own config directory, trusting only what it is told."""

    def __init__(self, az: Path, home: Path, ca_bundle: Path) -> None:
        self.az = az
        self.env = {
            "PATH": f"{az.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "AZURE_CONFIG_DIR": str(home / ".azure"),
            # The emulator's CA (plus the public roots): verification stays on.
            "REQUESTS_CA_BUNDLE": str(ca_bundle),
            # Nothing leaves this machine: no telemetry upload, no survey, no colours.
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
        }
        self.timings: list[tuple[str, float]] = []

    def __call__(self, *args: str, parse: bool = True) -> Any:
        started = time.monotonic()
        done = subprocess.run(
            [str(self.az), *args, "--only-show-errors", *(["-o", "json"] if parse else [])],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        self.timings.append((" ".join(args[:3]), time.monotonic() - started))
        assert done.returncode == 0, f"az {' '.join(args)} failed:\n{done.stderr}"
        return json.loads(done.stdout) if parse and done.stdout.strip() else done.stdout


@pytest.fixture
def az(azure_cli: Path, local_cloud: Any, tmp_path: Path) -> Iterator[Az]:
    """The CLI signed in to the local cloud as the gateway's service principal."""
    run = Az(azure_cli, tmp_path, local_cloud.ca_bundle)
    run(
        "cloud",
        "register",
        "-n",
        CLOUD,
        "--endpoint-resource-manager",
        f"{local_cloud.base_url}/",
        parse=False,
    )
    run("cloud", "set", "-n", CLOUD, parse=False)
    run("config", "set", "core.instance_discovery=false", parse=False)
    accounts = run(
        "login",
        "--service-principal",
        "-u",
        people.GATEWAY_CLIENT_ID,
        "-p",
        people.GATEWAY_CLIENT_SECRET,
        "--tenant",
        people.CONTOSO_TENANT_ID,
    )
    assert {a["tenantId"] for a in accounts} == {people.CONTOSO_TENANT_ID}
    assert all(a["cloudName"] == CLOUD for a in accounts)
    yield run
    print("az timings: " + ", ".join(f"{name} {secs:.1f} s" for name, secs in run.timings))


def dashboard_vms(client: Any) -> dict[str, dict[str, str]]:
    """The VM list's CSV export (what an operator downloads), by resource id."""
    resp = client.get("/vms/export.csv")
    assert resp.status_code == 200
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    return {row["Resource id"].lower(): row for row in csv.DictReader(io.StringIO(text))}


def test_the_azure_cli_works_the_local_cloud_and_the_dashboard_shows_what_it_did(
    az, emu, operator_client, reviewer_user
):
    emu.set_durations(all=0)
    sub = az("account", "show")["id"]

    # az vm list -d: the same VMs, places, sizes and power states as the dashboard.
    listed = az("vm", "list", "-d")
    assert len(listed) >= 10
    call_command("sync_inventory", stdout=io.StringIO())
    shown = dashboard_vms(operator_client)
    for vm in listed:
        row = shown[vm["id"].lower()]
        assert row["Subscription id"] == sub
        assert (row["Name"], row["Resource group"], row["Location"]) == (
            vm["name"],
            vm["resourceGroup"],
            vm["location"],
        )
        assert row["Size"] == vm["hardwareProfile"]["vmSize"]
        assert row["OS"] == vm["storageProfile"]["osDisk"]["osType"]
        assert row["Power state"] == DASHBOARD_POWER_STATE[vm["powerState"]], vm["name"]
        assert vm["privateIps"], f"{vm['name']}: the CLI read no NIC"
    assert {r["Name"] for r in shown.values() if r["Subscription id"] == sub} == {
        vm["name"] for vm in listed
    }

    # A VM stopped but still billed: deallocate it, then generalize it with the CLI.
    stopped = next(vm for vm in listed if vm["powerState"] == "VM stopped")
    name, group = stopped["name"], stopped["resourceGroup"]
    az("vm", "deallocate", "-g", group, "-n", name, parse=False)
    az("vm", "generalize", "-g", group, "-n", name, parse=False)
    call_command("sync_inventory", stdout=io.StringIO())
    row = dashboard_vms(operator_client)[stopped["id"].lower()]
    assert (row["Power state"], row["Generalized"]) == ("Stopped (deallocated)", "yes")
    page = operator_client.get(f"/vms/?q={name}").content.decode()
    assert "Stopped (deallocated)" in page

    # A managed image of it, and a gallery version read back: the catalog agrees.
    # A Gen 2 VM needs --hyper-v-generation V2 (the CLI's default is V1).
    view = az("vm", "get-instance-view", "-g", group, "-n", name)
    generation = view["instanceView"]["hyperVGeneration"]
    image = az(
        "image",
        "create",
        "-g",
        "rg-images",
        "-n",
        f"img-{name}-cli",
        "--source",
        stopped["id"],
        "--hyper-v-generation",
        generation,
    )
    assert image["provisioningState"] == "Succeeded"
    version = az(
        "sig",
        "image-version",
        "show",
        "-g",
        "rg-images",
        "-r",
        "gal_contoso",
        "-i",
        "ubuntu2204-base",
        "-e",
        "1.1.0",
    )
    call_command("sync_catalog", stdout=io.StringIO())
    operator_client.force_login(reviewer_user)

    image_page = _catalog_page(operator_client, image["id"])
    assert f"img-{name}-cli" in image_page
    assert image["id"] in image_page
    assert {"V2": "Gen 2 (UEFI)", "V1": "Gen 1 (BIOS)"}[generation] in image_page
    assert stopped["id"] in image_page  # "Captured from VM" / the source
    os_disk = image["storageProfile"]["osDisk"]
    assert f"{os_disk['osType']} ({os_disk['osState'].lower()})" in image_page

    version_page = _catalog_page(operator_client, version["id"])
    assert version["id"] in version_page
    for region in version["publishingProfile"]["targetRegions"]:
        assert region["name"] in version_page
    # The seeded ubuntu2204-base 1.1.0 is excluded from latest: both say so.
    assert version["publishingProfile"]["excludeFromLatest"] is True
    assert "Excluded from latest" in version_page


def _catalog_page(client: Any, resource_id: str) -> str:
    resp = client.get("/catalog/resource/", {"id": resource_id}, follow=True)
    assert resp.status_code == 200, resource_id
    return resp.content.decode()
