"""Deploying from the catalog: the emulated tenant synced, its images approved, two
Marketplace entries added, and the engine run inline (no queue, no real sleeps)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from catalog.choices import ReviewStatus
from catalog.models import CatalogImage
from catalog.services import catalog_sync_all, marketplace_entry_add
from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from vmops.deploy.preflight import AzureFacts, DeployAsk

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeploy test@contoso"
PASSWORD = "Kx7!pLq2#Vw9zR"


@pytest.fixture(autouse=True)
def _inline_engine(settings, monkeypatch):
    from django.core.cache import cache

    cache.clear()  # the form's cached Azure reads belong to one test's emulator
    settings.OPERATION_POLL_SECONDS = 0.01
    monkeypatch.setattr(engine, "enqueue", lambda pk: None)


@pytest.fixture
def images(inventory, reviewer_user) -> dict[str, CatalogImage]:
    """Every custom image approved, and two approved Marketplace entries: by short name."""
    catalog_sync_all()
    CatalogImage.objects.update(review_status=ReviewStatus.APPROVED)
    ubuntu, _ = marketplace_entry_add(
        user=reviewer_user,
        location="westeurope",
        publisher="Canonical",
        offer="0001-com-ubuntu-server-jammy",
        sku="22_04-lts-gen2",
        version="latest",
        approve=True,
    )
    mysql, _ = marketplace_entry_add(
        user=reviewer_user,
        location="westeurope",
        publisher="bitnami",
        offer="mysql",
        sku="mysql",
        version="latest",
        approve=True,
    )
    rabbit, _ = marketplace_entry_add(
        user=reviewer_user,
        location="westeurope",
        publisher="bitnami",
        offer="rabbitmq",
        sku="rabbitmq",
        version="latest",
        approve=True,
    )
    found = {"ubuntu-marketplace": ubuntu, "mysql-plan": mysql, "rabbitmq-plan": rabbit}
    for image in CatalogImage.objects.exclude(pk__in=[ubuntu.pk, mysql.pk, rabbit.pk]):
        found[image.display_name] = image
    return found


def subnet_in(subscription_id: str, region: str = "westeurope") -> str:
    facts = AzureFacts.read(subscription_id)
    return facts.subnets(region)[0][1].id


def ask_for(image: CatalogImage, subscription_id: str, **changes: Any) -> DeployAsk:
    linux = image.os_type != "Windows"
    base = DeployAsk(
        image=image,
        name="dep-vm",
        count=1,
        resource_group="rg-web-prod",
        location="westeurope",
        size="Standard_D2s_v5",
        subnet_id=subnet_in(subscription_id),
        admin_username="azureuser",
        ssh_public_key=KEY if linux else "",
        admin_password="" if linux else PASSWORD,
    )
    return replace(base, **changes)


def run_to_end(operation: Operation, *, rounds: int = 30) -> Operation:
    for _ in range(rounds):
        Operation.objects.filter(pk=operation.pk).update(lease_until=None)
        engine.run(operation_id=operation.pk)
        operation.refresh_from_db()
        if not operation.is_unfinished:
            return operation
    raise AssertionError(f"{operation.kind} did not end: {operation.progress_message}")
