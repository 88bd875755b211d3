"""Deployment figures: the ARM requests one "Create VM" makes (pre-flight and create), the
form page's time, and a batch on the real task cluster's workers.

``manage.py benchmark --only deploy`` runs :func:`run` in the sandbox (a throw-away SQLite
database, a temporary ARM emulator); ``batch`` is the size of the batch measured on the
cluster (1–10, the form's limit).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.choices import ReviewStatus
from catalog.models import CatalogImage
from catalog.services import catalog_sync_all
from contoso_images import azure
from contoso_images.core.roles import OPERATORS
from contoso_images.devtools.cluster import cluster_environment, stop_cluster, wait_for_log
from contoso_images.operations import engine
from contoso_images.operations.models import Operation, OperationStatus
from vmops.deploy.preflight import AzureFacts
from vmops.models import Deployment, VirtualMachine
from vmops.services import inventory_sync_all

Rows = list[tuple[str, str]]
HOST = "localhost"
IMAGE = "img-ubuntu2204-20240915"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchmark bench@contoso"
REQUESTS_PER_FIGURE = 5
#: The emulator's create time for the batch on the cluster: long enough to need hand-offs.
BATCH_CREATE_SECONDS = 5
CLUSTER_START_TIMEOUT = 60.0


def run(
    *, batch: int = 10, cluster: bool = True, progress: Callable[[str], None] | None = None
) -> Rows:
    """Return ``(label, value)`` rows for the benchmark command."""
    from contoso_images.arm_emulator import Emulator

    if VirtualMachine.objects.exists() or CatalogImage.objects.exists():
        raise RuntimeError("This benchmark needs an empty database; run `manage.py benchmark`.")
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="deploy-bench-") as tmp:
        state = Path(tmp) / "arm-emulator.sqlite3"
        emulator = Emulator(str(state))
        emulator.reset()
        emulator.seed_contoso_pilot()
        emulator.set_durations(all=0)
        with override_settings(
            AZURE_MODE="emulator", AZURE_EMULATOR_STATE=str(state), AZURE_SUBSCRIPTION_IDS=[]
        ):
            azure.clear_client_cache()
            try:
                return _measure(
                    emulator, batch=max(1, min(10, batch)), cluster=cluster, tmp=Path(tmp), say=say
                )
            finally:
                azure.clear_client_cache()


def _measure(
    emulator: Any, *, batch: int, cluster: bool, tmp: Path, say: Callable[[str], None]
) -> Rows:
    say("syncing the pilot tenant")
    inventory_sync_all()
    catalog_sync_all()
    image = CatalogImage.objects.get(name=IMAGE)
    CatalogImage.objects.filter(pk=image.pk).update(review_status=ReviewStatus.APPROVED)
    sub = VirtualMachine.objects.first().subscription.subscription_id  # type: ignore[union-attr]
    emulator.set_quota(sub, "westeurope", "standardDSv5Family", 200)
    emulator.set_quota(sub, "westeurope", "cores", 400)
    client = _operator_client()
    form_url = reverse("vmops:vm_deploy") + f"?image={image.pk}"
    subnet = AzureFacts.read(sub).subnets("westeurope")[0][1].id

    say("the form page")
    cache.clear()
    emulator.clear_request_log()
    started = time.perf_counter()
    _get(client, form_url)
    cold_ms = (time.perf_counter() - started) * 1000
    cold_requests = _kinds(emulator)
    times, queries = [], 0
    emulator.clear_request_log()
    for _ in range(REQUESTS_PER_FIGURE):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            _get(client, form_url)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    warm_requests = _kinds(emulator)

    say("one deployment")
    emulator.clear_request_log()
    with mock.patch.object(engine, "enqueue", lambda pk: None):
        response = client.post(form_url, _form(image, subnet, "bench-one", 1))
    if response.status_code != 302:
        raise RuntimeError(f"the deploy form answered {response.status_code}")
    preflight = _kinds(emulator)
    deployment = Deployment.objects.latest("pk")
    emulator.clear_request_log()
    with override_settings(OPERATION_POLL_SECONDS=0.01):
        for item in deployment.items:
            _to_end(item["operation"])
    create = _kinds(emulator)
    rows: Rows = [
        ("form page, first GET (ms)", f"{cold_ms:.0f}"),
        ("form page, first GET: ARM requests", _describe(cold_requests)),
        (
            "form page, next 5 GETs (reads cached 60 s): median (ms) / queries",
            f"{statistics.median(times):.0f} / {queries}",
        ),
        ("form page, next 5 GETs: ARM requests", _describe(warm_requests)),
        ("pre-flight of one VM (the POST): ARM requests", _describe(preflight)),
        ("one deployment on the engine: ARM requests", _describe(create)),
    ]
    if cluster:
        say(f"a batch of {batch} on the cluster")
        rows += _batch_on_cluster(client, emulator, form_url, image, subnet, batch, tmp)
    return rows


def _batch_on_cluster(
    client: Client,
    emulator: Any,
    form_url: str,
    image: CatalogImage,
    subnet: str,
    batch: int,
    tmp: Path,
) -> Rows:
    from django_q.models import Schedule

    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))
    emulator.set_durations(vm_create=BATCH_CREATE_SECONDS)
    log_path = tmp / "qcluster.log"
    with log_path.open("wb") as log:
        cluster = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
            cwd=settings.BASE_DIR,
            env=cluster_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_log(log_path, "running.", cluster, timeout=CLUSTER_START_TIMEOUT)
            emulator.clear_request_log()
            started = time.perf_counter()
            response = client.post(form_url, _form(image, subnet, "bench-batch", batch))
            if response.status_code != 302:
                raise RuntimeError(f"the deploy form answered {response.status_code}")
            deployment = Deployment.objects.latest("pk")
            ids = [item["operation"] for item in deployment.items]
            deadline = time.monotonic() + batch * BATCH_CREATE_SECONDS + 120
            while Operation.objects.filter(pk__in=ids, finished_at__isnull=True).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("the batch did not finish")
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        except Exception:
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop_cluster(cluster)
    ops = Operation.objects.filter(pk__in=ids)
    succeeded = ops.filter(status=OperationStatus.SUCCEEDED).count()
    puts = _kinds(emulator)["PUT VM"]
    workers = settings.Q_WORKERS
    return [
        (
            f"batch of {batch}, {BATCH_CREATE_SECONDS} s each, on {workers} workers: wall time (s)",
            f"{elapsed:.1f}",
        ),
        (
            "  succeeded / PUTs / hand-offs",
            f"{succeeded} / {puts} / {sum(ops.values_list('handoffs', flat=True))}",
        ),
    ]


def _form(image: CatalogImage, subnet: str, name: str, count: int) -> dict[str, Any]:
    return {
        "image": image.pk,
        "name": name,
        "count": count,
        "resource_group": "rg-web-prod",
        "location": "westeurope",
        "size": "Standard_D2s_v5",
        "subnet": subnet,
        "admin_username": "azureuser",
        "ssh_public_key": KEY,
        "tags": "env=bench",
    }


def _to_end(pk: int) -> None:
    for _ in range(50):
        Operation.objects.filter(pk=pk).update(lease_until=None)
        engine.run(operation_id=pk)
        if not Operation.objects.get(pk=pk).is_unfinished:
            return
    raise RuntimeError(f"operation {pk} did not end")


def _kinds(emulator: Any) -> Counter[str]:
    counts: Counter[str] = Counter()
    for entry in emulator.request_log():
        path = entry.path.split("?")[0].lower()
        if "/skus" in path:
            counts["GET SKUs"] += 1
        elif "/usages" in path:
            counts["GET usages"] += 1
        elif path.endswith("/virtualnetworks"):
            counts["GET virtual networks"] += 1
        elif "/operations/" in path or "/operationresults/" in path or "asyncoperation" in path:
            counts["GET operation status"] += 1
        elif "/virtualmachines/" in path:
            counts[f"{entry.method} VM"] += 1
        else:
            counts[f"{entry.method} other"] += 1
    return counts


def _describe(kinds: Counter[str]) -> str:
    total = sum(kinds.values())
    return f"{total}: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


def _operator_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="benchmark-deployer")
    user.groups.add(Group.objects.get(name=OPERATORS))
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response
